"""Predicates as SQL over the search table, for `final_entities fe`.

Every condition is an EXISTS on the search rows of the entity: a semi-join the
planner may run either way round, from search(key, value) to the entities, or from
an entity (walking an ORDER BY index) to its rows through search(entity_id),
stopping at LIMIT without reading every match.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from greenroom.catalog.query.predicates import (
    All,
    AnyOf,
    Equals,
    Exists,
    HasErrors,
    HasPrefix,
    Not,
    Predicate,
)

Leaf = Exists | Equals | HasPrefix
_LEAVES = (Exists, Equals, HasPrefix)

# Up to this many conditions in one AND (or OR) are probed one by one, which plans
# best for ordinary filters; more are grouped (see `_all_in_one`, `_none_of`, AnyOf),
# so that a thousand conditions plan in milliseconds instead of minutes.
MAX_JOINED_CONDITIONS = 6


class SqlBuilder:
    """Collects bind parameters while predicates are rendered to SQL text.

    `selective(key, values)`, when given, says whether an equality condition matches
    few entities: those are written as `id IN (matching ids)`, which lets a planner
    that does not reorder semi-joins (SQLite) start from them instead of probing
    every row in page order.
    """

    def __init__(self, selective: Callable[[str, tuple[str, ...]], bool] | None = None) -> None:
        self.params: dict[str, Any] = {}
        self.selective = selective

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def where(self, predicate: Predicate, entity: str = "fe.id") -> str:
        """SQL that is true for the entities matching `predicate`; `entity` is their id column."""
        match predicate:
            case Equals(key, values) if not values:
                return "1=0"
            case Equals(key, values) if self.selective is not None and self.selective(key, values):
                rows = self._leaf(predicate, "g")
                return f"{entity} IN (SELECT g.entity_id FROM search g WHERE {rows})"
            case Exists() | Equals() | HasPrefix():
                return (
                    f"EXISTS (SELECT 1 FROM search s WHERE s.entity_id = {entity}"
                    f" AND {self._leaf(predicate, 's')})"
                )
            case All(parts):
                if not parts:
                    return "1=1"
                if len(parts) <= MAX_JOINED_CONDITIONS:
                    return "(" + " AND ".join(self.where(p, entity) for p in parts) + ")"
                leaves = [p for p in parts if isinstance(p, _LEAVES)]
                negated = [p.part for p in parts if isinstance(p, Not) and _negated_leaf(p)]
                rest = [p for p in parts if not isinstance(p, _LEAVES) and not _negated_leaf(p)]
                clauses = [self.where(p, entity) for p in rest]
                if leaves:
                    clauses.append(self._all_in_one(leaves, entity))
                if negated:
                    clauses.append(self._none_of(negated, entity))
                return "(" + " AND ".join(clauses) + ")"
            case AnyOf(parts):
                if not parts:
                    return "1=0"
                leaves = [p for p in parts if isinstance(p, _LEAVES)]
                if len(leaves) <= MAX_JOINED_CONDITIONS:
                    return "(" + " OR ".join(self.where(p, entity) for p in parts) + ")"
                # One set of matching entities (an index range per condition), instead of
                # a probe per condition for every candidate row.
                union = " UNION ".join(
                    f"SELECT g.entity_id FROM search g WHERE {self._leaf(leaf, 'g')}"
                    for leaf in leaves
                )
                clauses = [f"{entity} IN ({union})"]
                clauses += [self.where(p, entity) for p in parts if not isinstance(p, _LEAVES)]
                return "(" + " OR ".join(clauses) + ")"
            case Not(part):
                return f"NOT {self.where(part, entity)}"
            case HasErrors():
                # Served entities share their ids with refresh_state (a partial index
                # holds the few with errors).
                return f"{entity} IN (SELECT id FROM refresh_state WHERE errors IS NOT NULL)"
        raise TypeError(predicate)

    def full_text(self, term: str, fields: list[str], entity: str = "fe.id") -> str:
        """Any of `fields` contains `term` (case-insensitive substring)."""
        keys = ", ".join(self.bind(f) for f in fields)
        pattern = self.bind("%" + escape_like(term.lower()) + "%")
        return (
            f"EXISTS (SELECT 1 FROM search s WHERE s.entity_id = {entity}"
            f" AND s.key IN ({keys}) AND s.value LIKE {pattern} ESCAPE '\\')"
        )

    def _leaf(self, leaf: Leaf, alias: str) -> str:
        """One condition on a search row `alias`."""
        key = f"{alias}.key = {self.bind(leaf.key)}"
        match leaf:
            case Exists():
                return key
            case Equals(_, values):
                if not values:
                    return "1=0"
                return f"{key} AND {alias}.value IN ({', '.join(self.bind(v) for v in values)})"
            case HasPrefix(_, prefix):
                return f"{key} AND {alias}.value LIKE {self.bind(like_prefix(prefix))} ESCAPE '\\'"
        raise TypeError(leaf)

    def _all_in_one(self, leaves: list[Leaf], entity: str) -> str:
        """Many conditions that must all hold, as one grouped pass over search rows.

        As separate EXISTS clauses each becomes a join, and the planner's search over
        join orders grows so fast that a few hundred conditions take minutes to plan.
        """
        conditions = [self._leaf(leaf, "g") for leaf in leaves]
        matched = " AND ".join(f"max(CASE WHEN {c} THEN 1 ELSE 0 END) = 1" for c in conditions)
        return (
            f"{entity} IN (SELECT g.entity_id FROM search g"
            f" WHERE {' OR '.join(f'({c})' for c in conditions)}"
            f" GROUP BY g.entity_id HAVING {matched})"
        )

    def _none_of(self, leaves: list[Leaf], entity: str) -> str:
        """Many negated conditions in one AND, as a single anti-join."""
        conditions = " OR ".join(f"({self._leaf(leaf, 'g')})" for leaf in leaves)
        return (
            f"NOT EXISTS (SELECT 1 FROM search g WHERE g.entity_id = {entity} AND ({conditions}))"
        )


def _negated_leaf(predicate: Predicate) -> bool:
    return isinstance(predicate, Not) and isinstance(predicate.part, _LEAVES)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_prefix(prefix: str) -> str:
    return escape_like(prefix) + "%"
