"""What processors and providers exchange with the processing engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from greenroom.catalog.model.kinds import Relation
from greenroom.config import Config
from greenroom.errors import GreenroomError
from greenroom.jsonutil import dumps, sha1_hex


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
    # What the result depends on besides the entity: files read, with content hashes.
    base_hash: str = ""
    previous_input_hash: str | None = None
    inputs: list[tuple[str, str]] = field(default_factory=list)

    def record_input(self, key: str, content_hash: str) -> None:
        """Note something the result depends on, e.g. a file and the hash of its content."""
        self.inputs.append((key, content_hash))

    @property
    def input_hash(self) -> str:
        if not self.inputs and not self.errors:
            return self.base_hash
        return sha1_hex(dumps([self.base_hash, self.inputs, [e.to_json() for e in self.errors]]))

    def skip_if_unchanged(self) -> None:
        """Stop here if everything read so far is what the last successful run read."""
        if self.previous_input_hash and self.input_hash == self.previous_input_hash:
            raise Unchanged

    def emit_relation(self, relation: Relation) -> None:
        self.relations.append(relation)

    def emit_child(self, child: DeferredEntity) -> None:
        self.children.append(child)

    def add_error(self, error: GreenroomError) -> None:
        self.errors.append(error)


class Unchanged(Exception):
    """Raised by a processor when its inputs are those of the last run: nothing to redo."""


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
    # Changes whenever the rules, plugins or Greenroom change, so results are redone.
    fingerprint: str = ""
