"""A plugin module named in the config adds an entity tab, a nav item and a page."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from greenroom.app import create_app
from greenroom.cli import demo_config
from greenroom.config import config_from_dict
from greenroom.portal import Portal

PLUGIN = """
from pathlib import Path

from fastapi import APIRouter, Request

from greenroom.catalog.pages.tabs import EntityFilter, EntityTab
from greenroom.hookspecs import hookimpl
from greenroom.web.pages import NavItem, PageRouter, pages_of


def on_call(portal, request, entity):
    return {"service": entity["metadata"]["annotations"]["pagerduty.com/service-id"]}


@hookimpl
def entity_tabs(portal):
    return [
        EntityTab(
            "on-call",
            "On call",
            "oncall/tab.html",
            on_call,
            applies=EntityFilter(annotations=("pagerduty.com/service-id",)),
            order=60,
        )
    ]


@hookimpl
def nav_items(portal):
    return [NavItem("On call", "/on-call", "alert", order=40)]


@hookimpl
def page_routers(portal):
    router = APIRouter()

    @router.get("/on-call")
    def index(request: Request):
        return pages_of(request).render(request, "oncall/index.html", {"teams": 3}, title="On call")

    return [PageRouter(router, templates=Path(__file__).parent / "templates")]
"""


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    (tmp_path / "oncall_plugin.py").write_text(textwrap.dedent(PLUGIN))
    templates = tmp_path / "templates" / "oncall"
    templates.mkdir(parents=True)
    (templates / "tab.html").write_text("<p>PagerDuty service <code>{{ tab.service }}</code></p>")
    (templates / "index.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>On call</h1><p>{{ teams }} teams</p>{% endblock %}'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    config = config_from_dict(
        {"dataDir": str(tmp_path / "data"), "plugins": ["oncall_plugin"]}, base_dir=tmp_path
    )
    portal = Portal(demo_config(config))
    portal.migrate()
    portal.catalog.process_until_idle()
    return TestClient(create_app(portal, run_workers=False))


def test_a_plugin_tab_shows_only_where_its_filter_holds(client: TestClient) -> None:
    with_annotation = client.get("/catalog/default/component/accounts-service?format=json").json()
    assert "On call" in [t["title"] for t in with_annotation["tabs"]]
    tab = client.get("/catalog/default/component/accounts-service/on-call")
    assert tab.status_code == 200 and "PagerDuty service <code>PQY9H77</code>" in tab.text
    group = client.get("/catalog/default/group/identity-accounts?format=json").json()
    assert "On call" not in [t["title"] for t in group["tabs"]]
    assert client.get("/catalog/default/group/identity-accounts/on-call").status_code == 404


def test_a_plugin_page_gets_the_layout_its_nav_item_and_a_json_twin(client: TestClient) -> None:
    page = client.get("/on-call")
    assert page.status_code == 200
    assert '<a class="nav-item" href="/on-call" aria-current="page">' in page.text
    assert "3 teams" in page.text
    assert client.get("/on-call?format=json").json() == {"teams": 3}
    assert 'href="/on-call"' in client.get("/").text
