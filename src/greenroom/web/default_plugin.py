"""The portal's own pages (Settings), registered like any plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenroom.hookspecs import hookimpl

if TYPE_CHECKING:
    from greenroom.portal import Portal
    from greenroom.web.pages import PageRouter


@hookimpl
def page_routers(portal: Portal) -> list[PageRouter]:
    from greenroom.web.pages import PageRouter
    from greenroom.web.settings import settings_pages

    # Its template lives with the layout's (web/templates); the sidebar's foot links it.
    return [PageRouter(settings_pages(portal))]
