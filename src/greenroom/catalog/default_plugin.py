"""The catalog's built-in kinds, processors, providers and API, registered like any plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenroom.catalog.model import BUILTIN_KINDS, KindDefinition
from greenroom.catalog.processing.locations import LocationEntityProcessor
from greenroom.catalog.processing.rules import CatalogRules
from greenroom.catalog.processing.types import EntityProcessor, EntityProvider
from greenroom.catalog.providers import ConfigLocationProvider
from greenroom.config import Config
from greenroom.hookspecs import hookimpl

if TYPE_CHECKING:
    from greenroom.portal import Portal
    from greenroom.web.apis import ApiRouter


@hookimpl
def catalog_kinds() -> list[KindDefinition]:
    return list(BUILTIN_KINDS)


@hookimpl
def catalog_processors(config: Config) -> list[EntityProcessor]:
    from greenroom.catalog.processing.engine import make_readers

    return [LocationEntityProcessor(make_readers(config), CatalogRules(config))]


@hookimpl
def catalog_entity_providers(config: Config) -> list[EntityProvider]:
    return [ConfigLocationProvider(config)]


@hookimpl
def api_routers(portal: Portal) -> list[ApiRouter]:
    from greenroom.catalog.api.routes import catalog_router
    from greenroom.web.apis import ApiRouter

    return [
        ApiRouter(
            prefix="/api/catalog",
            title="Greenroom catalog API",
            description="Backstage-compatible software catalog API.",
            router=catalog_router(portal.catalog, portal.config),
        )
    ]
