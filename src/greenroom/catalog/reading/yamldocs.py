"""Safe, fast multi-document YAML parsing for catalog files.

How a file is parsed
--------------------
* The bytes are split into documents on document markers: a line starting with
  ``---`` or ``...`` at column 0 followed by a blank or the end of the line. The
  YAML spec forbids such lines inside any scalar (libyaml stops a plain scalar
  there and refuses them inside quoted ones; a block scalar at the root cannot
  have content at column 0), so the split never cuts a document in two.
  ``%`` directive lines right before a ``---`` travel with that document.
* Each document is parsed on its own by libyaml (``CParser``, the C half of
  ``yaml.CSafeLoader``), so one broken document costs one error and the others
  still come through. Line numbers in errors are lines of the *file*.
* Values are built with the YAML 1.2 *core schema*, which is what Backstage's
  parser (the ``yaml`` npm package, via ``parseAllDocuments``) uses, instead of
  PyYAML's YAML 1.1 rules: ``yes``/``no``/``on``/``off`` stay strings, dates
  stay strings, ``0777`` is 777 and ``1:30`` is a string. Mapping keys are
  always strings (``1: a`` gives the key ``"1"``, ``null: a`` the key ``""``),
  as in the JSON Backstage stores. Tags other than the core ones (``!!binary``,
  ``!!timestamp``, ``!custom``) are ignored: the value stays the string, list or
  object written, as in Backstage (where they are only warnings).

Safety
------
* Nesting deeper than ``max_depth`` is refused while libyaml composes the
  document (the depth counter rides on the resolver hooks the composer calls for
  every node anyway), before any deep recursion can happen.
* Aliases (``*name``) are shared nodes; they are harmless until something
  expands them (JSON encoding, a deep copy, validation). Only documents whose
  text contains ``*`` are checked: the expanded node count and depth are
  computed on the node graph with memoisation (linear in the number of distinct
  nodes, so a "billion laughs" bomb is refused in microseconds), and refused
  above ``max_aliases_nodes`` nodes or ``max_depth`` levels. Recursive aliases
  are refused. Accepted documents are built with aliases expanded into separate
  copies, so no two places of an entity share a mutable object.
* ``RecursionError`` anywhere in a document is reported as an ``InputError``.

Decisions
---------
* Merge keys (``<<: *base``): Backstage parses YAML without merge keys, so a
  plain ``<<`` key would silently become a literal ``"<<"`` key there and the
  merge would not happen. That is never what the author meant, so a plain
  ``<<`` *key* is refused with an ``InputError`` naming its line. A quoted
  ``"<<"`` key and ``<<`` as a value are ordinary strings.
* Duplicate keys: Backstage refuses a document with a repeated mapping key
  ("Map keys must be unique"); so do we. Detection costs one ``len()``
  comparison per mapping (the built dict is shorter than the node's key list
  only if a key repeated); finding *which* key only happens on error.
* Empty and null documents are skipped silently. A document whose root is not a
  mapping gives ``Expected object at root, got <type>`` with a JSON type name
  (``string``, ``number``, ``boolean``, ``array``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from yaml.error import Mark, MarkedYAMLError, YAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from greenroom.errors import GreenroomError, InputError

try:  # the fast path for plain documents; without it every document takes libyaml's
    import yaml_rs as _yaml_rs
except ImportError:  # pragma: no cover
    _yaml_rs = None

try:  # libyaml is what makes this fast; the pure-Python parser is a fallback only
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: Any) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)


__all__ = ["YamlDocument", "locate_field_line", "parse_documents"]


@dataclass(slots=True)
class YamlDocument:
    """One parsed document of a file."""

    data: Any  # the parsed document (dict for entities)
    line: int  # 1-based line in the file where the document's root node starts
    index: int  # 0-based index of the document in the file


# --------------------------------------------------------------------------
# YAML 1.2 core schema resolution
# --------------------------------------------------------------------------

_TAG_STR = "tag:yaml.org,2002:str"
_TAG_INT = "tag:yaml.org,2002:int"
_TAG_FLOAT = "tag:yaml.org,2002:float"
_TAG_BOOL = "tag:yaml.org,2002:bool"
_TAG_NULL = "tag:yaml.org,2002:null"
_TAG_SEQ = "tag:yaml.org,2002:seq"
_TAG_MAP = "tag:yaml.org,2002:map"
# Only given to a plain `<<`; refused as a key, a plain string as a value.
_TAG_MERGE = "tag:yaml.org,2002:merge"

_NULLS = frozenset(("~", "null", "Null", "NULL", ""))
_TRUES = frozenset(("true", "True", "TRUE"))
_FALSES = frozenset(("false", "False", "FALSE"))
_INT_DEC = re.compile(r"[-+]?[0-9]+\Z")
_INT_OCT = re.compile(r"0o[0-7]+\Z")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
# First characters of plain scalars that may resolve to something else than a string.
_SPECIAL_FIRST = frozenset("0123456789+-.~nNtTfF<")


def _resolve_plain(value: str) -> str:
    c = value[0]
    if c in "0123456789+-.":
        if _INT_DEC.match(value) or (c == "0" and (_INT_OCT.match(value) or _INT_HEX.match(value))):
            return _TAG_INT
        if _FLOAT.match(value) or _INF.match(value) or _NAN.match(value):
            return _TAG_FLOAT
        return _TAG_STR
    if value in _NULLS:
        return _TAG_NULL
    if value in _TRUES or value in _FALSES:
        return _TAG_BOOL
    if value == "<<":
        return _TAG_MERGE
    return _TAG_STR


class _DepthExceeded(Exception):
    pass


class _Loader(_Parser):
    """libyaml's parser and composer with a YAML 1.2 core resolver and a depth limit.

    The composer calls ``resolve`` for every untagged node and
    ``descend_resolver``/``ascend_resolver`` around every node; the last two are
    no-ops in PyYAML's resolver unless path resolvers are registered, so using
    them to count depth costs about nothing.
    """

    def __init__(self, stream: bytes, max_depth: int) -> None:
        _Parser.__init__(self, stream)
        self._depth = 0
        self._max_depth = max_depth

    def resolve(self, kind: type, value: str | None, implicit: Any) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                if not value:
                    return _TAG_NULL
                if value[0] in _SPECIAL_FIRST:
                    return _resolve_plain(value)
            return _TAG_STR
        if kind is MappingNode:
            return _TAG_MAP
        return _TAG_SEQ

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        depth = self._depth + 1
        if depth > self._max_depth:
            raise _DepthExceeded
        self._depth = depth

    def ascend_resolver(self) -> None:
        self._depth -= 1


# --------------------------------------------------------------------------
# building Python values from nodes
# --------------------------------------------------------------------------


class _NodeError(Exception):
    """A problem found while building values; `mark` is relative to the document text."""

    def __init__(self, message: str, mark: Mark | None, other: Mark | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.other = other  # a second position, rendered into "{other}" in the message


def _scalar(node: ScalarNode) -> Any:
    """A scalar whose tag is not `str` (the common case is handled inline)."""
    tag = node.tag
    value = node.value
    try:
        if tag == _TAG_NULL:
            return None
        if tag == _TAG_BOOL:
            if value in _TRUES:
                return True
            if value in _FALSES:
                return False
            raise ValueError
        if tag == _TAG_INT:
            if value[:2] == "0o":
                return int(value[2:], 8)
            if value[:2] == "0x":
                return int(value[2:], 16)
            if not _INT_DEC.match(value):
                raise ValueError
            return int(value, 10)
        if tag == _TAG_FLOAT:
            if _INF.match(value):
                return -math.inf if value[0] == "-" else math.inf
            if _NAN.match(value):
                return math.nan
            if not _FLOAT.match(value) and not _INT_DEC.match(value):
                raise ValueError
            return float(value)
    except ValueError:
        short = tag.rsplit(":", 1)[-1]
        raise _NodeError(f'cannot read "{value}" as !!{short}', node.start_mark) from None
    # str, merge used as a value, and tags the core schema does not know
    return value


def _js_string(value: Any) -> str:
    """How a scalar key reads once it is a JSON object key (JavaScript's `String(x)`)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


_MERGE_MESSAGE = (
    'YAML merge keys ("<<") are not supported (Backstage reads YAML without merge keys, '
    "so the merge would silently not happen there); write the keys out in full"
)


def _key(node: Node) -> str:
    if node.__class__ is ScalarNode:
        if node.tag == _TAG_MERGE and not node.style:  # plain style is "" (libyaml) or None
            raise _NodeError(_MERGE_MESSAGE, node.start_mark)
        return _js_string(_scalar(node))  # type: ignore[arg-type]
    raise _NodeError(
        "complex mapping keys (a list or an object used as a key) are not supported",
        node.start_mark,
    )


def _build(node: Node) -> Any:
    """Python value of a composed node; aliases are expanded (callers check their size first)."""
    cls = node.__class__
    if cls is MappingNode:
        out: dict[str, Any] = {}
        pairs = node.value
        for k, v in pairs:
            key = k.value if k.__class__ is ScalarNode and k.tag == _TAG_STR else _key(k)
            if v.__class__ is ScalarNode:
                out[key] = v.value if v.tag == _TAG_STR else _scalar(v)
            else:
                out[key] = _build(v)
        if len(out) != len(pairs):
            _raise_duplicate(pairs)
        return out
    if cls is SequenceNode:
        return [
            (c.value if c.tag == _TAG_STR else _scalar(c))
            if c.__class__ is ScalarNode
            else _build(c)
            for c in node.value
        ]
    if node.tag == _TAG_STR:
        return node.value
    return _scalar(node)  # type: ignore[arg-type]


def _raise_duplicate(pairs: list[tuple[Node, Node]]) -> None:
    seen: dict[str, Node] = {}
    for k, _ in pairs:
        key = k.value if k.__class__ is ScalarNode and k.tag == _TAG_STR else _key(k)
        first = seen.get(key)
        if first is not None:
            raise _NodeError(
                f'Map keys must be unique; "{key}" is repeated (first at line {{other}})',
                k.start_mark,
                first.start_mark,
            )
        seen[key] = k
    raise AssertionError("duplicate expected")  # pragma: no cover


def _check_expansion(root: Node, max_nodes: int, max_depth: int) -> None:
    """Refuse alias expansion beyond `max_nodes` nodes or `max_depth` levels.

    Works on the node graph with memoised (size, height) per collection node, so
    the cost is linear in the number of *distinct* nodes whatever the expansion.
    """
    memo: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def visit(node: Node, depth: int, used_at: Mark | None = None) -> tuple[int, int]:
        """`used_at`: where the node is used, which differs from where it is written for an alias."""
        if node.__class__ is ScalarNode:
            if depth > max_depth:
                raise _NodeError(_too_deep(max_depth), node.start_mark)
            return 1, 1
        ident = id(node)
        got = memo.get(ident)
        if got is not None:  # seen before, so this is an alias: name the place it is used
            if depth + got[1] - 1 > max_depth:
                raise _NodeError(_too_deep(max_depth), used_at or node.start_mark)
            return got
        if ident in active:
            raise _NodeError("recursive alias: a node contains itself", node.start_mark)
        if depth > max_depth:
            raise _NodeError(_too_deep(max_depth), node.start_mark)
        active.add(ident)
        size, height = 1, 0
        # A mapping value is used on the line of its key; a list item (whose own
        # position an alias does not keep) is placed at the list.
        if node.__class__ is SequenceNode:
            children: list[tuple[Node, Mark]] = [(n, node.start_mark) for n in node.value]
        else:
            children = [(n, k.start_mark) for k, v in node.value for n in (k, v)]
        for child, where in children:
            s, h = visit(child, depth + 1, where)
            size += s
            if h > height:
                height = h
            if size > max_nodes:
                raise _NodeError(
                    f"aliases expand this document to more than {max_nodes} nodes "
                    "(a YAML bomb such as 'billion laughs'?)",
                    node.start_mark,
                )
        active.discard(ident)
        result = (size, height + 1)
        memo[ident] = result
        return result

    visit(root, 1)


def _too_deep(max_depth: int) -> str:
    return f"the document is nested deeper than {max_depth} levels"


# --------------------------------------------------------------------------
# splitting a file into documents
# --------------------------------------------------------------------------

# A document marker after a line break; position 0 is checked separately.
_MARKER = re.compile(rb"\n(---|\.\.\.)(?=[ \t\r\n]|\Z)")
_BLANK_AFTER = frozenset(b" \t\r\n")


@dataclass(slots=True)
class _Chunk:
    start: int  # byte offset in the file
    end: int
    line: int  # 1-based file line of `start`
    explicit: bool  # starts with `---` (so it is a document even when empty)


def _starts_with_marker(data: bytes, marker: bytes) -> bool:
    return data.startswith(marker) and (len(data) == 3 or data[3] in _BLANK_AFTER)


def _split(data: bytes) -> list[_Chunk]:
    """Cut `data` into document chunks (see the module docstring)."""
    cuts: list[tuple[int, bool]] = []  # (offset of a chunk start, starts with ---)
    if _starts_with_marker(data, b"---"):
        cuts.append((0, True))
    else:
        cuts.append((0, False))
        if _starts_with_marker(data, b"..."):
            nl = data.find(b"\n")
            cuts.append((len(data) if nl < 0 else nl + 1, False))
    directives = data.startswith(b"%") or b"\n%" in data
    for m in _MARKER.finditer(data):
        pos = m.start() + 1
        if m.group(1) == b"---":
            if directives:
                # directive lines right before `---` belong to the next document
                while pos > 0:
                    prev = data.rfind(b"\n", 0, pos - 1) + 1
                    if data[prev : prev + 1] != b"%":
                        break
                    pos = prev
            if cuts[-1][0] == pos:
                cuts[-1] = (pos, True)
            else:
                cuts.append((pos, True))
        else:  # `...` ends the document; the next chunk starts on the next line
            nl = data.find(b"\n", pos)
            cuts.append((len(data) if nl < 0 else nl + 1, False))
    chunks: list[_Chunk] = []
    line = 1
    prev_start = 0
    for i, (start, explicit) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(data)
        if end <= start and not explicit:
            continue
        line += data.count(b"\n", prev_start, start)
        prev_start = start
        chunks.append(_Chunk(start, end, line, explicit))
    return chunks


def _to_bytes(text: str | bytes) -> bytes:
    if isinstance(text, str):
        text = text.encode("utf-8")
    elif text[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        text = text.decode("utf-32").encode("utf-8")
    elif text[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = text.decode("utf-16").encode("utf-8")
    if text[:3] == b"\xef\xbb\xbf":
        text = text[3:]
    if b"\n" not in text and b"\r" in text:  # old Mac line ends: make markers findable
        text = text.replace(b"\r", b"\n")
    return bytes(text)


# --------------------------------------------------------------------------
# the fast path
# --------------------------------------------------------------------------

# What the fast parser must not see, because libyaml's path has a check or a reading
# of it that saphyr lacks or does differently. Each is its own scan (a `translate`,
# an `in` or a small pattern): one alternation of them all costs more than the fast
# parser saves.
# - aliases, anchors, tags, directives, tabs, control characters:
_ALL_BUT_SPECIAL_BYTES = bytes(range(256)).translate(
    None, b"*&!%\t" + bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
)
# - complex keys (a `?` indicator, not one inside a URL):
_COMPLEX_KEY = re.compile(rb"(?:^|[ \[{,])\?(?:[ \r\n\]},]|$)", re.MULTILINE)
# - line and paragraph separators (line breaks in YAML 1.1), a BOM or a non-character
#   inside the text:
_SPECIAL_CHARACTERS = re.compile(rb"\xe2\x80[\xa8\xa9]|\xef(?:\xbb\xbf|\xbf[\xbe\xbf])")
# - C1 controls and NEL:
_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")
# - plain scalars saphyr reads as numbers where the YAML 1.2 core schema keeps strings
#   (`1_000`, `_1`, `0b11`, `-0x1f`, `0X1F`):
_UNDERSCORED_DIGIT = re.compile(rb"[0-9.]_|_[0-9.]")
_RADIX_PREFIX = re.compile(rb"0[bBoOxX]")
# - an indicator starting a scalar inside brackets, a colon right before a bracket, a
#   comma or `?`, brackets left open at the end of a line (libyaml refuses these, or
#   reads them otherwise):
_FLOW_INDICATOR = re.compile(rb"[\[{,] *[|>@`:?]")
_FLOW_COLON = re.compile(rb":[,?\[\]{}]")
_FLOW_OVER_LINES = re.compile(rb"[\[{][^\]}\n]*\n")
# - block scalars with an indentation indicator or kept final lines, and any document
#   not ending in a line break (their last line breaks are counted differently):
_BLOCK_INDICATOR = re.compile(rb"[|>][-+]?[0-9]|[|>][0-9]?\+")


def _plain_enough(part: bytes) -> bool:
    return (
        part.endswith(b"\n")
        and not part.translate(None, _ALL_BUT_SPECIAL_BYTES)
        and not (b"?" in part and _COMPLEX_KEY.search(part))
        and b"<<" not in part  # merge keys
        and b"..." not in part  # document end markers
        and not ((b"\xe2" in part or b"\xef" in part) and _SPECIAL_CHARACTERS.search(part))
        and not (b"\xc2" in part and _C1_CONTROL.search(part))
        and not (b"_" in part and _UNDERSCORED_DIGIT.search(part))
        and not _RADIX_PREFIX.search(part)
        and not _FLOW_INDICATOR.search(part)
        and not _FLOW_COLON.search(part)
        and not ((b"[" in part or b"{" in part) and _FLOW_OVER_LINES.search(part))
        and not ((b"|" in part or b">" in part) and _BLOCK_INDICATOR.search(part))
    )


def _parse_fast(part: bytes, max_depth: int) -> tuple[Any, int | None] | None:
    """The value of a plain document and the 0-based line its root starts on, by
    `yaml_rs` (saphyr, in Rust), several times faster than libyaml's composer.

    None when the document must go the careful way: anything `_plain_enough` refuses,
    possibly deeper than `max_depth`, not UTF-8, keys that are not strings, or
    anything the fast parser refuses (errors are always reported by libyaml's path,
    so their wording and lines do not depend on which parser ran).
    """
    if _yaml_rs is None or not _plain_enough(part):
        return None
    # Every level of nesting takes a line, a bracket or a `- `: below the limit by count.
    if part.count(b"\n") + part.count(b"[") + part.count(b"{") + part.count(b"- ") + 2 > max_depth:
        return None
    try:
        value = _yaml_rs.loads(part.decode("utf-8"), parse_datetime=False)
        # Non-string keys (`1: a`, `? [a]`) are made strings by the careful path.
        encoded = orjson.dumps(value)
    except Exception:  # any refusal: the careful path finds and words the problem
        return None
    if b'"\\n"' in encoded:  # saphyr reads an empty block scalar as "\n", libyaml as ""
        return None
    return value, _root_line(part)


def _root_line(part: bytes) -> int | None:
    """0-based line of the first content of a document chunk; None if it has none."""
    for number, raw in enumerate(part.split(b"\n")):
        line = raw.strip()
        if line.startswith(b"---") and (len(line) == 3 or line[3:4] in b" \t#"):
            line = line[3:].strip()
        if line and not line.startswith(b"#"):
            return number
    return None


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def parse_documents(
    text: str | bytes,
    *,
    source: str,
    max_aliases_nodes: int = 100_000,
    max_depth: int = 200,
    require_mapping: bool = True,
) -> tuple[list[YamlDocument], list[GreenroomError]]:
    """Parse every document of a YAML file; return the good ones and one error per bad one.

    `source` names the file in errors (a location ref such as
    ``file:/x/catalog-info.yaml``). With `require_mapping` (the default) a
    document whose root is not a mapping is an error; placeholders (``$yaml``)
    turn that off. Errors are `InputError`s with ``file=source`` and the file
    line of the problem.
    """
    try:
        data = _to_bytes(text)
    except UnicodeError as e:
        return [], [InputError(f"YAML error at {source}, {e}", file=source, line=1)]

    docs: list[YamlDocument] = []
    errors: list[GreenroomError] = []
    index = 0
    for chunk in _split(data):
        part = data[chunk.start : chunk.end]
        fast = _parse_fast(part, max_depth)
        if fast is None:
            result = _parse_careful(part, chunk, source, max_aliases_nodes, max_depth)
        else:
            value, root_line = fast
            result = None if root_line is None else (value, chunk.line + root_line)
        if result is None:  # nothing but comments: a document only after an explicit `---`
            if chunk.explicit:
                index += 1
            continue
        if isinstance(result, GreenroomError):
            errors.append(result)
        elif result[0] is None:
            pass  # a null document (`~`): no entity, but it counts
        elif require_mapping and not isinstance(result[0], dict):
            errors.append(
                InputError(
                    f"Expected object at root, got {_json_type(result[0])}",
                    file=source,
                    line=result[1],
                )
            )
        else:
            docs.append(YamlDocument(result[0], result[1], index))
        index += 1
    return docs, errors


def _parse_careful(
    part: bytes, chunk: _Chunk, source: str, max_aliases_nodes: int, max_depth: int
) -> tuple[Any, int] | GreenroomError | None:
    """A document's value and file line by libyaml, with every check; the error of a bad
    one; None when it has no content."""
    try:
        node = _Loader(part, max_depth).get_single_node()
    except _DepthExceeded:
        return _depth_error(part, chunk, source, max_depth)
    except YAMLError as e:
        return _yaml_error(e, part, chunk, source)
    except RecursionError:
        return _input_error(_too_deep(max_depth), source, chunk.line)
    if node is None:
        return None
    line = chunk.line + node.start_mark.line
    try:
        if b"*" in part:
            _check_expansion(node, max_aliases_nodes, max_depth)
        return _build(node), line
    except _NodeError as e:
        return _node_error(e, chunk, source)
    except RecursionError:
        return _input_error(_too_deep(max_depth), source, line)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _input_error(detail: str, source: str, line: int) -> InputError:
    return InputError(f"YAML error at {source}, {detail}", file=source, line=line)


def _node_error(e: _NodeError, chunk: _Chunk, source: str) -> InputError:
    line = chunk.line + e.mark.line if e.mark is not None else chunk.line
    message = e.message
    if e.other is not None:
        message = message.replace("{other}", str(chunk.line + e.other.line))
    if e.mark is not None:
        detail = f"{message} (line {line}, column {e.mark.column + 1})"
    else:
        detail = f"{message} (line {line})"
    return _input_error(detail, source, line)


def _yaml_error(e: YAMLError, part: bytes, chunk: _Chunk, source: str) -> InputError:
    """libyaml's error with positions translated to file lines, on one line."""
    if isinstance(e, MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        if mark is None:
            return _input_error(problem, source, chunk.line)
        last = _last_content_line(part)
        if mark.line > last:
            # the document ended too early (e.g. an unclosed bracket): libyaml points
            # past its end, possibly at the next document's `---`; name its last line
            line = chunk.line + last
            detail = f"{problem} at the end of the document (line {line})"
        else:
            line = chunk.line + mark.line
            detail = f"{problem} at line {line}, column {mark.column + 1}"
        if e.context and e.context_mark is not None and e.problem and e.context_mark.line <= last:
            detail += f" ({e.context} at line {chunk.line + e.context_mark.line})"
        elif e.context and e.problem:
            detail += f" ({e.context})"
        return _input_error(detail, source, line)
    # a reader error (bad encoding, control character): only a byte offset is known
    position = getattr(e, "position", None)
    reason = getattr(e, "reason", None) or str(e)
    if isinstance(position, int) and 0 <= position <= len(part):
        line = chunk.line + part.count(b"\n", 0, position)
        return _input_error(f"{reason} at line {line}", source, line)
    return _input_error(str(reason), source, chunk.line)


def _last_content_line(part: bytes) -> int:
    """0-based index of the last line of `part` that is not blank."""
    stripped = part.rstrip()
    return stripped.count(b"\n") if stripped else 0


def _depth_error(part: bytes, chunk: _Chunk, source: str, max_depth: int) -> InputError:
    """Find where the nesting first gets too deep (error path only: walks events)."""
    line = chunk.line
    try:
        depth = 0
        for event in yaml.parse(part, Loader=yaml.CSafeLoader):
            node_event = yaml.CollectionStartEvent | yaml.ScalarEvent | yaml.AliasEvent
            if isinstance(event, node_event) and depth + 1 > max_depth:
                line = chunk.line + event.start_mark.line
                break
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except YAMLError:
        pass
    return _input_error(f"{_too_deep(max_depth)} at line {line}", source, line)


# --------------------------------------------------------------------------
# locating a field for error messages
# --------------------------------------------------------------------------


def locate_field_line(
    text: str | bytes, doc_line: int, field: str, *, nearest: bool = False
) -> int | None:
    """1-based file line of dotted `field` in the document that starts at `doc_line`.

    `doc_line` may be any line of the document (e.g. `YamlDocument.line`). Path
    segments are matched greedily against the actual keys, so
    ``metadata.annotations.backstage.io/techdocs-ref`` finds the key
    ``backstage.io/techdocs-ref``; a numeric segment indexes a list. Returns
    None when the field is not there, or with `nearest` the line of the deepest
    part of the path that is there. Meant for error paths only.
    """
    try:
        data = _to_bytes(text)
    except UnicodeError:
        return None
    chunk = None
    for c in _split(data):
        if c.line > doc_line:
            break
        chunk = c
    if chunk is None:
        return None
    try:
        node = _Loader(data[chunk.start : chunk.end], 1000).get_single_node()
    except (YAMLError, _DepthExceeded, RecursionError):
        return None
    if node is None:
        return None
    segments = field.split(".") if field else []
    found = _find_path(node, segments, 0)
    if found is not None:
        return chunk.line + found
    if nearest:
        return chunk.line + _deepest(node, segments, 0, node.start_mark.line)
    return None


def _children(node: Node, segments: list[str], i: int) -> list[tuple[int, Node, int]]:
    """(next segment index, child node, line of the child) for matches of segments[i:]."""
    out: list[tuple[int, Node, int]] = []
    if isinstance(node, MappingNode):
        keys = {}
        for k, v in node.value:
            if isinstance(k, ScalarNode):
                keys.setdefault(k.value, (k, v))
        for j in range(len(segments), i, -1):  # longest key first
            hit = keys.get(".".join(segments[i:j]))
            if hit is not None:
                out.append((j, hit[1], hit[0].start_mark.line))
    elif isinstance(node, SequenceNode) and segments[i].isdigit():
        n = int(segments[i])
        if n < len(node.value):
            child = node.value[n]
            out.append((i + 1, child, child.start_mark.line))
    return out


def _find_path(node: Node, segments: list[str], i: int) -> int | None:
    if i == len(segments):
        return node.start_mark.line
    for j, child, line in _children(node, segments, i):
        if j == len(segments):
            return line
        found = _find_path(child, segments, j)
        if found is not None:
            return found
    return None


def _deepest(node: Node, segments: list[str], i: int, line: int) -> int:
    for j, child, child_line in _children(node, segments, i):
        if j == len(segments):
            return child_line
        return _deepest(child, segments, j, child_line)
    return line
