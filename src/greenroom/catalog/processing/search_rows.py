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

# (entity id, key, original_value, value): original_value is None when it equals value.
SearchRow = tuple[int, str, str | None, str | None]

_SKIPPED_ROOT_KEYS = frozenset({"status", "attachments", "relations"})


def _walk(rows: list[SearchRow], eid: int, prefix: str, value: Any) -> None:
    # Hot path (dozens of rows per entity): type checks are ordered by frequency.
    kind = type(value)
    if kind is str:
        if len(prefix) <= MAX_KEY_LENGTH:
            if len(value) > MAX_VALUE_LENGTH:
                rows.append((eid, prefix, None, None))
            else:
                lowered = value.lower()
                rows.append((eid, prefix, None if lowered == value else value, lowered))
    elif kind is dict:
        for k, v in value.items():
            _walk(rows, eid, f"{prefix}.{k.lower()}", v)
    elif kind is list:
        for item in value:
            if type(item) is str:
                _walk(rows, eid, prefix, item)
                _walk(rows, eid, f"{prefix}.{item.lower()}", True)
            elif isinstance(item, (dict, list)):
                _walk(rows, eid, prefix, item)
            else:
                _walk(rows, eid, prefix, item)
    elif len(prefix) <= MAX_KEY_LENGTH:
        if value is None:
            rows.append((eid, prefix, None, None))
        else:
            text = "true" if value is True else "false" if value is False else str(value)
            if len(text) > MAX_VALUE_LENGTH:
                rows.append((eid, prefix, None, None))
            else:
                lowered = text.lower()
                rows.append((eid, prefix, None if lowered == text else text, lowered))


def search_rows(
    entity: dict[str, Any], relations: list[dict[str, str]], entity_id: int
) -> list[SearchRow]:
    """All search rows of a served entity, given its relations (`{type, targetRef}`)
    and the id its rows are stored under."""
    rows: list[SearchRow] = []
    for key, value in entity.items():
        if key in _SKIPPED_ROOT_KEYS:
            continue
        if key == "metadata" and type(value) is dict:
            for mkey, mvalue in value.items():
                if mkey != "etag":
                    _walk(rows, entity_id, f"metadata.{mkey.lower()}", mvalue)
        else:
            _walk(rows, entity_id, key.lower(), value)
    rows.extend(relation_rows(relations, entity_id))
    # Duplicates (e.g. the same tag twice) would only inflate counts.
    return list(dict.fromkeys(rows))


def relation_rows(relations: list[dict[str, str]], entity_id: int) -> list[SearchRow]:
    """The search rows of an entity's relations alone."""
    rows: list[SearchRow] = []
    for relation in relations:
        _walk(rows, entity_id, f"relations.{relation['type'].lower()}", relation["targetRef"])
    return rows
