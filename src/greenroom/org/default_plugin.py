"""The Org capability's pages, navigation entry and entity tabs, registered like any plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from greenroom.hookspecs import hookimpl

if TYPE_CHECKING:
    from greenroom.catalog.pages.tabs import EntityTab
    from greenroom.portal import Portal
    from greenroom.web.pages import NavItem, PageRouter

TEMPLATES = Path(__file__).parent / "templates"


@hookimpl
def page_routers(portal: Portal) -> list[PageRouter]:
    from greenroom.org.pages import org_pages
    from greenroom.web.pages import PageRouter

    return [PageRouter(org_pages(portal), templates=TEMPLATES)]


@hookimpl
def nav_items(portal: Portal) -> list[NavItem]:
    from greenroom.web.pages import NavItem

    return [NavItem("Org", "/org", "org", order=30)]


@hookimpl
def entity_tabs(portal: Portal) -> list[EntityTab]:
    from greenroom.catalog.pages.tabs import EntityFilter, EntityTab
    from greenroom.org.pages import members_tab, ownership_tab

    return [
        EntityTab(
            "members",
            "Members",
            "org/tabs/members.html",
            members_tab,
            applies=EntityFilter(kinds=("group",)),
            order=20,
        ),
        EntityTab(
            "ownership",
            "Ownership",
            "org/tabs/ownership.html",
            ownership_tab,
            applies=EntityFilter(kinds=("group", "user")),
            order=30,
        ),
    ]
