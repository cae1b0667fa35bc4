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
    from greenroom.catalog.processing.types import EntityProcessor, EntityProvider
    from greenroom.config import Config
    from greenroom.portal import Portal
    from greenroom.web.apis import ApiRouter

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
