"""The catalog's service interface: what other parts of Greenroom may call."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pluggy
from sqlalchemy import Engine, func, select, text

from greenroom.catalog.processing.engine import CatalogEngine, EngineStats
from greenroom.catalog.providers import LocationStore, RegisteredLocationProvider, StoredLocation
from greenroom.catalog.tables import final_entities, refresh_state
from greenroom.config import Config
from greenroom.db.transactions import write_transaction
from greenroom.jsonutil import loads


class CatalogService:
    """Reading the catalog and driving its processing."""

    def __init__(self, db: Engine, config: Config, pm: pluggy.PluginManager) -> None:
        self.db = db
        self.config = config
        self.locations = LocationStore(db)
        self.engine = CatalogEngine(db, config, pm, providers=[RegisteredLocationProvider(self.locations)])

    def add_location(self, type_: str, target: str) -> tuple[StoredLocation, bool]:
        return self.locations.add(type_, target)

    def refresh_all(self) -> None:
        """Make every entity due now, as if its refresh interval had passed."""
        with write_transaction(self.db) as conn:
            conn.execute(refresh_state.update().values(next_update_at=time.time()))

    def process_until_idle(self, progress: Callable[[int, int, int], None] | None = None) -> EngineStats:
        return self.engine.run_until_idle(progress=progress)

    def entity_by_ref(self, ref: str) -> dict[str, Any] | None:
        with self.db.connect() as conn:
            body = conn.execute(
                select(final_entities.c.final_entity).where(final_entities.c.entity_ref == ref.lower())
            ).scalar_one_or_none()
        return loads(body) if body else None

    def counts_by_kind(self) -> dict[str, int]:
        with self.db.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT coalesce(original_value, value), count(*) FROM search"
                    " WHERE key = 'kind' GROUP BY coalesce(original_value, value) ORDER BY 1"
                )
            ).all()
        return {kind: count for kind, count in rows}

    def relation_count(self) -> int:
        with self.db.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM search WHERE key LIKE 'relations.%'")).scalar_one()

    def entity_count(self) -> int:
        with self.db.connect() as conn:
            return conn.execute(select(func.count()).select_from(final_entities)).scalar_one()

    def processing_errors(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Every entity whose last processing reported errors, with the serialized errors."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(refresh_state.c.entity_ref, refresh_state.c.errors)
                .where(refresh_state.c.errors.is_not(None))
                .order_by(refresh_state.c.entity_ref)
            ).all()
        return [(ref, loads(errors)) for ref, errors in rows]
