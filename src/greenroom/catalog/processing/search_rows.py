"""Flattening a served entity into (key, value) rows, with Backstage's rules.

See reference §10: keys are lowercased dotted paths; values are lowercased
strings; each array element is indexed under the array's path and each string
element `x` also as `<path>.<x>` = `true`; relations become
`relations.<type>` = target ref; keys over 200 characters are dropped and
values over 200 characters are kept as NULL. `status`, `attachments`,
`metadata.etag` and the `relations` array itself are not indexed.
"""

from __future__ import annotations

from typing import Any

MAX_KEY_LENGTH = 200
MAX_VALUE_LENGTH = 200

# (key, original_value, value): original_value is None when it equals value.
SearchRow = tuple[str, str | None, str | None]

_SKIPPED_ROOT_KEYS = frozenset({"status", "attachments", "relations"})


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _emit(rows: list[SearchRow], key: str, value: Any) -> None:
    if len(key) > MAX_KEY_LENGTH:
        return
    text = _scalar(value)
    if text is None or len(text) > MAX_VALUE_LENGTH:
        rows.append((key, None, None))
        return
    lowered = text.lower()
    rows.append((key, None if lowered == text else text, lowered))


def _walk(rows: list[SearchRow], prefix: str, value: Any) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(rows, f"{prefix}.{k.lower()}" if prefix else k.lower(), v)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                _walk(rows, prefix, item)
            else:
                _emit(rows, prefix, item)
                if isinstance(item, str):
                    _emit(rows, f"{prefix}.{item.lower()}", True)
    else:
        _emit(rows, prefix, value)


def search_rows(entity: dict[str, Any], relations: list[dict[str, str]]) -> list[SearchRow]:
    """All search rows of a served entity, given its relations (`{type, targetRef}`)."""
    rows: list[SearchRow] = []
    for key, value in entity.items():
        if key in _SKIPPED_ROOT_KEYS:
            continue
        if key == "metadata" and isinstance(value, dict):
            for mkey, mvalue in value.items():
                if mkey != "etag":
                    _walk(rows, f"metadata.{mkey.lower()}", mvalue)
        else:
            _walk(rows, key.lower(), value)
    for relation in relations:
        _emit(rows, f"relations.{relation['type'].lower()}", relation["targetRef"])
    # Duplicates (e.g. the same tag twice) would only inflate counts.
    return list(dict.fromkeys(rows))
