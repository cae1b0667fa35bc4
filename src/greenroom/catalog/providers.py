"""Built-in entity providers: locations from config and locations registered at run time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from greenroom.catalog.processing.locations import MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN
from greenroom.catalog.processing.rules import resolve_config_target
from greenroom.catalog.processing.types import DeferredEntity
from greenroom.catalog.tables import locations
from greenroom.config import Config
from greenroom.db.transactions import write_transaction
from greenroom.errors import ConflictError
from greenroom.jsonutil import sha1_hex


def location_entity_name(type_: str, target: str) -> str:
    """Backstage's name for the Location entity of a registered location."""
    return f"generated-{sha1_hex(f'{type_}:{target}')}"


def location_entity(type_: str, target: str) -> dict:
    ref = f"{type_}:{target}"
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": location_entity_name(type_, target),
            "namespace": "default",
            "annotations": {MANAGED_BY_LOCATION: ref, MANAGED_BY_ORIGIN: ref},
        },
        "spec": {"type": type_, "target": target, "presence": "required"},
    }


class ConfigLocationProvider:
    """`catalog.locations` of greenroom.yaml; relative file targets resolve against the file's folder."""

    name = "config"

    def __init__(self, config: Config) -> None:
        self.targets = [
            (loc.type, resolve_config_target(loc.type, loc.target, config.base_dir))
            for loc in config.catalog.locations
        ]

    def read(self) -> Sequence[DeferredEntity]:
        return [DeferredEntity(location_entity(t, target)) for t, target in self.targets]


@dataclass(frozen=True)
class StoredLocation:
    id: str
    type: str
    target: str

    @property
    def entity_ref(self) -> str:
        return f"location:default/{location_entity_name(self.type, self.target)}"


class LocationStore:
    """The `locations` table: registered locations (API, `catalog import`)."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def list(self) -> list[StoredLocation]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(locations.c.id, locations.c.type, locations.c.target).order_by(
                    locations.c.id
                )
            ).all()
        return [StoredLocation(*row) for row in rows]

    def add(self, type_: str, target: str) -> tuple[StoredLocation, bool]:
        """Register a location; returns it and whether it was new."""
        with write_transaction(self.db) as conn:
            row = conn.execute(
                select(locations.c.id).where(
                    locations.c.type == type_, locations.c.target == target
                )
            ).first()
            if row:
                return StoredLocation(row[0], type_, target), False
            location = StoredLocation(str(uuid.uuid4()), type_, target)
            conn.execute(
                locations.insert().values(
                    id=location.id, type=type_, target=target, created_at=time.time()
                )
            )
            return location, True

    def get(self, location_id: str) -> StoredLocation | None:
        with self.db.connect() as conn:
            row = conn.execute(
                select(locations.c.id, locations.c.type, locations.c.target).where(
                    locations.c.id == location_id
                )
            ).first()
        return StoredLocation(*row) if row else None

    def find(self, type_: str, target: str) -> StoredLocation | None:
        with self.db.connect() as conn:
            row = conn.execute(
                select(locations.c.id).where(
                    locations.c.type == type_, locations.c.target == target
                )
            ).first()
        return StoredLocation(row[0], type_, target) if row else None

    def update(self, location_id: str, type_: str, target: str) -> StoredLocation | None:
        """Change a location's type and target; None if it does not exist.

        Raises ConflictError when another location already has that type and target.
        """
        with write_transaction(self.db) as conn:
            clash = conn.execute(
                select(locations.c.id).where(
                    locations.c.type == type_,
                    locations.c.target == target,
                    locations.c.id != location_id,
                )
            ).first()
            if clash:
                raise ConflictError(f"Location {type_}:{target} already exists")
            changed = conn.execute(
                locations.update()
                .where(locations.c.id == location_id)
                .values(type=type_, target=target)
            ).rowcount
        return StoredLocation(location_id, type_, target) if changed else None

    def remove(self, location_id: str) -> bool:
        with write_transaction(self.db) as conn:
            return (
                conn.execute(locations.delete().where(locations.c.id == location_id)).rowcount > 0
            )


class RegisteredLocationProvider:
    """Provides a Location entity for every row of the locations table."""

    name = "database"

    def __init__(self, store: LocationStore) -> None:
        self.store = store

    def read(self) -> Sequence[DeferredEntity]:
        return [DeferredEntity(location_entity(loc.type, loc.target)) for loc in self.store.list()]
