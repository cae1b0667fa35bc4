"""Processing without storing: location dry runs and entity validation for the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.processing.locations import MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN
from greenroom.catalog.processing.pipeline import process_entity
from greenroom.catalog.processing.rules import CatalogRules
from greenroom.catalog.processing.types import DeferredEntity, ProcessingEnvironment
from greenroom.errors import GreenroomError, InputError

# A dry run is a synchronous request: it stops here rather than tie up the server.
MAX_DRY_RUN_ENTITIES = 10_000


@dataclass
class DryRun:
    entities: list[dict[str, Any]] = field(default_factory=list)
    errors: list[GreenroomError] = field(default_factory=list)


def dry_run(env: ProcessingEnvironment, rules: CatalogRules, root: dict[str, Any]) -> DryRun:
    """Process `root` and everything it leads to, in memory."""
    result = DryRun()
    seen: set[str] = set()
    queue = [DeferredEntity(root)]
    while queue:
        deferred = queue.pop(0)
        if len(result.entities) >= MAX_DRY_RUN_ENTITIES:
            result.errors.append(
                InputError(f"The location leads to more than {MAX_DRY_RUN_ENTITIES} entities")
            )
            break
        outcome = process_entity(deferred.entity, env, rules, source_line=deferred.line)
        result.errors.extend(outcome.errors)
        if not outcome.ok or outcome.entity is None:
            continue
        ref = entity_ref_of(outcome.entity)
        if ref in seen:
            result.errors.append(InputError(f"Duplicate nested entity: {ref}"))
            continue
        seen.add(ref)
        result.entities.append(outcome.entity)
        queue.extend(outcome.children)
    return result


def validate(
    env: ProcessingEnvironment, rules: CatalogRules, entity: dict[str, Any], location: str
) -> list[GreenroomError]:
    """Errors full processing would report for `entity` coming from `location`."""
    metadata = entity.get("metadata")
    if isinstance(metadata, dict):
        annotations = metadata.get("annotations")
        if annotations is None:
            annotations = {}
        if isinstance(annotations, dict):
            annotations = {
                MANAGED_BY_LOCATION: location,
                MANAGED_BY_ORIGIN: location,
                **annotations,
            }
            entity = {**entity, "metadata": {**metadata, "annotations": annotations}}
    outcome = process_entity(entity, env, rules)
    return list(outcome.errors)
