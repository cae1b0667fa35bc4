"""The catalog's pages in a real browser: home, filters, pages, entity tabs, stars, search.

Every page opened is checked with axe-core in the light and the dark theme
(see conftest.py) and screenshotted to artifacts/screenshots/.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Page, expect

from .conftest import Browsing, Server, screenshot

pytestmark = pytest.mark.browser

ENTITY_KINDS = ["component", "api", "group", "user", "system", "domain", "resource", "template"]


def params(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def shown_total(page: Page) -> int:
    """The count in the catalog page's subtitle ("47 entities")."""
    text = page.locator(".page-header .subtitle").inner_text()
    match = re.match(r"\s*([\d,]+)", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def row_names(page: Page) -> list[str]:
    return page.locator("table.entities tbody a.entity-name").all_inner_texts()


def column(page: Page, heading: str) -> list[str]:
    """The cells of one column of the entity table, by its heading."""
    headings = [
        h.strip().split(" ")[0].lower()
        for h in page.locator("table.entities thead th").all_inner_texts()
    ]
    index = headings.index(heading.lower())
    return [
        cell.strip()
        for cell in page.locator(
            f"table.entities tbody tr td:nth-child({index + 1})"
        ).all_inner_texts()
    ]


def slug(url: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", urlsplit(url).path.lower()).strip("-") or "home"


def test_home_shows_the_kinds_with_their_counts_and_finds_an_entity(
    browsing: Browsing, server: Server
) -> None:
    page = browsing.visit("/", "home", dark_screenshot=True)
    shown = {
        stat.locator("span").inner_text(): int(stat.locator("strong").inner_text().replace(",", ""))
        for stat in page.locator(".stat-grid a.stat").all()
    }
    assert shown == server.kind_counts()
    search = page.get_by_role("searchbox", name="Find a service, API, team or person")
    expect(search).to_be_visible()
    target = server.first_entity("component")
    search.fill(target["name"])
    search.press("Enter")
    page.wait_for_url(f"**{target['url']}")
    expect(page.locator("h1")).to_be_visible()


def test_a_facet_checkbox_and_the_text_filter_update_the_url_and_the_results(
    browsing: Browsing, server: Server
) -> None:
    page = browsing.visit("/catalog", "catalog", dark_screenshot=True)
    before = shown_total(page)
    lifecycles = page.locator("fieldset.facet", has=page.locator("legend", has_text="Lifecycle"))
    with page.expect_navigation():
        lifecycles.get_by_label("production").check()  # applies at once, with JavaScript
    query = params(page.url)
    assert ("filters[kind]", "component") in query
    assert ("filters[lifecycles]", "production") in query
    production = shown_total(page)
    assert 0 < production < before
    assert production == server.json(page.url.removeprefix(server.url))["total"]
    assert set(column(page, "Lifecycle")) == {"production"}
    browsing.check_dark_too(page, "catalog-production")

    text = page.get_by_label("Filter by text")
    text.fill("gateway")
    with page.expect_navigation():
        text.press("Enter")
    query = params(page.url)
    assert ("filters[text]", "gateway") in query
    assert ("filters[lifecycles]", "production") in query  # the other filters stay
    names = row_names(page)
    assert names and all("gateway" in name for name in names)
    assert shown_total(page) == len(names) < production
    expect(page.get_by_label("Filter by text")).to_have_value("gateway")
    browsing.check_dark_too(page, "catalog-text")


def test_next_and_previous_pages(browsing: Browsing) -> None:
    page = browsing.visit("/catalog?filters[kind]=all")
    first = row_names(page)
    assert len(first) == 25
    expect(page.locator("a[rel=prev]")).to_have_count(0)
    with page.expect_navigation():
        page.locator("a[rel=next]").click()
    assert dict(params(page.url)).get("cursor")
    second = row_names(page)
    assert second and not set(second) & set(first)
    browsing.check_dark_too(page, "catalog-page-2")
    with page.expect_navigation():
        page.locator("a[rel=prev]").click()
    assert row_names(page) == first


@pytest.mark.parametrize("kind", ENTITY_KINDS)
def test_entity_page_and_every_tab_it_lists(browsing: Browsing, server: Server, kind: str) -> None:
    """Tabs are found on the page, so tabs added later are visited too."""
    entity = server.first_entity(kind)
    page = browsing.visit(entity["url"], f"entity-{kind}", dark_screenshot=kind == "component")
    tabs = page.locator("nav.tabs").first.locator("a")  # not a tab's own sub-tabs
    hrefs = [tab.get_attribute("href") or "" for tab in tabs.all()]
    assert hrefs and hrefs[0] == entity["url"]
    expect(tabs.first).to_have_attribute("aria-current", "page")
    assert hrefs == [t["url"] for t in server.json(entity["url"])["tabs"]]
    for href in hrefs[1:]:
        page = browsing.visit(href, f"entity-{kind}-{slug(href).rsplit('-', 1)[-1]}")
        current = page.locator("nav.tabs").first.locator("a[aria-current=page]")
        expect(current).to_have_count(1)
        assert current.get_attribute("href") == href
        expect(page.locator("h1")).to_have_count(1)
        assert page.locator("main").inner_text().strip()


def test_the_star_toggles_without_a_reload_and_stays_after_one(
    browsing: Browsing, server: Server
) -> None:
    entity = server.first_entity("resource")
    page = browsing.page()
    page.goto(entity["url"])
    button = page.locator("form[data-star] button")
    if button.get_attribute("aria-pressed") == "true":  # left over from an earlier run
        button.click()
        expect(button).to_have_attribute("aria-pressed", "false")
    page.evaluate("() => { window.sameDocument = true }")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_accessible_name("Remove star")
    assert page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
    page.reload()
    expect(button).to_have_attribute("aria-pressed", "true")
    page.goto("/")
    starred = page.locator("section", has=page.locator("#starred-heading"))
    expect(starred.locator(f'a[href="{entity["url"]}"]')).to_have_count(1)
    page.goto(entity["url"])
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(button).to_have_attribute("aria-pressed", "false")


def test_slash_focuses_the_header_search_and_enter_opens_the_entity(
    browsing: Browsing, server: Server
) -> None:
    target = server.first_entity("api")
    page = browsing.page()
    page.goto("/catalog")
    page.keyboard.press("/")
    search = page.locator("#global-search")
    expect(search).to_be_focused()
    page.keyboard.type(target["name"])
    expect(search).to_have_value(target["name"])  # the "/" itself is not typed
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{target['url']}")

    # Text that names no single entity opens the catalog filtered by it, in every kind.
    page.keyboard.press("/")
    page.keyboard.type("service")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    query = params(page.url)
    assert ("filters[text]", "service") in query and ("filters[kind]", "all") in query
    browsing.check_dark_too(page)
    screenshot(page, "search-results-light")
