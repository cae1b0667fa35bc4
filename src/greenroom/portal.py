"""Wiring: one object that holds the config, the database, the plugins and the services."""

from __future__ import annotations

from functools import cached_property

from greenroom.catalog.service import CatalogService
from greenroom.config import Config
from greenroom.db.engine import make_engine
from greenroom.db.migrate import upgrade
from greenroom.permissions import Permissions
from greenroom.plugins import make_plugin_manager


class Portal:
    """A Greenroom instance. Services are built on first use."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.pm = make_plugin_manager(config)
        self.db = make_engine(config.database_url)
        self.permissions = Permissions()

    def migrate(self) -> None:
        upgrade(self.db)

    @cached_property
    def catalog(self) -> CatalogService:
        return CatalogService(self.db, self.config, self.pm)

    def close(self) -> None:
        self.db.dispose()
