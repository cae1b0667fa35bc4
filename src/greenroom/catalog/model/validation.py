"""The entity validation pipeline (catalog.md §2), with Backstage's messages.

Order, as in Backstage's processing of an entity:

1. envelope schema (:func:`check_envelope`);
2. policies (:func:`apply_policies`): entity schema (metadata typing), default
   namespace, no foreign root fields, field formats;
3. the kind validator (:func:`find_kind` picks it; an unknown kind/apiVersion
   is an error unless allowed);
4. keys that vary only in casing (Backstage finds these last, when it indexes
   the processed entity).

Every failure is an :class:`~greenroom.errors.InputError` whose message is the
one Backstage records for the entity (e.g. ``Policy check failed for
component:default/x; caused by Error: Unknown field foo``) and whose ``field``
is the dotted path of the offending value. The "caused by" part is already in
the message, so no ``cause`` is attached (``error_message`` would repeat it).

Speed: :func:`validate_entity` first tries a fast path (one compiled schema
call for the whole entity, then the format rules); only entities that fail
take the step-by-step path that finds the exact first error.

Kind matching is case-sensitive (``kind: component`` is not a Component):
Backstage's kind validators compare ``kind`` and ``apiVersion`` with JSON-schema
``enum``s, which are exact, so such an entity gets "No processor recognized...".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from greenroom.catalog.model.formats import check_case_duplicate_keys, check_field_formats
from greenroom.catalog.model.kinds import BUILTIN_KINDS, KindDefinition
from greenroom.catalog.model.refs import DEFAULT_NAMESPACE, stringify_entity_ref
from greenroom.catalog.model.schemas import (
    compile_schema,
    fast_kind_schema,
    validate_entity_schema,
    validate_envelope_schema,
)
from greenroom.errors import InputError

__all__ = ["apply_policies", "check_envelope", "find_kind", "validate_entity"]

_KNOWN_ROOT_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec"})
_BUILTIN_INDEX: dict[tuple[str, str], KindDefinition] = {}
for _definition in reversed(BUILTIN_KINDS):
    for _api_version in _definition.api_versions:
        _BUILTIN_INDEX[(_definition.kind, _api_version)] = _definition


def _ref(entity: Mapping[str, Any]) -> str:
    metadata = entity["metadata"]
    return stringify_entity_ref(entity["kind"], metadata.get("namespace"), metadata["name"])


def check_envelope(entity: object) -> None:
    """Step 1: the entity envelope (apiVersion, kind, metadata.name, metadata.namespace).

    Raises ``InputError("Entity envelope failed validation before processing;
    caused by TypeError: /metadata must have required property 'name' - ...")``.
    """
    error = validate_envelope_schema(entity)
    if error is not None:
        detail = error.ajv_message()
        raise InputError(
            f"Entity envelope failed validation before processing; caused by TypeError: {detail}",
            field=error.field or None,
        )


def _policy_error(entity: Mapping[str, Any], message: str, field: str | None) -> InputError:
    return InputError(
        f"Policy check failed for {_ref(entity)}; caused by Error: {message}",
        field=field or None,
    )


def _with_default_namespace(entity: dict) -> dict:
    metadata = entity["metadata"]
    if metadata.get("namespace"):
        return entity
    # Shallow copies only: the caller's dict is left as it was.
    return {**entity, "metadata": {**metadata, "namespace": DEFAULT_NAMESPACE}}


def _first_foreign_root_field(entity: Mapping[str, Any]) -> str | None:
    for key in entity:
        if key not in _KNOWN_ROOT_FIELDS:
            return key
    return None


def _policies(entity: dict) -> dict:
    """Step 3 (policies) on an entity whose envelope is valid."""
    error = validate_entity_schema(entity)
    if error is not None:
        raise _policy_error(entity, f"Malformed envelope, {error.short_message()}", error.field)
    normalized = _with_default_namespace(entity)
    foreign = _first_foreign_root_field(normalized)
    if foreign is not None:
        raise _policy_error(entity, f"Unknown field {foreign}", foreign)
    try:
        check_field_formats(normalized)
    except InputError as exc:
        raise _policy_error(entity, exc.message, exc.field) from None
    return normalized


def apply_policies(entity: dict) -> dict:
    """Step 3: Backstage's entity policies, plus the duplicate-key check.

    Checks the entity schema (``Malformed envelope, /metadata/tags/0 must be
    string``), writes the default namespace (into a shallow copy), refuses
    root fields other than apiVersion, kind, metadata and spec (``Unknown
    field <name>``) and applies the field format rules. Policy failures read
    ``Policy check failed for <ref>; caused by Error: <message>``. Keys that
    vary only in case fail with Backstage's own message, ``Entity has duplicate
    keys that vary only in casing, '<key>'`` (Backstage detects those when
    indexing, not as a policy). Returns the normalized entity.
    """
    check_envelope(entity)
    normalized = _policies(entity)
    check_case_duplicate_keys(normalized)
    return normalized


def find_kind(
    entity: Mapping[str, Any], kinds: Sequence[KindDefinition] = BUILTIN_KINDS
) -> KindDefinition | None:
    """The first definition whose kind equals ``entity["kind"]`` (case-sensitive)
    and whose api_versions contain ``entity["apiVersion"]``; None if there is none."""
    kind = entity.get("kind")
    api_version = entity.get("apiVersion")
    if type(kind) is not str or type(api_version) is not str:
        return None
    if kinds is BUILTIN_KINDS:
        return _BUILTIN_INDEX.get((kind, api_version))
    for definition in kinds:
        if definition.kind == kind and api_version in definition.api_versions:
            return definition
    return None


# Fast-path validators of the built-in kinds (see schemas.fast_kind_schema),
# keyed by identity: the built-in definitions live as long as the process.
_FAST_VALIDATORS: dict[int, Callable[[Any], Any]] = {
    id(definition): compile_schema(fast_kind_schema(definition.kind))
    for definition in BUILTIN_KINDS
}


def _validate_fast(entity: Any, kinds: Sequence[KindDefinition]) -> dict | None:
    """The whole pipeline for the common case; None means "take the exact path".

    Built-in kinds use one compiled call of a stricter schema covering the
    envelope, the entity schema, the root fields and the kind's spec; other
    definitions with a ``schema`` use their ``validate`` (which includes the
    entity schema). Anything these refuse goes to the exact path, which
    reports the first error in Backstage's order; errors found after the
    schema passed come in Backstage's order anyway and are raised here.
    """
    if type(entity) is not dict:
        return None
    definition = find_kind(entity, kinds)
    if definition is None:
        return None
    fast = _FAST_VALIDATORS.get(id(definition))
    shape_checked = fast is not None
    try:
        if shape_checked:
            fast(entity)
        elif definition.schema is not None:
            definition.validate(entity)
            if not _KNOWN_ROOT_FIELDS.issuperset(entity):
                return None
        else:
            return None
    except Exception:
        return None
    try:
        check_field_formats(entity)
    except InputError as exc:
        raise _policy_error(entity, exc.message, exc.field) from None
    normalized = _with_default_namespace(entity)
    check_case_duplicate_keys(normalized, shape_checked=shape_checked)
    return normalized


def validate_entity(
    entity: dict,
    kinds: Sequence[KindDefinition] = BUILTIN_KINDS,
    *,
    allow_unknown_kinds: bool = False,
) -> dict:
    """Validate an entity the way Backstage processes it; return it normalized.

    The returned entity has ``metadata.namespace`` set (a shallow copy is made
    when it was missing; the input is never modified). Raises
    :class:`InputError` with Backstage's message and ``field`` set; an entity
    no definition accepts fails with ``No processor recognized the entity <ref>
    as valid, possibly caused by a foreign kind or apiVersion`` unless
    ``allow_unknown_kinds``.
    """
    fast = _validate_fast(entity, kinds)
    if fast is not None:
        return fast
    return _validate_exact(entity, kinds, allow_unknown_kinds)


def _validate_exact(
    entity: Any, kinds: Sequence[KindDefinition], allow_unknown_kinds: bool
) -> dict:
    """The pipeline step by step; it finds the first error in Backstage's order."""
    check_envelope(entity)
    normalized = _policies(entity)
    ref = _ref(normalized)
    definition = find_kind(normalized, kinds)
    if definition is None:
        if not allow_unknown_kinds:
            known_kind = any(d.kind == normalized["kind"] for d in kinds)
            raise InputError(
                f"No processor recognized the entity {ref} as valid, "
                "possibly caused by a foreign kind or apiVersion",
                field="apiVersion" if known_kind else "kind",
            )
    else:
        try:
            definition.validate(normalized)
        except InputError as exc:
            raise InputError(
                f"Processor {definition.processor} threw an error while validating the entity {ref}; "
                f"caused by TypeError: {exc.message}",
                field=exc.field,
            ) from None
    check_case_duplicate_keys(normalized)
    return normalized
