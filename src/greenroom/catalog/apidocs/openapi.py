"""Read an OpenAPI 3.0/3.1 or Swagger 2.0 definition into plain data a template can render.

Why this exists
---------------
Backstage shows OpenAPI definitions with Swagger UI, megabytes of JavaScript that
parse the definition in the browser. Greenroom renders pages on the server, so the
definition is read here, once, into small dataclasses (`OpenApiDoc` and friends)
that a Jinja template walks as nested lists. Nothing here produces HTML: texts
(descriptions are CommonMark in OpenAPI) stay text, and the template escapes them.

Why it is defensive
-------------------
Any catalog file can carry a definition, so the input is untrusted and this runs
inside a web request. Every failure reaches the caller as `DefinitionError` with a
message (and a line when the parser knows one), never as another exception:

* Definitions above `MAX_DEFINITION_BYTES` are refused before parsing.
* Nesting is limited while libyaml composes the document: its composer recurses in
  C, and ``[[[[...`` a hundred thousand deep crashes the whole process.
* YAML aliases are shared, not copied, by PyYAML's safe loader, so loading a
  "billion laughs" document is cheap; the cost would come when something walks it.
  Our walk is that something, so it counts every node it visits (including what
  `$ref`s pull in) and gives up with a `DefinitionError` past `MAX_WALK_NODES`.
* Merge keys (``<<``) are the one place where PyYAML itself copies: nested merges
  of merges grow exponentially while loading. Merged mappings are de-duplicated by
  key as they are built, which keeps them as small as the result.
* ``$ref``: only local ones (``#/...``) are followed, never fetched from a file or
  URL. A reference to a schema already being expanded on the current path is shown
  by name (a cycle), nesting stops at `MAX_SCHEMA_DEPTH`, and once the walk has
  visited `REF_EXPANSION_BUDGET` nodes further references are shown by name only,
  so a large definition with heavily reused schemas still renders.

YAML is read with YAML 1.2's booleans (``yes``/``no``/``on``/``off`` stay strings)
and without implicit timestamps, as Swagger UI's parser does and as the JSON form
of the same definition would read.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson
import yaml
from yaml.nodes import MappingNode, ScalarNode

__all__ = [
    "MAX_DEFINITION_BYTES",
    "MAX_SCHEMA_DEPTH",
    "MAX_WALK_NODES",
    "REF_EXPANSION_BUDGET",
    "DefinitionError",
    "MediaTypeView",
    "OpenApiDoc",
    "OperationGroup",
    "OperationView",
    "ParameterView",
    "PropertyView",
    "RequestBodyView",
    "ResponseView",
    "SchemaAlternatives",
    "SchemaView",
    "ServerView",
    "TagView",
    "read_openapi",
]

log = logging.getLogger(__name__)

MAX_DEFINITION_BYTES = 5 * 1024 * 1024
# Nodes the walk may visit (with aliases and $refs expanded) before giving up.
MAX_WALK_NODES = 200_000
# After this many visited nodes, $refs are shown by name instead of expanded.
REF_EXPANSION_BUDGET = 100_000
# Nested schema levels (properties, items, alternatives, $ref hops) shown.
MAX_SCHEMA_DEPTH = 32
# YAML/JSON nesting accepted while parsing; real definitions stay far below.
MAX_NESTING = 100
MAX_ENUM_VALUES = 100
MAX_VALUE_CHARS = 200
MAX_NOTES = 20

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DEFAULT_GROUP = "default"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class DefinitionError(Exception):
    """The definition cannot be shown as OpenAPI; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return self.message  # messages that know the line say it in their own words


# --------------------------------------------------------------------------
# the views
# --------------------------------------------------------------------------


@dataclass(slots=True)
class PropertyView:
    name: str
    schema: SchemaView
    required: bool = False


@dataclass(slots=True)
class SchemaAlternatives:
    """oneOf / anyOf / allOf: the schemas listed side by side."""

    keyword: str  # "oneOf", "anyOf" or "allOf"
    schemas: tuple[SchemaView, ...] = ()

    @property
    def label(self) -> str:
        return {"oneOf": "one of", "anyOf": "any of", "allOf": "all of"}.get(
            self.keyword, self.keyword
        )


@dataclass(slots=True)
class SchemaView:
    """One schema node; `properties`, `items`, `additional_properties` and
    `alternatives` make the tree. Values (`enum`, `default`) are JSON text.

    Sequences are tuples: a large definition makes hundreds of thousands of these,
    and empty tuples cost no allocation and no garbage-collector work, which was
    more than half of the walk's time with lists.
    """

    type: str | None = None  # "string", "object", "string | integer" (3.1 type lists)...
    format: str | None = None
    title: str | None = None
    description: str | None = None  # CommonMark source, shown as text
    nullable: bool = False
    deprecated: bool = False
    read_only: bool = False
    write_only: bool = False
    enum: tuple[str, ...] = ()
    enum_more: int = 0  # enum values left out after MAX_ENUM_VALUES
    default: str | None = None
    constraints: tuple[str, ...] = ()  # "minLength: 1", "pattern: \"^a\""
    required: tuple[str, ...] = ()
    properties: tuple[PropertyView, ...] = ()
    additional_properties: SchemaView | None = None
    items: SchemaView | None = None
    alternatives: tuple[SchemaAlternatives, ...] = ()
    ref: str | None = None  # the $ref this schema was reached through, as written
    ref_name: str | None = None  # its last segment: "Pet" for #/components/schemas/Pet
    # Why the schema is not expanded: "cycle" (already being expanded above),
    # "remote" (not fetched), "missing" (nothing at that pointer), "limit" (size/depth).
    unresolved: str | None = None

    @property
    def ref_href(self) -> str | None:
        """The remote $ref as a link target, only for http(s) URLs."""
        return _safe_href(self.ref) if self.unresolved == "remote" else None

    @property
    def label(self) -> str:
        """A one-line summary: "Pet", "array of Pet", "string (date-time) | null"."""
        if self.ref_name and (self.unresolved or self.type in (None, "object")):
            text = self.ref_name
        elif self.type == "array":
            text = f"array of {self.items.label}" if self.items else "array"
        elif self.type:
            text = f"{self.type} ({self.format})" if self.format else self.type
        elif self.alternatives:
            alt = self.alternatives[0]
            text = f"{alt.label}: " + " | ".join(s.label for s in alt.schemas)
        else:
            text = "any"
        return f"{text} | null" if self.nullable else text


@dataclass(slots=True)
class ParameterView:
    name: str
    location: str  # the parameter's `in`: path, query, header, cookie
    required: bool = False
    description: str | None = None
    deprecated: bool = False
    schema: SchemaView | None = None
    ref: str | None = None  # set when the parameter is a $ref we could not follow
    unresolved: str | None = None  # "remote", "missing" or "cycle"


@dataclass(slots=True)
class MediaTypeView:
    media_type: str
    schema: SchemaView | None = None


@dataclass(slots=True)
class RequestBodyView:
    description: str | None = None
    required: bool = False
    content: list[MediaTypeView] = field(default_factory=list)
    ref: str | None = None
    unresolved: str | None = None


@dataclass(slots=True)
class ResponseView:
    status: str  # "200", "4XX", "default"
    description: str | None = None
    content: list[MediaTypeView] = field(default_factory=list)
    ref: str | None = None
    unresolved: str | None = None


@dataclass(slots=True)
class OperationView:
    method: str  # upper case: "GET"
    path: str  # the path template, or the webhook's name
    anchor: str  # unique HTML id for the operation on the page
    operation_id: str | None = None
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    tags: list[str] = field(default_factory=list)
    parameters: list[ParameterView] = field(default_factory=list)
    request_body: RequestBodyView | None = None
    responses: list[ResponseView] = field(default_factory=list)
    webhook: bool = False


@dataclass(slots=True)
class OperationGroup:
    name: str  # a tag, or DEFAULT_GROUP for untagged operations
    description: str | None = None
    operations: list[OperationView] = field(default_factory=list)


@dataclass(slots=True)
class ServerView:
    url: str
    description: str | None = None


@dataclass(slots=True)
class TagView:
    name: str
    description: str | None = None


@dataclass(slots=True)
class OpenApiDoc:
    spec_version: str  # "3.1.0", "3.0.3", "2.0"
    title: str
    version: str
    description: str | None = None
    servers: list[ServerView] = field(default_factory=list)
    tags: list[TagView] = field(default_factory=list)
    groups: list[OperationGroup] = field(default_factory=list)  # by tag, "default" last
    operations: list[OperationView] = field(default_factory=list)  # in document order
    webhooks: list[OperationView] = field(default_factory=list)  # OpenAPI 3.1
    notes: list[str] = field(default_factory=list)  # what is not shown, and why


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TooDeep(Exception):
    pass


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader with a nesting limit, linear merge keys and YAML 1.2 booleans."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    # The composer calls these around every node (no-ops in PyYAML unless path
    # resolvers are registered), in the C loader too: a free depth counter.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise _TooDeep

    def ascend_resolver(self) -> None:
        self._depth -= 1

    def flatten_mapping(self, node: MappingNode) -> None:
        super().flatten_mapping(node)
        # Keep one pair per scalar key (the last, which is the one the dict keeps) so
        # a merge of merges stays as long as its result instead of growing each level.
        if len(node.value) < 2:
            return
        seen: dict[tuple[str, str], int] = {}
        pairs: list[tuple[Any, Any]] = []
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                at = seen.get((key.tag, key.value))
                if at is not None:
                    pairs[at] = (key, value)
                    continue
                seen[(key.tag, key.value)] = len(pairs)
            pairs.append((key, value))
        node.value = pairs


_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _load(text: str) -> Any:
    """The document as Python values; JSON by orjson when it looks like JSON, else YAML."""
    head = text[:64].lstrip("\ufeff \t\r\n")
    looks_json = head[:1] in ("{", "[")
    if looks_json:
        try:
            return orjson.loads(text)
        except (orjson.JSONDecodeError, TypeError, UnicodeError):
            pass  # perhaps YAML in flow style, or JSON with comments: let YAML try
    if not looks_json:
        return _load_yaml(text)
    try:
        return _load_yaml(text)
    except DefinitionError as yaml_error:
        # Both failed: the JSON parser's message is the better one for JSON-looking
        # text, unless it only fails on what YAML already explained (nesting).
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise DefinitionError(
                f"Not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})", e.lineno
            ) from None
        except (RecursionError, ValueError):
            raise yaml_error from None


def _load_yaml(text: str) -> Any:
    loader = None
    try:
        loader = _Loader(text)  # encodes the text: lone surrogates fail here
        return loader.get_single_data()
    except _TooDeep:
        raise DefinitionError(
            f"The definition is nested deeper than {MAX_NESTING} levels"
        ) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        # "while parsing a flow sequence: did not find expected ',' or ']'"
        problem = ": ".join(p for p in (e.context, e.problem) if p) or "invalid YAML"
        if mark is None:
            raise DefinitionError(f"Not valid YAML or JSON: {problem}") from None
        line = mark.line + 1
        last = text.rstrip().count("\n") + 1
        if line > last:  # the text ended too early (an unclosed bracket): libyaml points past it
            raise DefinitionError(
                f"Not valid YAML or JSON: {problem} at the end of the definition (line {last})",
                last,
            ) from None
        raise DefinitionError(
            f"Not valid YAML or JSON: {problem} (line {line}, column {mark.column + 1})", line
        ) from None
    except yaml.YAMLError as e:  # reader errors: a bad character, known by offset only
        position = getattr(e, "position", None)
        reason = getattr(e, "reason", None) or "invalid YAML"
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise DefinitionError(f"Not valid YAML or JSON: {reason}", line) from None
    except UnicodeError as e:  # lone surrogates cannot be handed to libyaml
        start = getattr(e, "start", None)
        line = text.count("\n", 0, start) + 1 if isinstance(start, int) else None
        raise DefinitionError(
            "The definition contains characters that are not valid Unicode", line
        ) from None
    except RecursionError:  # a merge key that merges its own mapping
        raise DefinitionError("The definition has a recursive YAML merge key (<<)") from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise DefinitionError(f"Not valid YAML or JSON: {e}") from None
    finally:
        if loader is not None:
            loader.dispose()


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A scalar as display text; containers are not text."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _map(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _version_text(value: Any) -> str:
    # An unquoted `swagger: 2.0` or `openapi: 3.1` is a float in YAML.
    return _text(value) or ""


def _ref_name(ref: str) -> str:
    tail = ref.rsplit("#", 1)[-1] if "#" in ref else ref
    tail = tail.rstrip("/").rsplit("/", 1)[-1] or ref
    return unquote(tail).replace("~1", "/").replace("~0", "~")


def _safe_href(ref: str | None) -> str | None:
    if ref and re.match(r"https?://", ref, re.IGNORECASE):
        return ref
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-") or "x"


class _Missing(Exception):
    pass


class _Full(Exception):
    pass


_SCHEMA_CONSTRAINTS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "collectionFormat",
)
# Keys of a Swagger 2 non-body parameter (and its `items`) that describe its value.
_CONSTRAINT_KEYS = frozenset(_SCHEMA_CONSTRAINTS)
_V2_PARAM_SCHEMA_KEYS = frozenset(
    ("type", "format", "items", "enum", "default", "x-nullable", *_SCHEMA_CONSTRAINTS)
)


# --------------------------------------------------------------------------
# the walk
# --------------------------------------------------------------------------


class _Reader:
    """One walk over one document; counts visited nodes to stay bounded."""

    def __init__(self, root: dict[Any, Any], swagger2: bool) -> None:
        self.root = root
        self.swagger2 = swagger2
        self.nodes = 0
        self.notes: list[str] = []
        self._noted: set[str] = set()
        self._anchors: set[str] = set()
        self.consumes = [_text(x) or "" for x in _list(root.get("consumes"))] or [
            "application/json"
        ]
        self.produces = [_text(x) or "" for x in _list(root.get("produces"))] or [
            "application/json"
        ]

    # -- bookkeeping ------------------------------------------------------

    def charge(self, count: int = 1) -> None:
        self.nodes += count
        if self.nodes > MAX_WALK_NODES:
            raise DefinitionError(
                f"The definition is too large to show: reading it visits more than "
                f"{MAX_WALK_NODES:,} nodes (a YAML alias bomb such as 'billion laughs', "
                "or $refs that expand to a huge tree?)"
            )

    def note(self, key: str, message: str) -> None:
        if key not in self._noted and len(self.notes) < MAX_NOTES:
            self._noted.add(key)
            self.notes.append(message)

    def note_remote(self, ref: str) -> None:
        self.note(f"remote:{ref}", f"$ref {ref} points outside this definition and is not fetched.")

    # -- $ref -------------------------------------------------------------

    def pointer(self, ref: str) -> Any:
        """The value at a local reference (`#/a/b`); `_Missing` when there is none."""
        fragment = unquote(ref[1:])
        if fragment in ("", "/"):
            return self.root
        if not fragment.startswith("/"):
            raise _Missing
        node: Any = self.root
        for raw in fragment[1:].split("/"):
            self.charge()
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                if part in node:
                    node = node[part]
                elif part.lstrip("-").isdigit() and int(part) in node:
                    node = node[int(part)]  # YAML reads `200:` as an int key
                else:
                    raise _Missing
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise _Missing
        return node

    def deref(self, node: Any) -> tuple[Any, str | None, str | None]:
        """Follow $ref chains of a non-schema object (parameter, response, ...).

        Returns (object, first $ref, why unresolved); the object is None when unresolved.
        """
        first: str | None = None
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            first = first or ref
            if not ref.startswith("#"):
                self.note_remote(ref)
                return None, first, "remote"
            if ref in seen or len(seen) >= MAX_SCHEMA_DEPTH:
                return None, first, "cycle"
            seen.add(ref)
            try:
                node = self.pointer(ref)
            except _Missing:
                self.note(f"missing:{ref}", f"$ref {ref} points to nothing in this definition.")
                return None, first, "missing"
        return node, first, None

    # -- values -----------------------------------------------------------

    def value_text(self, value: Any) -> str:
        """Compact JSON text of a value, cut at MAX_VALUE_CHARS (so aliases cannot blow it up)."""
        out: list[str] = []
        size = 0

        def emit(piece: str) -> None:
            nonlocal size
            out.append(piece)
            size += len(piece)
            if size > MAX_VALUE_CHARS:
                raise _Full

        def walk(v: Any, depth: int) -> None:
            self.charge()
            if depth > MAX_NESTING:
                emit("…")
            elif isinstance(v, dict):
                emit("{")
                for i, (k, item) in enumerate(v.items()):
                    emit(("," if i else "") + json.dumps(_text(k) or "", ensure_ascii=False) + ":")
                    walk(item, depth + 1)
                emit("}")
            elif isinstance(v, list):
                emit("[")
                for i, item in enumerate(v):
                    if i:
                        emit(",")
                    walk(item, depth + 1)
                emit("]")
            elif isinstance(v, str):
                emit(json.dumps(v[: MAX_VALUE_CHARS + 1], ensure_ascii=False))
            elif v is None or isinstance(v, bool):
                emit(json.dumps(v))
            elif isinstance(v, int | float):
                emit(json.dumps(v) if isinstance(v, int) or v == v else "NaN")
            else:  # dates and other tagged scalars
                emit(json.dumps(str(v), ensure_ascii=False))

        try:
            walk(value, 0)
        except _Full:
            return "".join(out)[:MAX_VALUE_CHARS] + "…"
        return "".join(out)

    # -- schemas ----------------------------------------------------------

    def schema(self, node: Any, depth: int = 0, stack: tuple[str, ...] = ()) -> SchemaView:
        self.charge()
        if isinstance(node, bool):  # 3.1: `true` accepts anything, `false` nothing
            return SchemaView(type="any" if node else "never")
        if not isinstance(node, dict):
            return SchemaView()
        if depth > MAX_SCHEMA_DEPTH:
            ref = node.get("$ref") if isinstance(node.get("$ref"), str) else None
            return SchemaView(ref=ref, ref_name=_ref_name(ref) if ref else None, unresolved="limit")
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._schema_ref(node, ref, depth, stack)

        view = SchemaView(
            format=_text(node.get("format")),
            title=_text(node.get("title")),
            description=_text(node.get("description")),
            nullable=node.get("nullable") is True or node.get("x-nullable") is True,
            deprecated=node.get("deprecated") is True,
            read_only=node.get("readOnly") is True,
            write_only=node.get("writeOnly") is True,
        )
        kind = node.get("type")
        if isinstance(kind, list):  # 3.1: a list of types, "null" among them
            names = [t for t in (_text(x) for x in kind[:MAX_ENUM_VALUES]) if t]
            self.charge(len(names))
            view.nullable = view.nullable or "null" in names
            view.type = " | ".join(t for t in names if t != "null") or ("null" if names else None)
        else:
            view.type = _text(kind)

        if "const" in node:
            view.enum = (self.value_text(node["const"]),)
        enum = node.get("enum")
        if isinstance(enum, list):
            shown = enum[:MAX_ENUM_VALUES]
            view.enum = tuple(self.value_text(v) for v in shown)
            view.enum_more = len(enum) - len(shown)
        if "default" in node:
            view.default = self.value_text(node["default"])
        if not _CONSTRAINT_KEYS.isdisjoint(node):
            view.constraints = tuple(
                f"{key}: {self.value_text(node[key])}"
                for key in _SCHEMA_CONSTRAINTS
                if key in node and not isinstance(node[key], dict | list)
            )

        required = node.get("required")
        if isinstance(required, list) and required:
            self.charge(len(required))
            view.required = tuple(r for r in (_text(x) for x in required) if r is not None)
        properties = node.get("properties")
        if isinstance(properties, dict) and properties:
            wanted = set(view.required)
            shown_properties = []
            for name, sub in properties.items():
                self.charge()
                key = _text(name) or ""
                shown_properties.append(
                    PropertyView(key, self.schema(sub, depth + 1, stack), key in wanted)
                )
            view.properties = tuple(shown_properties)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            view.additional_properties = self.schema(extra, depth + 1, stack)
        items = node.get("items")
        if isinstance(items, list):  # old tuple form: show the first item's schema
            items = items[0] if items else None
        if isinstance(items, dict | bool):
            view.items = self.schema(items, depth + 1, stack)
        alternatives = []
        for keyword in ("oneOf", "anyOf", "allOf"):
            options = node.get(keyword)
            if isinstance(options, list) and options:
                schemas = tuple(self.schema(o, depth + 1, stack) for o in options)
                alternatives.append(SchemaAlternatives(keyword, schemas))
        if alternatives:
            view.alternatives = tuple(alternatives)
        if view.type is None:  # what Swagger UI shows for schemas that omit `type`
            if view.properties or view.additional_properties:
                view.type = "object"
            elif view.items is not None:
                view.type = "array"
        return view

    def _schema_ref(
        self, node: dict[Any, Any], ref: str, depth: int, stack: tuple[str, ...]
    ) -> SchemaView:
        name = _ref_name(ref)
        # 3.1 lets a $ref carry its own description, which wins over the target's.
        description = _text(node.get("description"))
        if not ref.startswith("#"):
            self.note_remote(ref)
            return SchemaView(ref=ref, ref_name=name, unresolved="remote", description=description)
        if ref in stack:
            return SchemaView(ref=ref, ref_name=name, unresolved="cycle", description=description)
        if self.nodes > REF_EXPANSION_BUDGET:
            self.note(
                "budget",
                "The definition is large: some $refs are shown by name only, not expanded.",
            )
            return SchemaView(ref=ref, ref_name=name, unresolved="limit", description=description)
        try:
            target = self.pointer(ref)
        except _Missing:
            self.note(f"missing:{ref}", f"$ref {ref} points to nothing in this definition.")
            return SchemaView(ref=ref, ref_name=name, unresolved="missing", description=description)
        view = self.schema(target, depth + 1, (*stack, ref))
        if view.ref is None or view.unresolved is None:  # name it as written here
            view.ref, view.ref_name = ref, name
        if description is not None:
            view.description = description
        return view

    def _content(self, content: Any) -> list[MediaTypeView]:
        out = []
        for media_type, media in _map(content).items():
            self.charge()
            media = _map(media)
            schema = self.schema(media["schema"]) if "schema" in media else None
            out.append(MediaTypeView(_text(media_type) or "", schema))
        return out

    # -- parameters -------------------------------------------------------

    def _parameter(self, raw: Any) -> tuple[ParameterView, dict[Any, Any] | None] | None:
        """The view and the resolved object (None when its $ref could not be followed)."""
        self.charge()
        param, ref, why = self.deref(raw)
        if why is not None:
            return ParameterView(_ref_name(ref or ""), "", ref=ref, unresolved=why), None
        if not isinstance(param, dict):
            return None
        description = _text(param.get("description"))
        if ref and isinstance(raw, dict) and "description" in raw:  # 3.1: the $ref's own wins
            description = _text(raw["description"])
        view = ParameterView(
            name=_text(param.get("name")) or "",
            location=_text(param.get("in")) or "",
            required=param.get("required") is True,
            description=description,
            deprecated=param.get("deprecated") is True,
        )
        if self.swagger2 and view.location == "body":
            pass  # its schema becomes the request body's, built there (see `operation`)
        elif "schema" in param:
            view.schema = self.schema(param["schema"])
        elif isinstance(param.get("content"), dict):  # 3.x: described by a media type
            content = self._content(param["content"])
            view.schema = content[0].schema if content else None
        elif self.swagger2:  # Swagger 2 writes the value's type on the parameter itself
            view.schema = self.schema(
                {k: v for k, v in param.items() if k in _V2_PARAM_SCHEMA_KEYS}
            )
        return view, param

    def _parameters(
        self, path_level: Any, op_level: Any
    ) -> list[tuple[ParameterView, dict[Any, Any] | None]]:
        """Path-level parameters merged into the operation's, as the spec says: an
        operation parameter with the same name and location replaces the path one."""
        own = [p for p in map(self._parameter, _list(op_level)) if p is not None]
        inherited = [p for p in map(self._parameter, _list(path_level)) if p is not None]

        def key(p: ParameterView) -> tuple[str, str]:
            return (p.ref or "", "$ref") if p.unresolved else (p.name, p.location)

        replaced = {key(view) for view, _ in own}
        return [p for p in inherited if key(p[0]) not in replaced] + own

    # -- operations -------------------------------------------------------

    def operation(
        self, method: str, path: str, op: dict[Any, Any], path_item: dict[Any, Any], webhook: bool
    ) -> OperationView:
        self.charge()
        op_id = _text(op.get("operationId"))
        view = OperationView(
            method=method.upper(),
            path=path,
            anchor=self._anchor(op_id or f"{method}-{path}", webhook),
            operation_id=op_id,
            summary=_text(op.get("summary")),
            description=_text(op.get("description")),
            deprecated=op.get("deprecated") is True,
            webhook=webhook,
        )
        tags = _list(op.get("tags"))
        self.charge(len(tags))
        view.tags = list(dict.fromkeys(t for t in (_text(x) for x in tags) if t))

        form: list[tuple[ParameterView, dict[Any, Any]]] = []
        for param, raw in self._parameters(path_item.get("parameters"), op.get("parameters")):
            if self.swagger2 and raw is not None and param.location == "body":
                view.request_body = RequestBodyView(
                    description=param.description,
                    required=param.required,
                    content=self._v2_media(op.get("consumes"), self.consumes, raw.get("schema")),
                )
            elif self.swagger2 and raw is not None and param.location == "formData":
                form.append((param, raw))
            else:
                view.parameters.append(param)
        if form:
            view.request_body = self._v2_form(op, form)
        if not self.swagger2 and "requestBody" in op:
            view.request_body = self._request_body(op["requestBody"])

        for status, raw in _map(op.get("responses")).items():
            view.responses.append(self._response(_text(status) or "", raw, op))
        return view

    def _anchor(self, base: str, webhook: bool) -> str:
        anchor = ("hook-" if webhook else "op-") + _slug(base)
        unique, n = anchor, 1
        while unique in self._anchors:
            n += 1
            unique = f"{anchor}-{n}"
        self._anchors.add(unique)
        return unique

    def _request_body(self, raw: Any) -> RequestBodyView:
        body, ref, why = self.deref(raw)
        if why is not None:
            return RequestBodyView(ref=ref, unresolved=why)
        body = _map(body)
        return RequestBodyView(
            description=_text(body.get("description")),
            required=body.get("required") is True,
            content=self._content(body.get("content")),
        )

    def _response(self, status: str, raw: Any, op: dict[Any, Any]) -> ResponseView:
        self.charge()
        response, ref, why = self.deref(raw)
        if why is not None:
            return ResponseView(status=status, ref=ref, unresolved=why)
        response = _map(response)
        view = ResponseView(status=status, description=_text(response.get("description")))
        if self.swagger2:
            if "schema" in response:
                view.content = self._v2_media(op.get("produces"), self.produces, response["schema"])
        else:
            view.content = self._content(response.get("content"))
        return view

    def _v2_media(self, own: Any, inherited: list[str], raw: Any) -> list[MediaTypeView]:
        """Swagger 2 has one schema for all media types of `consumes`/`produces`: the view
        is built once and shared, but charged once per media type, since the page shows
        it under each of them."""
        types = [t for t in (_text(x) for x in _list(own)) if t] or inherited
        types = types[:MAX_ENUM_VALUES]
        self.charge(len(types))
        schema = None
        if raw is not None:
            before = self.nodes
            schema = self.schema(raw)
            self.charge((self.nodes - before) * (len(types) - 1))
        return [MediaTypeView(t, schema) for t in types]

    def _v2_form(
        self, op: dict[Any, Any], form: list[tuple[ParameterView, dict[Any, Any]]]
    ) -> RequestBodyView:
        """Swagger 2 `formData` parameters are one form body, as OpenAPI 3 writes them."""
        schema = SchemaView(
            type="object",
            properties=tuple(
                PropertyView(param.name, self._form_field(param, raw), param.required)
                for param, raw in form
            ),
            required=tuple(param.name for param, _ in form if param.required),
        )
        declared = [t for t in (_text(x) for x in _list(op.get("consumes"))) if t] or self.consumes
        types = [t for t in declared if t in _FORM_TYPES]
        if not types:
            has_file = any(raw.get("type") == "file" for _, raw in form)
            types = ["multipart/form-data" if has_file else "application/x-www-form-urlencoded"]
        return RequestBodyView(
            required=any(p.required for p, _ in form),
            content=[MediaTypeView(t, schema) for t in types],
        )

    @staticmethod
    def _form_field(param: ParameterView, raw: dict[Any, Any]) -> SchemaView:
        field_schema = param.schema or SchemaView()
        if field_schema.description is None:
            field_schema.description = param.description
        if raw.get("type") == "file":
            field_schema.type, field_schema.format = "string", "binary"
        return field_schema

    def path_items(self, paths: Any, webhook: bool) -> list[OperationView]:
        out = []
        for path, raw in _map(paths).items():
            self.charge()
            item, ref, why = self.deref(raw)
            name = _text(path) or ""
            if why is not None:
                self.note(f"path:{name}", f"Path {name}: $ref {ref} is not followed ({why}).")
                continue
            item = _map(item)
            for method in METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    out.append(self.operation(method, name, op, item, webhook))
        return out


def _groups(tags: list[TagView], operations: list[OperationView]) -> list[OperationGroup]:
    """Operations by tag: declared tags first, then others as met, untagged last."""
    groups: dict[str, OperationGroup] = {
        t.name: OperationGroup(t.name, t.description) for t in tags
    }
    untagged = OperationGroup(DEFAULT_GROUP)
    for op in operations:
        if not op.tags:
            untagged.operations.append(op)
        for tag in op.tags:
            groups.setdefault(tag, OperationGroup(tag)).operations.append(op)
    out = [g for g in groups.values() if g.operations]
    if untagged.operations:
        if DEFAULT_GROUP in groups and groups[DEFAULT_GROUP].operations:
            groups[DEFAULT_GROUP].operations.extend(untagged.operations)
        else:
            out.append(untagged)
    return out


def _servers(root: dict[Any, Any], swagger2: bool, reader: _Reader) -> list[ServerView]:
    if not swagger2:
        out = []
        for raw in _list(root.get("servers")):
            reader.charge()
            server = _map(raw)
            url = _text(server.get("url"))
            if url:
                out.append(ServerView(url, _text(server.get("description"))))
        return out
    host = _text(root.get("host"))
    base = _text(root.get("basePath")) or ""
    if not host:
        return [ServerView(base)] if base else []
    schemes = [s for s in (_text(x) for x in _list(root.get("schemes"))) if s] or ["https"]
    reader.charge(len(schemes))
    return [ServerView(f"{scheme}://{host}{base}") for scheme in schemes[:MAX_ENUM_VALUES]]


def read_openapi(text: str) -> OpenApiDoc:
    """Read an OpenAPI 3.0/3.1 or Swagger 2.0 definition (YAML or JSON).

    Raises `DefinitionError` (and nothing else) when the text cannot be shown as OpenAPI.
    """
    if not isinstance(text, str):
        raise DefinitionError("The definition is not text")
    if len(text) > MAX_DEFINITION_BYTES // 4:  # only then can the UTF-8 size exceed the limit
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_DEFINITION_BYTES:
            raise DefinitionError(
                f"The definition is too large to show ({size:,} bytes; "
                f"the limit is {MAX_DEFINITION_BYTES:,})"
            )
    try:
        return _read(text)
    except DefinitionError:
        raise
    except RecursionError:
        raise DefinitionError("The definition is nested too deeply to show") from None
    except Exception as e:  # a bug here must not turn a page into a 500; log it loudly
        log.exception("unexpected error reading an OpenAPI definition")
        raise DefinitionError(f"The definition could not be read ({type(e).__name__})") from None


def _read(text: str) -> OpenApiDoc:
    root = _load(text)
    if root is None:
        raise DefinitionError("The definition is empty")
    if not isinstance(root, dict):
        kind = "a list" if isinstance(root, list) else "a single value"
        raise DefinitionError(
            f"The definition must be a mapping (an object) at the top, not {kind}"
        )
    if "openapi" in root:
        spec_version = _version_text(root["openapi"])
        swagger2 = False
        if not re.match(r"3\.[01](?:\.|$)", spec_version):
            raise DefinitionError(
                f"OpenAPI version {spec_version!r} is not supported "
                "(supported: OpenAPI 3.0 and 3.1, Swagger 2.0)"
            )
    elif "swagger" in root:
        spec_version = _version_text(root["swagger"])
        swagger2 = True
        if spec_version != "2.0":
            raise DefinitionError(
                f"Swagger version {spec_version!r} is not supported "
                "(supported: OpenAPI 3.0 and 3.1, Swagger 2.0)"
            )
    else:
        raise DefinitionError(
            "Not an OpenAPI definition: it has neither an 'openapi' nor a 'swagger' key at the top"
        )

    reader = _Reader(root, swagger2)
    info = _map(root.get("info"))
    doc = OpenApiDoc(
        spec_version=spec_version,
        title=_text(info.get("title")) or "",
        version=_text(info.get("version")) or "",
        description=_text(info.get("description")),
        servers=_servers(root, swagger2, reader),
    )
    declared: set[str] = set()
    for raw in _list(root.get("tags")):
        reader.charge()
        tag = _map(raw)
        name = _text(tag.get("name"))
        if name and name not in declared:
            declared.add(name)
            doc.tags.append(TagView(name, _text(tag.get("description"))))
    doc.operations = reader.path_items(root.get("paths"), webhook=False)
    if not swagger2:
        doc.webhooks = reader.path_items(root.get("webhooks"), webhook=True)
    doc.groups = _groups(doc.tags, doc.operations)
    doc.notes = reader.notes
    return doc
