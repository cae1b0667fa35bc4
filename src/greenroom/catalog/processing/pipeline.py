"""Processing one entity: placeholders, validation, kind relations, plugin processors.

Pure Python and free of SQL, so the engine can run it on whole batches and the
CLI's `catalog validate` can run exactly the same checks on files.
"""

from __future__ import annotations

import glob
import logging
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from greenroom.catalog.model import Relation, entity_ref_of, find_kind, validate_entity
from greenroom.catalog.processing.locations import MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN
from greenroom.catalog.processing.rules import CatalogRules
from greenroom.catalog.processing.types import (
    DeferredEntity,
    ProcessingContext,
    ProcessingEnvironment,
    Unchanged,
)
from greenroom.catalog.reading import has_placeholders, locate_field_line, resolve_placeholders
from greenroom.errors import GreenroomError, NotAllowedError
from greenroom.jsonutil import sha1_hex

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    """What processing one entity produced."""

    ok: bool
    entity: dict[str, Any] | None = None
    relations: list[Relation] = field(default_factory=list)
    children: list[DeferredEntity] = field(default_factory=list)
    errors: list[GreenroomError] = field(default_factory=list)
    preserve_all_children: bool = False
    preserve_location_keys: set[str] = field(default_factory=set)
    # Fingerprint of the inputs when they are all known (None: always process again).
    input_hash: str | None = None
    # The inputs are those of the last run: nothing was done, nothing needs writing.
    unchanged: bool = False


def _annotation(entity: dict[str, Any], key: str) -> str | None:
    annotations = (entity.get("metadata") or {}).get("annotations")
    value = annotations.get(key) if isinstance(annotations, dict) else None
    return value if isinstance(value, str) else None


def placeholder_root(env: ProcessingEnvironment, location: str, origin: str | None) -> str:
    """Placeholders may read anywhere under the origin location's root, never outside it."""
    if origin and origin.split(":", 1)[0] == location.split(":", 1)[0]:
        type_, _, target = origin.partition(":")
        if type_ == "file" and glob.has_magic(target):
            # `./services/*/catalog-info.yaml`: the root is the folder above the wildcard.
            parts = PurePosixPath(target).parts
            fixed = parts[: next(i for i, part in enumerate(parts) if glob.has_magic(part))]
            return f"file:{PurePosixPath(*fixed)}"
        return env.readers.root_of(origin)
    return env.readers.root_of(location)


def process_entity(
    unprocessed: dict[str, Any],
    env: ProcessingEnvironment,
    rules: CatalogRules,
    *,
    source_line: int | None = None,
    unprocessed_hash: str = "",
    previous_input_hash: str | None = None,
) -> Outcome:
    location = _annotation(unprocessed, MANAGED_BY_LOCATION)
    origin = _annotation(unprocessed, MANAGED_BY_ORIGIN)
    context = ProcessingContext(
        entity_ref_of(unprocessed),
        location,
        origin,
        base_hash=pure_input_hash(unprocessed_hash, env),
        previous_input_hash=previous_input_hash,
    )
    # What placeholders read is not fingerprinted, so such entities always run again.
    fingerprinted = not has_placeholders(unprocessed)
    try:
        entity = unprocessed
        if location and not fingerprinted:
            entity = resolve_placeholders(
                entity,
                base_location=location,
                readers=env.readers,
                root=placeholder_root(env, location, origin),
            )
        kind = entity.get("kind")
        # A kind no plugin defines may come in when the rules name it; a known kind
        # with an unknown apiVersion may not.
        unknown_but_allowed = (
            isinstance(kind, str)
            and rules.names_kind(kind)
            and all(k.kind != kind for k in env.kinds)
        )
        entity = validate_entity(entity, env.kinds, allow_unknown_kinds=unknown_but_allowed)
        definition = find_kind(entity, env.kinds)
        if definition is not None:
            context.relations.extend(definition.relations(entity))
        for processor in env.processors:
            entity = processor.process(entity, context)
        _check_children(context, rules)
    except Unchanged:
        return Outcome(ok=True, unchanged=True)
    except GreenroomError as error:
        error.at(file=location, line=source_line)
        refine_line(error, env, source_line)
        return Outcome(
            ok=False, errors=[error], input_hash=context.input_hash if fingerprinted else None
        )
    except Exception as error:  # a plugin's bug must not stop the batch
        log.exception("processor failed on %s", context.entity_ref)
        wrapped = GreenroomError(f"Processor failed: {error}", file=location, line=source_line)
        return Outcome(ok=False, errors=[wrapped])
    for error in context.errors:
        # Processors that report rather than raise may not know where they are; errors
        # about another file (a Location's target) keep their own position.
        if error.file in (None, location):
            error.at(file=location, line=source_line)
    return Outcome(
        ok=True,
        entity=entity,
        relations=context.relations,
        children=context.children,
        errors=context.errors,
        preserve_all_children=context.preserve_all_children,
        preserve_location_keys=context.preserve_location_keys,
        input_hash=context.input_hash if fingerprinted else None,
    )


def _check_children(context: ProcessingContext, rules: CatalogRules) -> None:
    """Children of any processor obey `catalog.rules`, not only those of Locations."""
    allowed = []
    for child in context.children:
        kind = child.entity.get("kind")
        if isinstance(kind, str) and rules.is_allowed(
            kind, location=child.location_key, origin=context.origin
        ):
            allowed.append(child)
        else:
            context.add_error(
                NotAllowedError(
                    f"Entity {entity_ref_of(child.entity)} at {child.location_key}, originated at {context.origin}, "
                    "is not of an allowed kind for that location",
                    file=child.location_key,
                    line=child.line,
                    field="kind",
                )
            )
    context.children = allowed


def pure_input_hash(unprocessed_hash: str, env: ProcessingEnvironment) -> str:
    """The input fingerprint of an entity whose processing reads nothing else."""
    return sha1_hex(unprocessed_hash + env.fingerprint)


def refine_line(error: GreenroomError, env: ProcessingEnvironment, doc_line: int | None) -> None:
    """Point the error at the field's own line, re-reading the file (errors are rare)."""
    if not (error.field and error.file and doc_line) or error.line != doc_line:
        return
    type_, _, target = error.file.partition(":")
    if type_ not in ("file", "git"):
        return
    try:
        files = env.readers.read_location(type_, target)
    except GreenroomError:
        return
    if len(files) == 1:
        # `nearest`: a missing field points at the object that should hold it.
        line = locate_field_line(
            files[0].content.decode("utf-8", "replace"), doc_line, error.field, nearest=True
        )
        if line:
            error.line = line
