"""The graph's nodes lead to their entities, and a location is registered through the form.

Registering uses a server of its own (a config that allows `file` locations and an
empty catalog), so the shared demo server's catalog stays as the other tests expect.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import Browsing, Server, _start, _stop, screenshot

pytestmark = pytest.mark.browser


def test_clicking_a_graph_node_opens_its_entity(browsing: Browsing) -> None:
    page = browsing.visit("/catalog/default/component/accounts-service/dependencies", "graph-tab")
    node = page.locator('svg.gr-graph a[href="/catalog/default/group/identity-accounts"]')
    expect(node).to_have_count(1)
    node.click()
    page.wait_for_url("**/catalog/default/group/identity-accounts")
    expect(page.locator("h1")).to_contain_text("Identity")


def test_graph_depth_and_relations_change_the_drawing(browsing: Browsing) -> None:
    page = browsing.visit(
        "/catalog-graph?rootEntityRefs[]=component:default/accounts-service", "catalog-graph"
    )
    nodes = page.locator("svg.gr-graph a")
    one = nodes.count()
    page.select_option("#graph-depth", "2")  # applies at once (the form submits on change)
    page.wait_for_url("**maxDepth=2**")
    assert nodes.count() > one
    page.goto(
        "/catalog-graph?rootEntityRefs[]=component:default/accounts-service"
        "&selectedRelations[]=ownedBy"
    )
    expect(nodes).to_have_count(2)
    expect(page.locator('input[value="ownedBy"]')).to_be_checked()
    expect(page.locator('input[value="dependsOn"]')).not_to_be_checked()
    refs = set(nodes.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert "/catalog/default/group/identity-accounts" in refs
    browsing.check_dark_too(page, "catalog-graph-owned")


@pytest.fixture(scope="module")
def registering_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("register")
    catalog = folder / "team" / "catalog-info.yaml"
    catalog.parent.mkdir()
    catalog.write_text(
        textwrap.dedent(
            """\
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: browser-registered
              description: Registered through the form by a browser test.
            spec:
              type: service
              lifecycle: experimental
              owner: team-a
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: Not A Valid Name!
            spec:
              type: service
              lifecycle: production
              owner: team-a
            """
        )
    )
    (folder / "greenroom.yaml").write_text("catalog:\n  allowedLocationTypes: [url, file]\n")
    server = _start(folder, "-c", str(folder / "greenroom.yaml"))
    yield server, catalog
    _stop(server)


def test_registering_a_location_through_the_form(
    browsing: Browsing, registering_server: tuple[Server, Path]
) -> None:
    server, catalog = registering_server
    page = browsing.new_page(base_url=server.url)
    page.goto("/catalog-import")
    page.fill("#import-target", str(catalog))
    page.get_by_role("button", name="Analyze").click()
    page.wait_for_url("**/catalog-import/analyze")
    expect(page.locator("main")).to_contain_text("browser-registered")
    expect(page.locator("main")).to_contain_text("Not A Valid Name!")  # its error, with the line
    browsing.axe.check(page, "/catalog-import/analyze")
    screenshot(page, "register-analyze")
    assert server.get("/api/catalog/locations").json() == []  # a dry run stores nothing

    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/catalog-import/locations/**")
    browsing.axe.check(page, page.url)
    deadline = time.monotonic() + 30
    while "browser-registered" not in page.locator("main").inner_text():
        assert time.monotonic() < deadline, "the registered entity never arrived"
        time.sleep(0.5)
        page.reload()
    screenshot(page, "register-done")
    page.get_by_role("link", name="browser-registered").first.click()
    page.wait_for_url("**/catalog/default/component/browser-registered")
    expect(page.locator("h1")).to_have_text("browser-registered")
