"""JSON schemas of the entity envelope, the entity and each built-in kind.

The schemas are written here from the rules in ``catalog.md`` §1, §2 and §5
(they state the same constraints as Backstage's published schemas, in the same
property order, because the order decides which error is reported first).

Validation has two halves:

* the **fast path**: every schema is compiled once, at import, with
  ``fastjsonschema``; a valid entity costs one call of generated Python code;
* the **error path**: when the compiled validator rejects an entity,
  :func:`first_error` walks the schema the way ajv (the validator Backstage
  uses) does and returns ajv's first error, so that messages read exactly like
  Backstage's, e.g. ``/spec must have required property 'owner' - missingProperty: owner``.

Only the JSON-schema keywords used below are supported by :func:`first_error`
(``type``, ``enum``, ``const``, ``oneOf``, ``allOf``, ``minLength``,
``pattern``, ``minItems``, ``items``, ``required``, ``additionalProperties``,
``properties``, ``patternProperties``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import fastjsonschema

from greenroom.catalog.model.formats import js_string

__all__ = [
    "API_SPEC",
    "COMPONENT_SPEC",
    "DOMAIN_SPEC",
    "ENTITY_META_SCHEMA",
    "ENTITY_SCHEMA",
    "ENVELOPE_SCHEMA",
    "GROUP_SPEC",
    "KIND_SCHEMAS",
    "LOCATION_SPEC",
    "RESOURCE_SPEC",
    "SYSTEM_SPEC",
    "TEMPLATE_SPEC",
    "USER_SPEC",
    "SchemaError",
    "compile_schema",
    "fast_kind_schema",
    "first_error",
    "kind_schema",
    "validate_entity_schema",
    "validate_envelope_schema",
]

# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------

BACKSTAGE_API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
TEMPLATE_API_VERSIONS = ("scaffolder.backstage.io/v1beta3",)


def _string(min_length: int | None = 1) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if min_length is not None:
        schema["minLength"] = min_length
    return schema


def _string_array() -> dict[str, Any]:
    return {"type": "array", "items": _string()}


def _object(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    if required is not None:
        schema["required"] = required
    schema.update(extra)
    schema["properties"] = properties
    return schema


# Patterns are written as JavaScript regular expressions (they appear in
# messages); the Python equivalents used for matching are listed here.
_PY_PATTERNS = {
    # JS `.` excludes line terminators and `$` matches only at the very end.
    "^.+$": r"^[^\n\r\u2028\u2029]+\Z",
    # JS `\w` (no `u` flag) is ASCII only.
    r"^\w+$": r"^[A-Za-z0-9_]+\Z",
}

_STRING_MAP = {
    "type": "object",
    "additionalProperties": True,
    "patternProperties": {"^.+$": {"type": "string"}},
}

# --------------------------------------------------------------------------
# Envelope, metadata, entity (catalog.md §1, §2)
# --------------------------------------------------------------------------

ENVELOPE_SCHEMA: dict[str, Any] = _object(
    {
        "apiVersion": _string(),
        "kind": _string(),
        "metadata": _object(
            {"name": _string(), "namespace": _string()}, ["name"], additionalProperties=True
        ),
    },
    ["apiVersion", "kind", "metadata"],
    additionalProperties=True,
)

ENTITY_META_SCHEMA: dict[str, Any] = _object(
    {
        "uid": _string(),
        "etag": _string(),
        "name": _string(),
        "namespace": _string(),
        "title": _string(),
        "description": _string(None),
        "labels": dict(_STRING_MAP),
        "annotations": dict(_STRING_MAP),
        "tags": _string_array(),
        "links": {
            "type": "array",
            "items": _object(
                {"url": _string(), "title": _string(), "icon": _string(), "type": _string()},
                ["url"],
            ),
        },
    },
    ["name"],
    additionalProperties=True,
)

_COMPOUND_REF = _object(
    {"kind": _string(), "namespace": _string(), "name": _string()},
    ["kind", "namespace", "name"],
    additionalProperties=False,
)

_RELATION = _object(
    {
        "type": {"type": "string", "minLength": 1, "pattern": r"^\w+$"},
        "target": _COMPOUND_REF,
        "targetRef": _string(),
    },
    ["type", "targetRef"],
    additionalProperties=False,
)

_SERIALIZED_ERROR = _object(
    {"name": _string(), "message": _string(None), "code": _string(None), "stack": _string(None)},
    ["name", "message"],
    additionalProperties=True,
)

_STATUS = _object(
    {
        "items": {
            "type": "array",
            "items": _object(
                {
                    "type": _string(),
                    "level": {"type": "string", "enum": ["info", "warning", "error"]},
                    "message": _string(None),
                    "error": _SERIALIZED_ERROR,
                },
                ["type", "level", "message"],
                additionalProperties=True,
            ),
        }
    },
    [],
    additionalProperties=True,
)

ENTITY_SCHEMA: dict[str, Any] = _object(
    {
        "apiVersion": _string(),
        "kind": _string(),
        "metadata": ENTITY_META_SCHEMA,
        "spec": {"type": "object"},
        "relations": {"type": "array", "items": _RELATION},
        "status": _STATUS,
    },
    ["apiVersion", "kind", "metadata"],
    additionalProperties=False,
)

# --------------------------------------------------------------------------
# Kinds (catalog.md §5). Each is the kind-specific part; the full kind schema
# is ``{"allOf": [ENTITY_SCHEMA, part]}`` (see kind_schema).
# --------------------------------------------------------------------------


def _kind_part(kind: str, api_versions: tuple[str, ...], spec: dict[str, Any]) -> dict[str, Any]:
    return _object(
        {"apiVersion": {"enum": list(api_versions)}, "kind": {"enum": [kind]}, "spec": spec},
        ["spec"],
    )


_PROFILE = _object({"displayName": _string(), "email": _string(), "picture": _string()})

COMPONENT_SPEC = _object(
    {
        "type": _string(),
        "lifecycle": _string(),
        "owner": _string(),
        "system": _string(),
        "subcomponentOf": _string(),
        "providesApis": _string_array(),
        "consumesApis": _string_array(),
        "dependsOn": _string_array(),
    },
    ["type", "lifecycle", "owner"],
)

API_SPEC = _object(
    {
        "type": _string(),
        "lifecycle": _string(),
        "owner": _string(),
        "system": _string(),
        "definition": _string(),
    },
    ["type", "lifecycle", "owner", "definition"],
)

RESOURCE_SPEC = _object(
    {"type": _string(), "owner": _string(), "dependsOn": _string_array(), "system": _string()},
    ["type", "owner"],
)

SYSTEM_SPEC = _object({"owner": _string(), "domain": _string(), "type": _string()}, ["owner"])

DOMAIN_SPEC = _object({"owner": _string(), "subdomainOf": _string(), "type": _string()}, ["owner"])

GROUP_SPEC = _object(
    {
        "type": _string(),
        "profile": _PROFILE,
        "parent": _string(),
        "children": _string_array(),
        "members": _string_array(),
    },
    ["type", "children"],
)

USER_SPEC = _object({"profile": _PROFILE, "memberOf": _string_array()}, ["memberOf"])

LOCATION_SPEC = _object(
    {
        "type": _string(),
        "target": _string(),
        "targets": _string_array(),
        "presence": {"type": "string", "enum": ["required", "optional"]},
    },
    [],
)

_PERMISSIONS = _object({"tags": {"type": "array", "items": _string(None)}})
_CONDITION = {"type": ["string", "boolean"]}
_FORM_DECORATORS = {
    "type": "array",
    "items": _object({"id": _string(None), "input": {"type": "object"}}),
}

TEMPLATE_SPEC = _object(
    {
        "type": _string(),
        "owner": _string(),
        "lifecycle": _string(),
        "parameters": {
            "oneOf": [
                _object({"backstage:permissions": _PERMISSIONS}),
                {"type": "array", "items": _object({"backstage:permissions": _PERMISSIONS})},
            ]
        },
        "secrets": _object({"schema": {"type": "object"}}),
        "presentation": _object(
            {
                "buttonLabels": _object(
                    {
                        "backButtonText": _string(None),
                        "createButtonText": _string(None),
                        "reviewButtonText": _string(None),
                    }
                )
            }
        ),
        "EXPERIMENTAL_recovery": _object({"EXPERIMENTAL_strategy": _string(None)}),
        "formDecorators": _FORM_DECORATORS,
        "EXPERIMENTAL_formDecorators": _FORM_DECORATORS,
        "steps": {
            "type": "array",
            "items": _object(
                {
                    "id": _string(None),
                    "name": _string(None),
                    "action": _string(None),
                    "input": {"type": "object"},
                    "if": _CONDITION,
                    "backstage:permissions": _PERMISSIONS,
                },
                ["action"],
            ),
        },
        "output": _object(
            {
                "links": {
                    "type": "array",
                    "items": _object(
                        {
                            "if": _CONDITION,
                            "url": _string(),
                            "entityRef": _string(),
                            "title": _string(),
                            "icon": _string(),
                        },
                        [],
                    ),
                },
                "text": {
                    "type": "array",
                    "items": _object(
                        {
                            "if": _CONDITION,
                            "title": _string(),
                            "icon": _string(),
                            "content": _string(None),
                        },
                        [],
                    ),
                },
            },
            additionalProperties={"type": "string"},
        ),
    },
    ["type", "steps"],
)

#: kind -> (accepted apiVersions, kind-specific part of the schema)
KIND_SCHEMAS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    kind: (versions, _kind_part(kind, versions, spec))
    for kind, versions, spec in (
        ("API", BACKSTAGE_API_VERSIONS, API_SPEC),
        ("Component", BACKSTAGE_API_VERSIONS, COMPONENT_SPEC),
        ("Resource", BACKSTAGE_API_VERSIONS, RESOURCE_SPEC),
        ("Group", BACKSTAGE_API_VERSIONS, GROUP_SPEC),
        ("Location", BACKSTAGE_API_VERSIONS, LOCATION_SPEC),
        ("User", BACKSTAGE_API_VERSIONS, USER_SPEC),
        ("System", BACKSTAGE_API_VERSIONS, SYSTEM_SPEC),
        ("Domain", BACKSTAGE_API_VERSIONS, DOMAIN_SPEC),
        ("Template", TEMPLATE_API_VERSIONS, TEMPLATE_SPEC),
    )
}


def kind_schema(part: Mapping[str, Any]) -> dict[str, Any]:
    """The full schema of a kind: the common entity schema plus the kind's part."""
    return {"allOf": [ENTITY_SCHEMA, part]}


def fast_kind_schema(kind: str) -> dict[str, Any]:
    """A single-object schema for the fast path of a built-in kind.

    It accepts a subset of what the full kind schema accepts (and also refuses
    root fields other than apiVersion, kind, metadata and spec, and non-string
    values anywhere in labels and annotations), so anything it refuses is
    sent to the exact, step-by-step validation, which finds the real error.
    """
    api_versions, part = KIND_SCHEMAS[kind]
    metadata = dict(ENTITY_META_SCHEMA)
    properties = dict(metadata["properties"])
    for name in ("labels", "annotations"):
        properties[name] = {"type": "object", "additionalProperties": {"type": "string"}}
    metadata["properties"] = properties
    return _object(
        {
            "apiVersion": {"enum": list(api_versions)},
            "kind": {"enum": [kind]},
            "metadata": metadata,
            "spec": part["properties"]["spec"],
        },
        ["apiVersion", "kind", "metadata", "spec"],
        additionalProperties=False,
    )


# --------------------------------------------------------------------------
# Compilation (fast path)
# --------------------------------------------------------------------------


def _for_python(schema: Any) -> Any:
    """A copy of ``schema`` with JavaScript patterns replaced by Python ones."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "pattern":
                out[key] = _PY_PATTERNS.get(value, value)
            elif key == "patternProperties":
                out[key] = {_PY_PATTERNS.get(p, p): _for_python(s) for p, s in value.items()}
            else:
                out[key] = _for_python(value)
        return out
    if isinstance(schema, list):
        return [_for_python(item) for item in schema]
    return schema


def compile_schema(schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    """Compile one of our schemas with fastjsonschema (no defaults are filled in).

    The returned function raises ``fastjsonschema.JsonSchemaValueException``
    on invalid data; use :func:`first_error` to describe the failure.
    """
    return fastjsonschema.compile(_for_python(dict(schema)), use_default=False, use_formats=False)


_validate_envelope = compile_schema(ENVELOPE_SCHEMA)
_validate_entity = compile_schema(ENTITY_SCHEMA)

#: fastjsonschema's exception type, re-exported for callers of compiled validators
JsonSchemaValueException = fastjsonschema.JsonSchemaValueException


def validate_envelope_schema(data: Any) -> SchemaError | None:
    """The first ajv error of ``data`` against the envelope schema, or None."""
    try:
        _validate_envelope(data)
    except JsonSchemaValueException:
        return first_error(ENVELOPE_SCHEMA, data) or _unexplained(data)
    return None


def validate_entity_schema(data: Any) -> SchemaError | None:
    """The first ajv error of ``data`` against the entity schema, or None."""
    try:
        _validate_entity(data)
    except JsonSchemaValueException:
        return first_error(ENTITY_SCHEMA, data) or _unexplained(data)
    return None


# --------------------------------------------------------------------------
# ajv-compatible error reporting (error path)
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One schema violation, described the way ajv (v8) describes it."""

    instance_path: str  # JSON pointer of the value, "" for the root
    keyword: str  # e.g. "required", "type"
    message: str  # ajv's message, e.g. "must be string"
    params: tuple[tuple[str, Any], ...]  # ajv's params, in order
    field: str  # dotted path of the offending field, e.g. "spec.owner"

    def ajv_message(self) -> str:
        """``<instancePath or <root>> <message> - <param>: <value>`` (Backstage's throwAjvError)."""
        params = ", ".join(f"{key}: {js_string(value)}" for key, value in self.params)
        return f"{self.instance_path or '<root>'} {self.message} - {params}"

    def short_message(self) -> str:
        """``<instancePath or <root>> <message>`` (Backstage's SchemaValidEntityPolicy)."""
        return f"{self.instance_path or '<root>'} {self.message}"


def _unexplained(data: Any) -> SchemaError:
    # Only reached if fastjsonschema and first_error disagree (a bug).
    return SchemaError("", "unknown", "is invalid", (), "")


_GROUPS: dict[str, tuple[str, ...]] = {
    "number": ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf"),
    "string": ("maxLength", "minLength", "pattern", "format"),
    "array": ("maxItems", "minItems", "uniqueItems", "additionalItems", "items", "contains"),
    "object": (
        "maxProperties",
        "minProperties",
        "required",
        "propertyNames",
        "additionalProperties",
        "dependencies",
        "properties",
        "patternProperties",
    ),
}


def _json_type_matches(data: Any, json_type: str) -> bool:
    if json_type == "object":
        return isinstance(data, Mapping)
    if json_type == "array":
        return isinstance(data, list | tuple)
    if json_type == "string":
        return isinstance(data, str)
    if json_type == "boolean":
        return isinstance(data, bool)
    if json_type == "null":
        return data is None
    if json_type == "number":
        return isinstance(data, int | float) and not isinstance(data, bool) and math.isfinite(data)
    if json_type == "integer":
        return (
            isinstance(data, int | float)
            and not isinstance(data, bool)
            and math.isfinite(data)
            and float(data).is_integer()
        )
    return False


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path)


def _error(
    path: tuple[Any, ...], keyword: str, message: str, params: dict[str, Any], field_path=None
) -> SchemaError:
    return SchemaError(
        _pointer(path),
        keyword,
        message,
        tuple(params.items()),
        _dotted(field_path if field_path else path),
    )


_pattern_cache: dict[str, re.Pattern[str]] = {}


def _regex(pattern: str) -> re.Pattern[str]:
    compiled = _pattern_cache.get(pattern)
    if compiled is None:
        compiled = _pattern_cache[pattern] = re.compile(_PY_PATTERNS.get(pattern, pattern))
    return compiled


def _has_group_rules(schema: Mapping[str, Any], group: str) -> bool:
    return any(keyword in schema for keyword in _GROUPS[group])


def _errors(schema: Any, data: Any, path: tuple[Any, ...]) -> Iterator[SchemaError]:
    """All errors of ``data`` against ``schema`` in ajv's order (allErrors mode)."""
    if schema is True or schema is None:
        return
    if schema is False:
        yield _error(path, "false schema", "boolean schema is false", {})
        return
    types = schema.get("type")
    type_list: list[str] = (
        [] if types is None else ([types] if isinstance(types, str) else list(types))
    )
    type_group: str | None = None
    if len(type_list) == 1 and type_list[0] in _GROUPS and _has_group_rules(schema, type_list[0]):
        type_group = type_list[0]  # checked in the group's place, like ajv does
    type_params = {"type": types if isinstance(types, str) else ",".join(type_list)}
    type_message = f"must be {type_params['type']}"
    if type_list and type_group is None and not any(_json_type_matches(data, t) for t in type_list):
        yield _error(path, "type", type_message, type_params)

    # Keywords that apply to any type, in ajv's order.
    if "const" in schema and not _json_equal(data, schema["const"]):
        yield _error(path, "const", "must be equal to constant", {"allowedValue": schema["const"]})
    if "enum" in schema and not any(_json_equal(data, v) for v in schema["enum"]):
        yield _error(
            path,
            "enum",
            "must be equal to one of the allowed values",
            {"allowedValues": schema["enum"]},
        )
    if "oneOf" in schema:
        branch_errors = [list(_errors(sub, data, path)) for sub in schema["oneOf"]]
        passing = [i for i, errs in enumerate(branch_errors) if not errs]
        if len(passing) != 1:
            for errs in branch_errors:
                yield from errs
            yield _error(
                path,
                "oneOf",
                "must match exactly one schema in oneOf",
                {"passingSchemas": passing if passing else None},
            )
    if "allOf" in schema:
        for sub in schema["allOf"]:
            yield from _errors(sub, data, path)

    for group in ("number", "string", "array", "object"):
        if not _has_group_rules(schema, group):
            continue
        if not _json_type_matches(data, group):
            if type_group == group:
                yield _error(path, "type", type_message, type_params)
            continue
        if group == "string":
            yield from _string_errors(schema, data, path)
        elif group == "array":
            yield from _array_errors(schema, data, path)
        elif group == "object":
            yield from _object_errors(schema, data, path)


def _string_errors(
    schema: Mapping[str, Any], data: str, path: tuple[Any, ...]
) -> Iterator[SchemaError]:
    limit = schema.get("minLength")
    if limit is not None and len(data) < limit:
        yield _error(
            path, "minLength", f"must NOT have fewer than {limit} characters", {"limit": limit}
        )
    pattern = schema.get("pattern")
    if pattern is not None and not _regex(pattern).search(data):
        yield _error(path, "pattern", f'must match pattern "{pattern}"', {"pattern": pattern})


def _array_errors(
    schema: Mapping[str, Any], data: list, path: tuple[Any, ...]
) -> Iterator[SchemaError]:
    limit = schema.get("minItems")
    if limit is not None and len(data) < limit:
        yield _error(path, "minItems", f"must NOT have fewer than {limit} items", {"limit": limit})
    items = schema.get("items")
    if isinstance(items, Mapping | bool):
        for index, item in enumerate(data):
            yield from _errors(items, item, (*path, index))


def _object_errors(
    schema: Mapping[str, Any], data: Mapping, path: tuple[Any, ...]
) -> Iterator[SchemaError]:
    for name in schema.get("required", ()):
        if name not in data:
            yield _error(
                path,
                "required",
                f"must have required property '{name}'",
                {"missingProperty": name},
                (*path, name),
            )
    properties = schema.get("properties", {})
    pattern_properties = schema.get("patternProperties", {})
    additional = schema.get("additionalProperties", True)
    if additional is not True:
        for key in data:
            if key in properties or any(_regex(p).search(str(key)) for p in pattern_properties):
                continue
            if additional is False:
                yield _error(
                    path,
                    "additionalProperties",
                    "must NOT have additional properties",
                    {"additionalProperty": key},
                    (*path, key),
                )
            else:
                yield from _errors(additional, data[key], (*path, key))
    for name, sub in properties.items():
        if name in data:
            yield from _errors(sub, data[name], (*path, name))
    for pattern, sub in pattern_properties.items():
        regex = _regex(pattern)
        for key in data:
            if regex.search(str(key)):
                yield from _errors(sub, data[key], (*path, key))


def first_error(schema: Mapping[str, Any], data: Any) -> SchemaError | None:
    """The first error ajv reports for ``data`` against ``schema``, or None if valid."""
    return next(_errors(schema, data, ()), None)
