"""The catalog's built-in kinds, processors and providers, registered like any plugin."""

from __future__ import annotations

from greenroom.catalog.model import BUILTIN_KINDS, KindDefinition
from greenroom.catalog.processing.locations import LocationEntityProcessor
from greenroom.catalog.processing.rules import CatalogRules
from greenroom.catalog.processing.types import EntityProcessor, EntityProvider
from greenroom.catalog.providers import ConfigLocationProvider
from greenroom.config import Config
from greenroom.hookspecs import hookimpl


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
