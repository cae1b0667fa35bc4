"""The catalog's built-in kinds, processors, providers, API and pages, registered like any plugin."""

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
    from greenroom.catalog.pages.tabs import EntityTab
    from greenroom.portal import Portal
    from greenroom.web.apis import ApiRouter
    from greenroom.web.pages import NavItem, PageRouter


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


@hookimpl
def page_routers(portal: Portal) -> list[PageRouter]:
    from pathlib import Path

    from greenroom.catalog.pages.admin import admin_pages
    from greenroom.catalog.pages.definition import definition_pages
    from greenroom.catalog.pages.graph import graph_pages
    from greenroom.catalog.pages.register import register_pages
    from greenroom.catalog.pages.routes import catalog_pages
    from greenroom.web.pages import PageRouter

    templates = Path(__file__).parent / "pages" / "templates"
    return [
        PageRouter(catalog_pages(portal), templates=templates),
        PageRouter(graph_pages(portal)),
        PageRouter(definition_pages(portal)),
        PageRouter(register_pages(portal)),
        PageRouter(admin_pages(portal)),
    ]


@hookimpl
def nav_items(portal: Portal) -> list[NavItem]:
    from greenroom.web.pages import NavItem

    return [
        NavItem("Home", "/", "home", order=0),
        NavItem("Catalog", "/catalog", "catalog", order=10),
        NavItem("APIs", "/api-docs", "api", order=20),
        NavItem("Graph", "/catalog-graph", "graph", order=25),
        NavItem("Admin", "/admin", "edit", order=90),
    ]


@hookimpl
def entity_tabs(portal: Portal) -> list[EntityTab]:
    from greenroom.catalog.pages.definition import definition_tab
    from greenroom.catalog.pages.graph import graph_tab
    from greenroom.catalog.pages.inspect import inspect_tab
    from greenroom.catalog.pages.overview import overview_data
    from greenroom.catalog.pages.tabs import EntityFilter, EntityTab

    return [
        EntityTab("", "Overview", "catalog/tabs/overview.html", overview_data, order=0),
        EntityTab(
            "definition",
            "Definition",
            "catalog/tabs/definition.html",
            definition_tab,
            applies=EntityFilter(kinds=("API",)),
            order=20,
        ),
        EntityTab("dependencies", "Dependencies", "catalog/tabs/graph.html", graph_tab, order=50),
        EntityTab("inspect", "Inspect", "catalog/tabs/inspect.html", inspect_tab, order=90),
    ]
