"""The layout in a real browser: themes, phone width, keyboard, and pages without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Page, expect

from .conftest import Browsing, Server, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def background(page: Page) -> float:
    """Relative luminance (0 black to 1 white) of the page's background colour."""
    colour = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(c) / 255 for c in re.findall(r"\d+", colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def is_dark(page: Page) -> bool:
    return background(page) < 0.25


def theme_cookie(page: Page) -> str | None:
    found = [c["value"] for c in page.context.cookies() if c["name"] == "greenroom-theme"]
    return found[0] if found else None


def test_the_system_dark_mode_darkens_the_page(browsing: Browsing) -> None:
    light, dark = browsing.page("light"), browsing.page("dark")
    light.goto("/catalog")
    dark.goto("/catalog")
    assert background(light) > 0.85
    assert is_dark(dark)
    assert dark.evaluate("() => getComputedStyle(document.body).color") != light.evaluate(
        "() => getComputedStyle(document.body).color"
    )


def test_the_theme_button_switches_at_once_and_the_cookie_keeps_it(browsing: Browsing) -> None:
    page = browsing.page("light")
    page.goto("/")
    button = page.locator("[data-theme-toggle]")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "system")
    assert not is_dark(page)

    page.evaluate("() => { window.sameDocument = true }")
    button.click()  # system -> dark
    expect(html).to_have_attribute("data-theme", "dark")
    assert is_dark(page)
    assert page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
    assert theme_cookie(page) == "dark"
    page.goto("/catalog")  # the server renders the chosen theme
    expect(html).to_have_attribute("data-theme", "dark")
    assert is_dark(page)
    screenshot(page, "catalog-theme-dark")

    button.click()  # dark -> light, even where the system says dark
    expect(html).to_have_attribute("data-theme", "light")
    assert theme_cookie(page) == "light"
    dark_system = browsing.new_page(color_scheme="dark")
    dark_system.context.add_cookies(
        [{"name": "greenroom-theme", "value": "light", "url": browsing.server.url}]
    )
    dark_system.goto("/catalog")
    assert not is_dark(dark_system)

    page.reload()
    expect(html).to_have_attribute("data-theme", "light")
    button.click()  # light -> system
    expect(html).to_have_attribute("data-theme", "system")
    assert theme_cookie(page) == "system"


@pytest.mark.parametrize("path", ["/", "/catalog", "entity", "/catalog?filters[kind]=all"])
def test_phone_width_has_no_sideways_scroll_and_a_menu_button(
    browsing: Browsing, server: Server, path: str
) -> None:
    if path == "entity":
        path = server.first_entity("component")["url"]
    page = browsing.new_page(viewport=PHONE)
    page.goto(path)
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{path}: the page is {width}px wide on a 375px screen"
    browsing.axe.check(page, f"{path} (375px wide)")
    screenshot(page, f"phone-{re.sub(r'[^a-z0-9]+', '-', path.lower()).strip('-') or 'home'}")

    menu = page.get_by_role("button", name="Menu")
    sidebar = page.locator("#sidebar")
    expect(menu).to_be_visible()
    expect(sidebar).to_be_hidden()
    menu.click()
    expect(sidebar).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sidebar.get_by_role("link").first).to_be_focused()
    if path == "/":
        screenshot(page, "phone-menu-open")
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()


def test_tab_reaches_the_skip_link_first_and_it_moves_focus_to_main(browsing: Browsing) -> None:
    page = browsing.page()
    page.goto("/catalog")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to content")
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the focused skip link must be on screen"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    assert urlsplit(page.url).fragment == "main"
    page.keyboard.press("Tab")  # on from main: into the page's content, not the sidebar
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def test_pages_work_without_javascript(browsing: Browsing, server: Server) -> None:
    page = browsing.new_page(java_script_enabled=False)
    page.goto("/catalog")
    apply = page.get_by_role("button", name="Apply filters")
    expect(apply).to_be_visible()
    expect(page.locator("#sidebar")).to_be_visible()  # no menu button: the sidebar is shown
    expect(page.locator(".nav-toggle")).to_be_hidden()
    screenshot(page, "catalog-no-js")

    lifecycles = page.locator("fieldset.facet", has=page.locator("legend", has_text="Lifecycle"))
    lifecycles.get_by_label("production").check()
    page.get_by_label("Filter by text").fill("service")
    assert urlsplit(page.url).query == ""  # nothing happens before Apply
    with page.expect_navigation():
        apply.click()
    query = parse_qsl(urlsplit(page.url).query)
    assert ("filters[lifecycles]", "production") in query
    assert ("filters[text]", "service") in query
    expected = server.json(page.url.removeprefix(server.url))
    names = page.locator("table.entities tbody a.entity-name").all_inner_texts()
    assert names == [item["name"] for item in expected["items"]]
    assert names and all("service" in name for name in names)

    # The header search is a plain form.
    target = server.first_entity("system")
    search = page.locator("#global-search")
    search.fill(target["name"])
    with page.expect_navigation():
        search.press("Enter")
    assert urlsplit(page.url).path == target["url"]

    # So is the star: a post, then back to the entity page.
    star = page.locator("form[data-star] button")
    was = star.get_attribute("aria-pressed")
    with page.expect_navigation():
        star.click()
    expect(star).to_have_attribute("aria-pressed", "false" if was == "true" else "true")
    with page.expect_navigation():
        star.click()
    expect(star).to_have_attribute("aria-pressed", was or "false")
