"""Predicates as SQL over the search table, for `final_entities fe`.

Every condition is an EXISTS on the search rows of the entity: a semi-join the
planner may run either way round, from search(key, value) to the entities, or from
an entity (walking an ORDER BY index) to its rows through search(entity_id),
stopping at LIMIT without reading every match.
"""

from __future__ import annotations

from typing import Any

from greenroom.catalog.query.predicates import (
    All,
    AnyOf,
    Equals,
    Exists,
    HasPrefix,
    Not,
    Predicate,
)


class SqlBuilder:
    """Collects bind parameters while predicates are rendered to SQL text."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def where(self, predicate: Predicate, entity: str = "fe.id") -> str:
        """SQL that is true for the entities matching `predicate`; `entity` is their id column."""
        match predicate:
            case Exists(key):
                return self._exists(entity, key, "")
            case Equals(key, values):
                if not values:
                    return "1=0"
                if len(values) == 1:
                    return self._exists(entity, key, f" AND s.value = {self.bind(values[0])}")
                listed = ", ".join(self.bind(v) for v in values)
                return self._exists(entity, key, f" AND s.value IN ({listed})")
            case HasPrefix(key, prefix):
                return self._exists(
                    entity, key, f" AND s.value LIKE {self.bind(like_prefix(prefix))} ESCAPE '\\'"
                )
            case All(parts):
                if not parts:
                    return "1=1"
                return "(" + " AND ".join(self.where(p, entity) for p in parts) + ")"
            case AnyOf(parts):
                if not parts:
                    return "1=0"
                return "(" + " OR ".join(self.where(p, entity) for p in parts) + ")"
            case Not(part):
                return f"NOT {self.where(part, entity)}"
        raise TypeError(predicate)

    def full_text(self, term: str, fields: list[str], entity: str = "fe.id") -> str:
        """Any of `fields` contains `term` (case-insensitive substring)."""
        keys = ", ".join(self.bind(f) for f in fields)
        pattern = self.bind("%" + escape_like(term.lower()) + "%")
        return (
            f"EXISTS (SELECT 1 FROM search s WHERE s.entity_id = {entity}"
            f" AND s.key IN ({keys}) AND s.value LIKE {pattern} ESCAPE '\\')"
        )

    def _exists(self, entity: str, key: str, condition: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM search s WHERE s.entity_id = {entity}"
            f" AND s.key = {self.bind(key)}{condition})"
        )


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_prefix(prefix: str) -> str:
    return escape_like(prefix) + "%"
