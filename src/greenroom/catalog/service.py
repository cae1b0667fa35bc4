"""The catalog's service interface: what other parts of Greenroom may call."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import pluggy
from sqlalchemy import Engine, func, select, text

from greenroom.catalog.events import ChangeFeed
from greenroom.catalog.processing import dry_run
from greenroom.catalog.processing.engine import CatalogEngine, EngineStats
from greenroom.catalog.providers import (
    LocationStore,
    RegisteredLocationProvider,
    StoredLocation,
    location_entity,
)
from greenroom.catalog.query.service import EntityQueries
from greenroom.catalog.stars import StarStore
from greenroom.catalog.tables import (
    final_entities,
    refresh_schedule,
    refresh_state,
    refresh_state_references,
    search,
)
from greenroom.config import Config
from greenroom.db.bulk import chunks
from greenroom.db.transactions import write_transaction
from greenroom.jsonutil import loads


class CatalogService:
    """Reading the catalog and driving its processing."""

    def __init__(self, db: Engine, config: Config, pm: pluggy.PluginManager) -> None:
        self.db = db
        self.config = config
        self.locations = LocationStore(db)
        self.engine = CatalogEngine(
            db, config, pm, providers=[RegisteredLocationProvider(self.locations)]
        )
        self.queries = EntityQueries(db)
        self.feed = ChangeFeed(db)
        self.stars = StarStore(db)
        self.engine.on_changes.append(self.feed.poll)

    def add_location(self, type_: str, target: str) -> tuple[StoredLocation, bool]:
        """Register a location; its Location entity is queued for processing at once."""
        location, created = self.locations.add(type_, target)
        if created:
            self.engine.run_providers()
        return location, created

    def remove_location(self, location_id: str) -> bool:
        """Unregister a location and remove, at once, what only it brought in."""
        location = self.locations.get(location_id)
        if location is None or not self.locations.remove(location_id):
            return False
        self.engine.delete_tree(location.entity_ref)
        return True

    def dry_run_location(self, type_: str, target: str) -> dry_run.DryRun:
        """What registering the location would bring in, processed now and stored nowhere."""
        return dry_run.dry_run(self.engine.env, self.engine.rules, location_entity(type_, target))

    def validate_entity(self, entity: dict[str, Any], location: str) -> list[Any]:
        return dry_run.validate(self.engine.env, self.engine.rules, entity, location)

    def refresh_all(self) -> None:
        """Make every entity due now, as if its refresh interval had passed."""
        with write_transaction(self.db) as conn:
            conn.execute(refresh_schedule.update().values(next_update_at=time.time()))

    def process_until_idle(
        self, progress: Callable[[int, int, int], None] | None = None
    ) -> EngineStats:
        return self.engine.run_until_idle(progress=progress)

    def entity_by_ref(self, ref: str) -> dict[str, Any] | None:
        body = self.queries.by_ref(ref)
        return loads(body) if body else None

    def counts_by_kind(self, refs: Iterable[str] | None = None) -> dict[str, int]:
        """Served entities per kind: of the whole catalog, or of the entities in `refs`."""
        kind = func.coalesce(search.c.original_value, search.c.value)
        query = select(kind, func.count()).where(search.c.key == "kind").group_by(kind)
        counts: dict[str, int] = {}
        with self.db.connect() as conn:
            if refs is None:
                rows = conn.execute(query).all()
            else:
                rows = []
                joined = query.join(final_entities, final_entities.c.id == search.c.entity_id)
                for part in chunks(sorted({r.lower() for r in refs})):
                    rows += conn.execute(joined.where(final_entities.c.entity_ref.in_(part))).all()
        for name, count in rows:
            counts[name] = counts.get(name, 0) + count
        return dict(sorted(counts.items()))

    def recently_changed(self, limit: int = 10) -> list[dict[str, Any]]:
        """The served entities that changed last, newest first."""
        query = (
            select(final_entities.c.final_entity)
            .order_by(final_entities.c.last_updated_at.desc(), final_entities.c.id.desc())
            .limit(limit)
        )
        with self.db.connect() as conn:
            return [loads(body) for body in conn.execute(query).scalars()]

    def relation_count(self) -> int:
        with self.db.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM search WHERE key LIKE 'relations.%'")
            ).scalar_one()

    def entity_count(self) -> int:
        with self.db.connect() as conn:
            return conn.execute(select(func.count()).select_from(final_entities)).scalar_one()

    def processing_errors(
        self,
        refs: Iterable[str] | None = None,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[tuple[str, list[dict[str, Any]]]]:
        """Entities whose last processing reported errors (all, or those in `refs`), by ref;
        with `after`, only refs sorting after it (the next page of a list of `limit`)."""
        query = select(refresh_state.c.entity_ref, refresh_state.c.errors).where(
            refresh_state.c.errors.is_not(None)
        )
        if after is not None:
            query = query.where(refresh_state.c.entity_ref > after)
        if limit is not None:
            query = query.order_by(refresh_state.c.entity_ref).limit(limit)
        with self.db.connect() as conn:
            if refs is None:
                rows = conn.execute(query).all()
            else:
                rows = []
                for part in chunks(sorted({r.lower() for r in refs})):
                    rows += conn.execute(query.where(refresh_state.c.entity_ref.in_(part))).all()
        return [(ref, loads(errors)) for ref, errors in sorted(rows, key=lambda row: row[0])]

    def processing_error_count(self) -> int:
        """How many entities' last processing reported errors (a partial index counts them)."""
        query = select(func.count()).where(refresh_state.c.errors.is_not(None))
        with self.db.connect() as conn:
            return conn.execute(query).scalar_one()

    def descendants(self, ref: str) -> set[str]:
        """Every entity `ref` brought in, directly or through the entities it brought in.

        Follows `refresh_state_references` one level at a time, each level with a
        few set-based queries (whatever the number of entities on it). `ref` itself
        is not included, unless it is its own descendant through a cycle.
        """
        edges = refresh_state_references.c
        found: set[str] = set()
        frontier = {ref.lower()}
        with self.db.connect() as conn:
            while frontier:
                targets: set[str] = set()
                for part in chunks(sorted(frontier)):
                    targets.update(
                        conn.execute(
                            select(edges.target_entity_ref)
                            .distinct()
                            .where(edges.source_entity_ref.in_(part))
                        ).scalars()
                    )
                frontier = targets - found
                found |= frontier
        return found
