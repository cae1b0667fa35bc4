"""Every extension point of Greenroom, declared once.

Built-in behaviour is registered through these same hooks (see
`greenroom.plugins.DEFAULT_PLUGINS`); a third-party plugin is a package
exposing the entry point group `greenroom.plugins`, or a module named in the
config's `plugins:` list, that implements any of them with `@hookimpl`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from greenroom.catalog.model.kinds import KindDefinition
    from greenroom.catalog.pages.tabs import EntityTab
    from greenroom.catalog.processing.types import EntityProcessor, EntityProvider
    from greenroom.config import Config
    from greenroom.portal import Portal
    from greenroom.web.apis import ApiRouter
    from greenroom.web.pages import NavItem, PageRouter

PROJECT = "greenroom"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def catalog_kinds() -> list[KindDefinition]:
    """Entity kinds this plugin defines, each with its schema check and relation rules."""


@hookspec
def catalog_processors(config: Config) -> list[EntityProcessor]:
    """Processors run on every valid entity, after its kind's validation and relations."""


@hookspec
def catalog_entity_providers(config: Config) -> list[EntityProvider]:
    """Sources that push root entities into the catalog (config locations, org sync, ...)."""


@hookspec
def api_routers(portal: Portal) -> list[ApiRouter]:
    """HTTP APIs, each mounted at its prefix with its own OpenAPI document."""


@hookspec
def page_routers(portal: Portal) -> list[PageRouter]:
    """Web pages: routes rendered with the portal's layout, each with a JSON twin."""


@hookspec
def nav_items(portal: Portal) -> list[NavItem]:
    """Entries of the sidebar navigation."""


@hookspec
def entity_tabs(portal: Portal) -> list[EntityTab]:
    """Tabs of the entity page, each shown on the entities its predicate accepts."""
