"""What processors and providers exchange with the processing engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from greenroom.catalog.model.kinds import Relation
from greenroom.config import Config
from greenroom.errors import GreenroomError


@dataclass(slots=True)
class DeferredEntity:
    """An entity a location or provider emitted, before it is processed."""

    entity: dict[str, Any]
    location_key: str | None = None  # the file it came from, e.g. `file:/srv/catalog/a.yaml`
    line: int | None = None  # where its document starts in that file


@dataclass
class ProcessingContext:
    """Collects what processing one entity produces; handed to every processor."""

    entity_ref: str
    location: str | None  # backstage.io/managed-by-location
    origin: str | None  # backstage.io/managed-by-origin-location
    relations: list[Relation] = field(default_factory=list)
    children: list[DeferredEntity] = field(default_factory=list)
    # Errors reported here go on the entity's status but do not stop its output:
    # one broken file of a Location must not hold back the good ones.
    errors: list[GreenroomError] = field(default_factory=list)
    # When a target could not be read, its previous children are kept, not orphaned.
    preserve_all_children: bool = False
    preserve_location_keys: set[str] = field(default_factory=set)

    def emit_relation(self, relation: Relation) -> None:
        self.relations.append(relation)

    def emit_child(self, child: DeferredEntity) -> None:
        self.children.append(child)

    def add_error(self, error: GreenroomError) -> None:
        self.errors.append(error)


class EntityProcessor(Protocol):
    """A step run on every valid entity; may change it, emit relations, children or errors."""

    name: str

    def process(self, entity: dict[str, Any], context: ProcessingContext) -> dict[str, Any]: ...


class EntityProvider(Protocol):
    """A source of root entities. The engine replaces the provider's previous set with each read."""

    name: str

    def read(self) -> Sequence[DeferredEntity]: ...


@dataclass(frozen=True)
class ProcessingEnvironment:
    """Everything processors need that is fixed for the life of a worker."""

    config: Config
    readers: Any  # greenroom.catalog.reading.Readers
    kinds: Sequence[Any]
    processors: Sequence[EntityProcessor]
