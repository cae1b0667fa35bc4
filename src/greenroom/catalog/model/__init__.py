"""The catalog entity model: references, kinds, relations and validation.

Everything here follows Backstage's catalog model (see
``reference/catalog.md``), so that a ``catalog-info.yaml`` is accepted or
refused exactly as Backstage would, with the same messages.
"""

from greenroom.catalog.model.kinds import (
    BUILTIN_KIND_NAMES,
    BUILTIN_KINDS,
    KindDefinition,
    Relation,
)
from greenroom.catalog.model.refs import (
    DEFAULT_NAMESPACE,
    EntityRef,
    entity_ref_of,
    parse_entity_ref,
    parse_location_ref,
    stringify_entity_ref,
    stringify_location_ref,
)
from greenroom.catalog.model.validation import (
    apply_policies,
    check_envelope,
    find_kind,
    validate_entity,
)

__all__ = [
    "BUILTIN_KINDS",
    "BUILTIN_KIND_NAMES",
    "DEFAULT_NAMESPACE",
    "EntityRef",
    "KindDefinition",
    "Relation",
    "apply_policies",
    "check_envelope",
    "entity_ref_of",
    "find_kind",
    "parse_entity_ref",
    "parse_location_ref",
    "stringify_entity_ref",
    "stringify_location_ref",
    "validate_entity",
]
