"""Entity references (``[<kind>:][<namespace>/]<name>``) and location references.

Parsing follows Backstage's algorithm exactly (catalog.md §3), including its
quirks: a ``/`` before the first ``:`` means there is no kind, the name may
contain ``/`` and ``:``, and references are *not* checked against the naming
rules (``owner: web@example.com`` is a legal reference). The canonical string
form is lowercase ``kind:namespace/name``; it is the identity of an entity.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from greenroom.catalog.model.formats import JS_WHITESPACE, js_string
from greenroom.errors import InputError

__all__ = [
    "DEFAULT_NAMESPACE",
    "EntityRef",
    "RefError",
    "entity_ref_of",
    "js_falsy",
    "parse_entity_ref",
    "parse_location_ref",
    "resolve_ref_parts",
    "split_entity_ref",
    "stringify_entity_ref",
    "stringify_location_ref",
]

DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True, slots=True)
class EntityRef:
    """A parsed entity reference; parts keep the case they were written in."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind.lower()}:{self.namespace.lower()}/{self.name.lower()}"


class RefError(InputError):
    """An unparseable entity reference.

    ``js_name`` is the name of the error Backstage throws in the same case
    (``TypeError`` for malformed strings, ``Error`` otherwise); it is used when
    the error is wrapped into a processing message ("caused by TypeError: ...").
    """

    def __init__(self, message: str, js_name: str = "Error", *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.js_name = js_name


def _json(value: Any) -> str:
    """JavaScript's ``JSON.stringify`` for the values references can hold."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return str(value)


def split_entity_ref(ref: str) -> tuple[str | None, str | None, str]:
    """Split a string reference into ``(kind or None, namespace or None, name)``.

    Raises :class:`RefError` when a part is present but empty.
    """
    colon = ref.find(":")
    slash = ref.find("/")
    if slash != -1 and slash < colon:
        colon = -1
    kind = None if colon == -1 else ref[:colon]
    namespace = None if slash == -1 else ref[colon + 1 : slash]
    name = ref[max(colon + 1, slash + 1) :]
    if kind == "" or namespace == "" or name == "":
        raise RefError(
            f'Entity reference "{ref}" was not on the form [<kind>:][<namespace>/]<name>',
            "TypeError",
        )
    return kind, namespace, name


def resolve_ref_parts(
    ref: Any, default_kind: str | None, default_namespace: str | None
) -> tuple[str, str, str]:
    """``(kind, namespace, name)`` of a string or compound reference, defaults applied."""
    if js_falsy(ref):
        raise RefError("Entity reference must not be empty")
    namespace_default = default_namespace or DEFAULT_NAMESPACE
    if isinstance(ref, str):
        kind, namespace, name = split_entity_ref(ref)
        kind = default_kind if kind is None else kind
        namespace = namespace_default if namespace is None else namespace
    elif isinstance(ref, Mapping):
        kind = ref.get("kind")
        kind = default_kind if kind is None else kind
        namespace = ref.get("namespace")
        namespace = namespace_default if namespace is None else namespace
        name = ref.get("name")
    else:
        # Backstage treats any non-string as a compound reference object;
        # scalars and arrays have no kind/namespace/name properties.
        kind, namespace, name = default_kind, namespace_default, None
    if not kind:
        raise RefError(
            f"Entity reference {_json(ref)} had missing or empty kind "
            '(e.g. did not start with "component:" or similar)'
        )
    if not namespace:
        raise RefError(f"Entity reference {_json(ref)} had missing or empty namespace")
    if not name:
        raise RefError(f"Entity reference {_json(ref)} had missing or empty name")
    for part, value in (("kind", kind), ("namespace", namespace), ("name", name)):
        if not isinstance(value, str):
            raise RefError(f"{part}.toLocaleLowerCase is not a function", "TypeError")
    return kind, namespace, name


def parse_entity_ref(
    ref: str,
    *,
    default_kind: str | None = None,
    default_namespace: str = DEFAULT_NAMESPACE,
) -> EntityRef:
    """Parse ``[<kind>:][<namespace>/]<name>`` like Backstage's ``parseEntityRef``.

    A missing kind takes ``default_kind`` (an error if there is none); a missing
    namespace takes ``default_namespace`` (``default`` when empty). Compound
    references (a mapping with ``kind``, ``namespace``, ``name``) are accepted
    too, as in Backstage. Raises :class:`RefError` (an ``InputError``) with
    Backstage's message on malformed references.
    """
    return EntityRef(*resolve_ref_parts(ref, default_kind, default_namespace))


def stringify_entity_ref(kind: str, namespace: str | None, name: str) -> str:
    """Canonical ``kind:namespace/name`` in lowercase; namespace ``None`` means ``default``."""
    namespace = DEFAULT_NAMESPACE if namespace is None else namespace
    return f"{kind.lower()}:{namespace.lower()}/{name.lower()}"


def entity_ref_of(entity: Mapping[str, Any]) -> str:
    """Canonical reference of an entity dict (missing namespace means ``default``)."""
    metadata = entity["metadata"]
    return stringify_entity_ref(entity["kind"], metadata.get("namespace"), metadata["name"])


def parse_location_ref(ref: str) -> tuple[str, str]:
    """Split ``<type>:<target>`` at the first colon, like Backstage's ``parseLocationRef``.

    Both parts are trimmed and must be non-empty; ``http``/``https`` are not
    location types (the target must be prefixed with ``url:``), and
    ``javascript:`` targets are refused.
    """
    if not isinstance(ref, str):
        raise InputError(
            f"Unable to parse location ref '{js_string(ref)}', unexpected argument {_js_typeof(ref)}"
        )
    index = ref.find(":")
    expected = f"Unable to parse location ref '{ref}', expected '<type>:<target>', e.g. 'url:https://host/path'"
    if index < 0:
        raise InputError(expected)
    type_ = ref[:index].strip(JS_WHITESPACE)
    target = ref[index + 1 :].strip(JS_WHITESPACE)
    if not type_ or not target:
        raise InputError(expected)
    if type_ in ("http", "https"):
        raise InputError(
            f"Invalid location ref '{ref}', please prefix it with 'url:', e.g. 'url:{ref}'"
        )
    if target.lower().startswith("javascript:"):
        raise InputError(f"Invalid location ref '{ref}', target is a javascript: URL")
    return type_, target


def stringify_location_ref(type: str, target: str) -> str:
    """``<type>:<target>``; both parts must be non-empty."""
    if not type:
        raise InputError("Unable to stringify location ref, empty type")
    if not target:
        raise InputError("Unable to stringify location ref, empty target")
    return f"{type}:{target}"


def js_falsy(value: Any) -> bool:
    """JavaScript falsiness: empty lists and objects are truthy there."""
    if value is None or value is False or value == "":
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0 or value != value  # 0 or NaN
    return False


def _js_typeof(value: Any) -> str:
    if value is None:
        return "object"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if callable(value):
        return "function"
    return "object"
