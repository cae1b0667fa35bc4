"""The nine built-in kinds: their schema validators and the relations they emit.

Each :class:`KindDefinition` bundles what Backstage spreads over the
``BuiltinKindsEntityProcessor`` (Component, API, Resource, System, Domain,
Group, User, Location) and the scaffolder module's ``ScaffolderEntitiesProcessor``
(Template): the kind/apiVersion it accepts, the schema check of the whole
entity, and the relation rules of catalog.md §6.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from greenroom.catalog.model.refs import DEFAULT_NAMESPACE, RefError, js_falsy, resolve_ref_parts
from greenroom.catalog.model.schemas import (
    KIND_SCHEMAS,
    JsonSchemaValueException,
    compile_schema,
    first_error,
    kind_schema,
)
from greenroom.errors import InputError

__all__ = [
    "BUILTIN_KINDS",
    "BUILTIN_PROCESSOR",
    "RELATION_RULES",
    "SCAFFOLDER_PROCESSOR",
    "KindDefinition",
    "Relation",
    "RelationRule",
    "make_relations",
    "make_schema_validator",
]

BUILTIN_PROCESSOR = "BuiltinKindsEntityProcessor"
SCAFFOLDER_PROCESSOR = "ScaffolderEntitiesProcessor"


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed relation between two entities, both as canonical refs."""

    source: str  # canonical ref
    type: str  # e.g. "ownedBy"
    target: str  # canonical ref


@dataclass(frozen=True)
class KindDefinition:
    """One kind the catalog understands.

    ``validate(entity)`` raises :class:`InputError` (``field`` set) with an
    ajv-style message such as ``/spec/type must be string - type: string``;
    the validation pipeline wraps it into Backstage's processing message.
    ``relations(entity)`` returns the forward and reverse relations the entity
    emits, deduplicated, and raises :class:`InputError` for unparseable refs.
    """

    kind: str  # e.g. "Component"
    api_versions: tuple[str, ...]  # e.g. ("backstage.io/v1alpha1", "backstage.io/v1beta1")
    validate: Callable[[dict], None]
    relations: Callable[[dict], list[Relation]]
    #: the processor name Backstage shows in processing errors for this kind
    processor: str = BUILTIN_PROCESSOR
    #: the full JSON schema ``validate`` enforces (it includes the common entity
    #: schema), or None for validators that are not plain JSON schemas
    schema: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RelationRule:
    """One spec field that references other entities (a row of catalog.md §6)."""

    field: str  # spec field, e.g. "owner"
    default_kind: str | None  # None: the reference must name its kind
    forward: str  # relation on this entity, e.g. "ownedBy"
    reverse: str  # relation on the target, e.g. "ownerOf"


def _rules(*rows: tuple[str, str | None, str, str]) -> tuple[RelationRule, ...]:
    return tuple(RelationRule(*row) for row in rows)


#: kind -> relation rules, in the order Backstage emits them
RELATION_RULES: dict[str, tuple[RelationRule, ...]] = {
    "Component": _rules(
        ("owner", "Group", "ownedBy", "ownerOf"),
        ("subcomponentOf", "Component", "partOf", "hasPart"),
        ("providesApis", "API", "providesApi", "apiProvidedBy"),
        ("consumesApis", "API", "consumesApi", "apiConsumedBy"),
        ("dependsOn", None, "dependsOn", "dependencyOf"),
        ("dependencyOf", None, "dependencyOf", "dependsOn"),
        ("system", "System", "partOf", "hasPart"),
    ),
    "API": _rules(
        ("owner", "Group", "ownedBy", "ownerOf"),
        ("system", "System", "partOf", "hasPart"),
    ),
    "Resource": _rules(
        ("owner", "Group", "ownedBy", "ownerOf"),
        ("dependsOn", None, "dependsOn", "dependencyOf"),
        ("dependencyOf", None, "dependencyOf", "dependsOn"),
        ("system", "System", "partOf", "hasPart"),
    ),
    "System": _rules(
        ("owner", "Group", "ownedBy", "ownerOf"),
        ("domain", "Domain", "partOf", "hasPart"),
    ),
    "Domain": _rules(
        ("owner", "Group", "ownedBy", "ownerOf"),
        ("subdomainOf", "Domain", "partOf", "hasPart"),
    ),
    "Group": _rules(
        ("parent", "Group", "childOf", "parentOf"),
        ("children", "Group", "parentOf", "childOf"),
        ("members", "User", "hasMember", "memberOf"),
    ),
    "User": _rules(("memberOf", "Group", "memberOf", "hasMember")),
    "Location": (),
    "Template": _rules(("owner", "Group", "ownedBy", "ownerOf")),
}


def make_schema_validator(schema: Mapping[str, Any]) -> Callable[[dict], None]:
    """A ``validate`` function for a full entity schema, compiled once."""
    compiled = compile_schema(schema)

    def validate(entity: dict) -> None:
        try:
            compiled(entity)
        except JsonSchemaValueException as exc:
            error = first_error(schema, entity)
            if error is None:  # pragma: no cover - the two validators disagree
                raise InputError(f"<root> {exc.message}") from None
            raise InputError(error.ajv_message(), field=error.field or None) from None

    return validate


def make_relations(
    kind: str,
    rules: Sequence[RelationRule],
    *,
    processor: str = BUILTIN_PROCESSOR,
    api_version: str | None = None,
) -> Callable[[dict], list[Relation]]:
    """A ``relations`` function applying ``rules`` to entities of ``kind``.

    Targets default to the rule's kind and to the entity's own namespace. Like
    Backstage, only entities whose ``kind`` equals ``kind`` exactly (and whose
    apiVersion equals ``api_version``, when given) emit relations.
    """

    default_kind_lower = {
        rule.default_kind: rule.default_kind.lower() for rule in rules if rule.default_kind
    }

    def relations(entity: dict) -> list[Relation]:
        if entity.get("kind") != kind or (
            api_version is not None and entity.get("apiVersion") != api_version
        ):
            return []
        spec = entity.get("spec")
        if not isinstance(spec, Mapping) or not rules:
            return []
        metadata = entity["metadata"]
        namespace = metadata.get("namespace")
        namespace = DEFAULT_NAMESPACE if namespace is None else namespace
        namespace_lower = (namespace or DEFAULT_NAMESPACE).lower()
        self_ref = f"{kind.lower()}:{namespace.lower()}/{metadata['name'].lower()}"
        out: list[Relation] = []
        seen: set[tuple[str, str]] = set()
        for rule in rules:
            value = spec.get(rule.field)
            if js_falsy(value):
                continue
            if isinstance(value, list):
                targets = [(f"spec.{rule.field}.{i}", item) for i, item in enumerate(value)]
            else:
                targets = [(f"spec.{rule.field}", value)]
            for path, target in targets:
                if (
                    type(target) is str
                    and rule.default_kind
                    and target
                    and ":" not in target
                    and "/" not in target
                ):
                    # the common case: a bare name
                    target_ref = f"{default_kind_lower[rule.default_kind]}:{namespace_lower}/{target.lower()}"
                    for key in (
                        (self_ref, rule.forward, target_ref),
                        (target_ref, rule.reverse, self_ref),
                    ):
                        if key not in seen:
                            seen.add(key)
                            out.append(Relation(*key))
                    continue
                try:
                    t_kind, t_namespace, t_name = resolve_ref_parts(
                        target, rule.default_kind, namespace
                    )
                except RefError as exc:
                    raise InputError(
                        f"Processor {processor} threw an error while postprocessing; "
                        f"caused by {exc.js_name}: {exc.message}",
                        field=path,
                    ) from None
                target_ref = f"{t_kind.lower()}:{t_namespace.lower()}/{t_name.lower()}"
                for key in (
                    (self_ref, rule.forward, target_ref),
                    (target_ref, rule.reverse, self_ref),
                ):
                    if key not in seen:
                        seen.add(key)
                        out.append(Relation(*key))
        return out

    return relations


def _builtin(kind: str) -> KindDefinition:
    api_versions, part = KIND_SCHEMAS[kind]
    schema = kind_schema(part)
    is_template = kind == "Template"
    processor = SCAFFOLDER_PROCESSOR if is_template else BUILTIN_PROCESSOR
    return KindDefinition(
        kind=kind,
        api_versions=api_versions,
        validate=make_schema_validator(schema),
        relations=make_relations(
            kind,
            RELATION_RULES[kind],
            processor=processor,
            api_version=api_versions[0] if is_template else None,
        ),
        processor=processor,
        schema=schema,
    )


BUILTIN_KIND_NAMES: tuple[str, ...] = (
    "Component",
    "API",
    "Resource",
    "System",
    "Domain",
    "Group",
    "User",
    "Location",
    "Template",
)
BUILTIN_KINDS: tuple[KindDefinition, ...] = tuple(_builtin(kind) for kind in BUILTIN_KIND_NAMES)
