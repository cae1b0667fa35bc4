"""Field format rules of catalog entities (Backstage's FieldFormatEntityPolicy).

Every rule is a plain function ``is_valid_<thing>(value) -> bool`` built on
precompiled regular expressions, so other parts of Greenroom (the API, the
CLI linter, the scaffolder) can reuse them one by one. :func:`check_field_formats`
applies all of them to an entity in Backstage's order and raises an
:class:`~greenroom.errors.InputError` carrying Backstage's exact message and the
dotted path of the offending field.

Regular expressions are applied with ``fullmatch`` because JavaScript's ``$``
(without the ``m`` flag) only matches at the very end of the string, whereas
Python's ``$`` also matches before a trailing newline.

This module also holds the "duplicate keys that vary only in casing" check,
which Backstage runs when it indexes an entity for search.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from greenroom.errors import InputError

__all__ = [
    "ADR_URL",
    "JS_WHITESPACE",
    "check_case_duplicate_keys",
    "check_field_formats",
    "find_case_duplicate_keys",
    "is_valid_annotation_key",
    "is_valid_annotation_value",
    "is_valid_api_version",
    "is_valid_dns_label",
    "is_valid_dns_subdomain",
    "is_valid_entity_name",
    "is_valid_kind",
    "is_valid_label_key",
    "is_valid_label_value",
    "is_valid_namespace",
    "is_valid_string",
    "is_valid_tag",
    "is_valid_url",
    "js_string",
]

ADR_URL = (
    "https://github.com/backstage/backstage/blob/master/docs/"
    "architecture-decisions/adr002-default-catalog-file-format.md"
)

# --------------------------------------------------------------------------
# Regular expressions (Backstage's, see catalog.md §2)
# --------------------------------------------------------------------------

_OBJECT_NAME_RE = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
# DNS label; repeated hyphens inside are allowed (catalog-model >= 1.10).
_DNS_LABEL_RE = re.compile(r"[a-z0-9]+(?:-+[a-z0-9]+)*")
_KIND_RE = re.compile(r"[a-zA-Z][a-z0-9A-Z]*")
_API_VERSION_SUFFIX_RE = re.compile(r"[a-z0-9A-Z]+")
_TAG_RE = re.compile(r"[a-z0-9:+#]+(?:-[a-z0-9:+#]+)*")

# JavaScript's String.prototype.trim() whitespace set (WhiteSpace + LineTerminator).
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


# --------------------------------------------------------------------------
# Single-value rules
# --------------------------------------------------------------------------


def is_valid_dns_label(value: object) -> bool:
    """1-63 chars of ``[a-z0-9]`` groups joined by hyphens (RFC 1123 label)."""
    return (
        type(value) is str and 0 < len(value) <= 63 and _DNS_LABEL_RE.fullmatch(value) is not None
    )


def is_valid_dns_subdomain(value: object) -> bool:
    """1-253 chars of ``.``-separated DNS labels."""
    return (
        type(value) is str
        and 0 < len(value) <= 253
        and all(is_valid_dns_label(part) for part in value.split("."))
    )


def is_valid_entity_name(value: object) -> bool:
    """The Kubernetes "object name": ``[A-Za-z0-9]`` runs separated by ``-_.``, 1-63 chars."""
    return (
        type(value) is str and 0 < len(value) <= 63 and _OBJECT_NAME_RE.fullmatch(value) is not None
    )


def is_valid_namespace(value: object) -> bool:
    """Namespaces are lowercase DNS labels."""
    return is_valid_dns_label(value)


def is_valid_kind(value: object) -> bool:
    return type(value) is str and 0 < len(value) <= 63 and _KIND_RE.fullmatch(value) is not None


def _is_valid_prefix_and_or_suffix(value: object, is_valid_prefix, is_valid_suffix) -> bool:
    if type(value) is not str:
        return False
    parts = value.split("/")
    if len(parts) == 1:
        return is_valid_suffix(parts[0])
    if len(parts) == 2:
        return is_valid_prefix(parts[0]) and is_valid_suffix(parts[1])
    return False


def _is_valid_api_version_suffix(value: str) -> bool:
    return 0 < len(value) <= 63 and _API_VERSION_SUFFIX_RE.fullmatch(value) is not None


def is_valid_api_version(value: object) -> bool:
    """``[<dns subdomain>/]<version>``, version ``[a-zA-Z0-9]{1,63}``."""
    return _is_valid_prefix_and_or_suffix(
        value, is_valid_dns_subdomain, _is_valid_api_version_suffix
    )


def is_valid_label_key(value: object) -> bool:
    """``[<dns subdomain>/]<object name>``."""
    return _is_valid_prefix_and_or_suffix(value, is_valid_dns_subdomain, is_valid_entity_name)


def is_valid_label_value(value: object) -> bool:
    """The empty string or an object name."""
    return value == "" or is_valid_entity_name(value)


is_valid_annotation_key = is_valid_label_key


def is_valid_annotation_value(value: object) -> bool:
    return type(value) is str


def is_valid_tag(value: object) -> bool:
    """Lowercase ``[a-z0-9:+#]`` runs separated by single hyphens, 1-63 chars."""
    return type(value) is str and 0 < len(value) <= 63 and _TAG_RE.fullmatch(value) is not None


def is_valid_string(value: object) -> bool:
    """A string that is not empty after JavaScript's ``trim()``."""
    return type(value) is str and len(value.strip(JS_WHITESPACE)) > 0


# --------------------------------------------------------------------------
# URL rule: an approximation of the WHATWG URL parser (JavaScript's `new URL`)
# --------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
# Forbidden host code points (opaque hosts) and forbidden domain code points.
_FORBIDDEN_HOST = frozenset("\x00\t\n\r #/:<>?@[\\]^|")
_FORBIDDEN_DOMAIN = _FORBIDDEN_HOST | frozenset(chr(c) for c in range(0x20)) | {"%", "\x7f"}
_AUTHORITY_END_RE = re.compile(r"[/?#]")
_AUTHORITY_END_SPECIAL_RE = re.compile(r"[/\\?#]")


def _parse_ipv4_number(part: str) -> int | None:
    if part == "":
        return None
    base = 10
    if len(part) >= 2 and part[:2] in ("0x", "0X"):
        part, base = part[2:], 16
    elif len(part) >= 2 and part[0] == "0":
        part, base = part[1:], 8
    if part == "":
        return 0
    try:
        return int(part, base) if re.fullmatch(r"[0-9a-fA-F]+", part) else None
    except ValueError:
        return None


def _ends_in_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    if last and last.isascii() and last.isdigit():
        return True
    return _parse_ipv4_number(last) is not None and last[:2] in ("0x", "0X")


def _is_valid_ipv4(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return False
    numbers = []
    for part in parts:
        number = _parse_ipv4_number(part)
        if number is None:
            return False
        numbers.append(number)
    if any(n > 255 for n in numbers[:-1]):
        return False
    return numbers[-1] < 256 ** (5 - len(numbers))


def _is_valid_special_host(host: str) -> bool:
    if host.startswith("["):
        if not host.endswith("]"):
            return False
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    domain = unquote(host, errors="strict") if "%" in host else host
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return False
    domain = domain.lower()
    if domain == "" or not _FORBIDDEN_DOMAIN.isdisjoint(domain):
        return False
    if _ends_in_number(domain):
        return _is_valid_ipv4(domain)
    return True


def _is_valid_opaque_host(host: str) -> bool:
    if host.startswith("["):
        return _is_valid_special_host(host)
    return _FORBIDDEN_HOST.isdisjoint(host)


def _split_port(hostport: str) -> tuple[str, str | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return hostport, None
        rest = hostport[end + 1 :]
        if rest == "":
            return hostport, None
        if rest.startswith(":"):
            return hostport[: end + 1], rest[1:]
        return hostport, ""  # garbage after "]": invalid port
    host, sep, port = hostport.partition(":")
    return host, (port if sep else None)


def _is_valid_port(port: str | None) -> bool:
    if port is None or port == "":
        return True
    return port.isascii() and port.isdigit() and int(port) <= 65535


# The usual shape of a link, accepted without the full parse: http(s) with a
# plain ASCII host name whose last label starts with a letter (so it is not an
# IPv4 address), an optional port below 10000, then anything.
_COMMON_URL_RE = re.compile(
    r"https?://(?:[^/?#\\@\s]*@)?(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?(?::[0-9]{0,4})?(?:[/?#].*)?",
    re.DOTALL,
)


def is_valid_url(value: object) -> bool:
    """Whether JavaScript's ``new URL(value)`` would accept ``value`` (no base URL).

    An approximation of the WHATWG URL parser that covers what catalog links
    contain: an absolute URL with a scheme; special schemes (http, https, ws,
    wss, ftp) need a valid host and port; other schemes accept any opaque path.
    """
    if type(value) is not str:
        return False
    if _COMMON_URL_RE.fullmatch(value) is not None:
        return True
    text = value.strip(_C0_OR_SPACE)
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    match = _SCHEME_RE.match(text)
    if match is None:
        return False
    scheme = match.group()[:-1].lower()
    rest = text[match.end() :]
    if scheme in _SPECIAL_SCHEMES:
        if scheme == "file":
            return True
        rest = rest.lstrip("/\\")
        authority = _AUTHORITY_END_SPECIAL_RE.split(rest, maxsplit=1)[0]
        hostport = authority.rpartition("@")[2]
        host, port = _split_port(hostport)
        if not _is_valid_port(port):
            return False
        try:
            return _is_valid_special_host(host)
        except UnicodeError:
            return False
    if rest.startswith("//"):
        authority = _AUTHORITY_END_RE.split(rest[2:], maxsplit=1)[0]
        hostport = authority.rpartition("@")[2]
        host, port = _split_port(hostport)
        if not _is_valid_port(port):
            return False
        if port and host == "":
            return False
        return _is_valid_opaque_host(host)
    return True


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------

_EXPECT_OBJECT_NAME = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
_EXPECT_PREFIX_SUFFIX = "a valid prefix and/or suffix"
_EXPECT_DNS_LABEL = (
    "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
)
_EXPECT_TAG = (
    "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"
)
_EXPECT_KIND = "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total"


def js_string(value: Any) -> str:
    """JavaScript's ``String(value)``, for values interpolated into messages."""
    if type(value) is str:
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        text = repr(value)
        return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)
    if isinstance(value, list | tuple):
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def _invalid(field: str, value: Any, expectation: str | None) -> str:
    detail = f' expected {expectation} but found "{js_string(value)}".' if expectation else ""
    return (
        f'"{field}" is not valid;{detail} To learn more about catalog file format, visit: {ADR_URL}'
    )


def _require(field: str, path: str, value: Any, validator, expectation: str) -> None:
    if value is None:
        raise InputError(f"{field} must have a value", field=path)
    if not validator(value):
        raise InputError(_invalid(field, value, expectation), field=path)


# Caches of values already found valid: apiVersions, kinds, annotation keys,
# label keys and values, and tags repeat across entities, so most checks become
# a set lookup. Only valid strings are cached, and the caches are bounded.
_CACHE_LIMIT = 50_000
_valid_api_versions: set[str] = set()
_valid_kinds: set[str] = set()
_valid_label_keys: set[str] = set()
_valid_annotation_keys: set[str] = set()
_valid_tags: set[str] = set()
_valid_label_values: set[str] = {""}


def _remember(cache: set[str], value: str) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache.add(value)


def check_field_formats(entity: Mapping[str, Any]) -> None:
    """Backstage's FieldFormatEntityPolicy, in its order.

    Raises :class:`InputError` with Backstage's (unwrapped) message, e.g.
    ``"metadata.name" is not valid; expected ... but found "x y". To learn ...``,
    and ``field`` set to the dotted path within the entity (``metadata.tags.2``).
    Assumes the entity passed the entity schema (metadata typing).
    """
    api_version = entity.get("apiVersion")
    if type(api_version) is not str or api_version not in _valid_api_versions:
        _require(
            "apiVersion", "apiVersion", api_version, is_valid_api_version, _EXPECT_PREFIX_SUFFIX
        )
        _remember(_valid_api_versions, api_version)
    kind = entity.get("kind")
    if type(kind) is not str or kind not in _valid_kinds:
        _require("kind", "kind", kind, is_valid_kind, _EXPECT_KIND)
        _remember(_valid_kinds, kind)
    metadata = entity.get("metadata")
    if not isinstance(metadata, Mapping):
        raise InputError("metadata.name must have a value", field="metadata.name")
    name = metadata.get("name")
    if type(name) is not str or not 0 < len(name) <= 63 or _OBJECT_NAME_RE.fullmatch(name) is None:
        _require("metadata.name", "metadata.name", name, is_valid_entity_name, _EXPECT_OBJECT_NAME)
    if "namespace" in metadata:
        namespace = metadata["namespace"]
        if namespace != "default":
            _require(
                "metadata.namespace",
                "metadata.namespace",
                namespace,
                is_valid_namespace,
                _EXPECT_DNS_LABEL,
            )

    labels = metadata.get("labels")
    if labels:
        for key, value in labels.items():
            if key not in _valid_label_keys:
                _require(
                    f"labels.{key}",
                    f"metadata.labels.{key}",
                    key,
                    is_valid_label_key,
                    _EXPECT_PREFIX_SUFFIX,
                )
                _remember(_valid_label_keys, key)
            if type(value) is not str or value not in _valid_label_values:
                _require(
                    f"labels.{key}",
                    f"metadata.labels.{key}",
                    value,
                    is_valid_label_value,
                    _EXPECT_OBJECT_NAME,
                )
                _remember(_valid_label_values, value)

    annotations = metadata.get("annotations")
    if annotations:
        for key, value in annotations.items():
            if key not in _valid_annotation_keys:
                _require(
                    f"annotations.{key}",
                    f"metadata.annotations.{key}",
                    key,
                    is_valid_annotation_key,
                    _EXPECT_PREFIX_SUFFIX,
                )
                _remember(_valid_annotation_keys, key)
            if type(value) is not str:
                _require(
                    f"annotations.{key}",
                    f"metadata.annotations.{key}",
                    value,
                    is_valid_annotation_value,
                    "a string",
                )

    tags = metadata.get("tags")
    if tags:
        for index, tag in enumerate(tags):
            if type(tag) is not str or tag not in _valid_tags:
                _require(f"tags.{index}", f"metadata.tags.{index}", tag, is_valid_tag, _EXPECT_TAG)
                _remember(_valid_tags, tag)

    links = metadata.get("links")
    if links:
        for index, link in enumerate(links):
            if not isinstance(link, Mapping):
                link = {}
            url = link.get("url")
            if type(url) is not str or _COMMON_URL_RE.fullmatch(url) is None:
                _require(
                    f"links.{index}.url",
                    f"metadata.links.{index}.url",
                    url,
                    is_valid_url,
                    "a string that is a valid url",
                )
            for part in ("title", "icon"):
                if part in link:
                    value = link[part]
                    if type(value) is not str or not value.strip(JS_WHITESPACE):
                        _require(
                            f"links.{index}.{part}",
                            f"metadata.links.{index}.{part}",
                            value,
                            is_valid_string,
                            "a non empty string",
                        )


# --------------------------------------------------------------------------
# Keys that vary only in casing
# --------------------------------------------------------------------------

# Paths the search indexer does not traverse (some are added back explicitly).
_SPECIAL_PATHS = frozenset(
    {
        "attachments",
        "relations",
        "status",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "metadata.etag",
    }
)


def _search_keys(entity: Mapping[str, Any]) -> list[str]:
    """The keys Backstage's search indexer derives from an entity, in its order."""
    output: list[str] = []
    lowered: set[str] = set()

    def push(key: str) -> None:
        output.append(key)
        lowered.add(key.lower())

    def visit(path: str, current: Any) -> None:
        if path in _SPECIAL_PATHS:
            return
        if isinstance(current, Mapping):
            for key, value in current.items():
                visit(f"{path}.{key}" if path else str(key), value)
        elif isinstance(current, list | tuple):
            for item in current:
                visit(path, item)
                if type(item) is str:
                    path_key = f"{path}.{item}"
                    if path_key.lower() not in lowered:
                        push(path_key)
        else:
            push(path)

    visit("", entity)
    push("metadata.name")
    push("metadata.namespace")
    push("metadata.uid")
    relations = entity.get("relations")
    if isinstance(relations, list):
        for relation in relations:
            if isinstance(relation, Mapping):
                push(f"relations.{js_string(relation.get('type'))}")
    return output


def find_case_duplicate_keys(
    entity: Mapping[str, Any], *, shape_checked: bool = False
) -> list[tuple[str, str]]:
    """Keys (dotted search paths) that differ from an earlier one only in letter case.

    Returns ``(lowercased key, key as written)`` pairs, in Backstage's order;
    empty when there are none. Paths are compared the way Backstage's search
    indexer builds them, so ``spec.foo`` vs ``spec.Foo`` collide, but
    ``spec.foo.a`` vs ``spec.Foo.b`` do not. ``shape_checked`` may be set when
    the entity passed a built-in kind's fast schema (it skips some work).
    """
    if not _may_have_case_duplicates(entity, shape_checked=shape_checked):
        return []
    keys = dict.fromkeys(_search_keys(entity))
    lower_keys = {key.lower() for key in keys}
    if len(lower_keys) == len(keys):
        return []
    duplicates = []
    for key in keys:
        lower = key.lower()
        if lower in lower_keys:
            lower_keys.discard(lower)
        else:
            duplicates.append((lower, key))
    return duplicates


def check_case_duplicate_keys(entity: Mapping[str, Any], *, shape_checked: bool = False) -> None:
    """Raise Backstage's ``Entity has duplicate keys that vary only in casing, 'a.b'`` error."""
    duplicates = find_case_duplicate_keys(entity, shape_checked=shape_checked)
    if duplicates:
        listed = "', '".join(lower for lower, _ in duplicates)
        raise InputError(
            f"Entity has duplicate keys that vary only in casing, '{listed}'",
            field=duplicates[0][1],
        )


# A conservative pre-check: False means no two search keys can differ only in
# case; True means "maybe" and the exact traversal above decides. It compares
# sibling keys (merging the objects of an array, which share one path) and
# dotted keys against siblings that are a dotted prefix of them.

_prefix_cache: dict[str, tuple[str, ...]] = {}


def _dotted_prefixes(key: str) -> tuple[str, ...]:
    prefixes = _prefix_cache.get(key)
    if prefixes is None:
        parts = key.lower().split(".")
        prefixes = tuple(".".join(parts[:i]) for i in range(1, len(parts)))
        if len(_prefix_cache) >= _CACHE_LIMIT:
            _prefix_cache.clear()
        _prefix_cache[key] = prefixes
    return prefixes


# Key sets (as tuples) already found harmless; objects of one kind tend to
# have the same keys, so most objects cost one tuple and one set lookup.
_harmless_key_sets: set[tuple[str, ...]] = set()


def _keys_suspicious(keys) -> bool:
    signature = tuple(keys)
    if signature in _harmless_key_sets:
        return False
    lowers = {key.lower() for key in signature}
    if len(lowers) != len(signature):
        return True
    for key in signature:
        if "." in key:
            for prefix in _dotted_prefixes(key):
                if prefix in lowers:
                    return True
    if len(_harmless_key_sets) >= _CACHE_LIMIT:
        _harmless_key_sets.clear()
    _harmless_key_sets.add(signature)
    return False


def _dict_suspicious(node: dict) -> bool:
    if len(node) > 1 and _keys_suspicious(node):
        return True
    for value in node.values():
        kind = type(value)
        if kind is dict:
            if _dict_suspicious(value):
                return True
        elif kind is list and value and _group_suspicious(value, True):
            return True
    return False


def _group_suspicious(values: list, in_list: bool) -> bool:
    """Check values that all sit at one search path (array items, or the
    same key in several objects of one array)."""
    dicts: list[dict] = []
    has_item_string = False
    pending = [(value, in_list) for value in values]
    while pending:
        value, listed = pending.pop()
        kind = type(value)
        if kind is dict:
            dicts.append(value)
        elif kind is list:
            pending.extend((item, True) for item in value)
        elif kind is str:
            has_item_string = has_item_string or listed
        elif isinstance(value, Mapping | list | tuple):
            return True
    if not dicts:
        return False
    if has_item_string:
        return True
    if len(dicts) == 1:
        return _dict_suspicious(dicts[0])
    merged: dict[str, list] = {}
    for node in dicts:
        for key, value in node.items():
            merged.setdefault(key, []).append(value)
    if _keys_suspicious(merged):
        return True
    for group in merged.values():
        if len(group) == 1:
            value = group[0]
            kind = type(value)
            if kind is dict:
                if _dict_suspicious(value):
                    return True
            elif kind is list and value and _group_suspicious(value, True):
                return True
        elif any(type(value) in (dict, list) for value in group) and _group_suspicious(
            group, False
        ):
            return True
    return False


def _shaped_entity_suspicious(entity: dict) -> bool:
    # For entities whose shape a schema already guaranteed: root keys among
    # apiVersion/kind/metadata/spec, string maps for labels and annotations,
    # strings in tags (arrays of strings alone can never collide).
    metadata = entity["metadata"]
    if _keys_suspicious(metadata):
        return True
    for key, value in metadata.items():
        kind = type(value)
        if kind is dict:
            if key == "labels" or key == "annotations":
                if len(value) > 1 and _keys_suspicious(value):
                    return True
            elif _dict_suspicious(value):
                return True
        elif kind is list and key != "tags" and value and _group_suspicious(value, True):
            return True
    spec = entity.get("spec")
    return type(spec) is dict and _dict_suspicious(spec)


def _may_have_case_duplicates(entity: Mapping[str, Any], *, shape_checked: bool = False) -> bool:
    if type(entity) is not dict:
        return True
    try:
        return _shaped_entity_suspicious(entity) if shape_checked else _dict_suspicious(entity)
    except (TypeError, AttributeError):  # non-string keys and the like
        return True
