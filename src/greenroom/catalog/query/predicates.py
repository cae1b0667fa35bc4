"""Entity filters: Backstage's `filter` query parameters and its predicate JSON, parsed
into one small tree that `greenroom.catalog.query.sql` turns into SQL.

Keys and values are lowercased here, once, because the search index stores them
lowercased (reference §10): `kind=Component` and `kind=component` are the same filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from greenroom.errors import InputError

# Bounds against hostile input: a filter this big is an attack, not a query.
MAX_CONDITIONS = 256  # keys compared; SQLite refuses expressions nested 1000 deep
MAX_VALUES = 10_000  # values listed in `$in` and repeated keys, all together
MAX_DEPTH = 32
MAX_VALUE_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Exists:
    """The entity has the key (any value)."""

    key: str


@dataclass(frozen=True, slots=True)
class Equals:
    """The entity has the key with one of the values."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HasPrefix:
    """The entity has the key with a value starting with `prefix`."""

    key: str
    prefix: str


@dataclass(frozen=True, slots=True)
class All:
    """Every part holds (an empty list always holds)."""

    parts: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Some part holds (an empty list never holds)."""

    parts: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Predicate


@dataclass(frozen=True, slots=True)
class HasErrors:
    """The entity's last processing reported errors (`{"$hasErrors": true}`, a Greenroom
    extension: processing state is not a field Backstage's predicates can reach)."""


Predicate = Exists | Equals | HasPrefix | All | AnyOf | Not | HasErrors

EVERYTHING = All(())


class _Budget:
    """Counts conditions and values while parsing, so no request builds an unbounded query."""

    def __init__(self) -> None:
        self.conditions = 0
        self.values = 0

    def take(self) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise InputError(f"Too many filter conditions, at most {MAX_CONDITIONS} are allowed")

    def take_values(self, count: int) -> None:
        self.values += count
        if self.values > MAX_VALUES:
            raise InputError(f"Too many filter values, at most {MAX_VALUES} are allowed")


def _key(raw: str) -> str:
    key = raw.strip().lower()
    if not key:
        raise InputError("Invalid filter, a key must not be empty")
    if len(key) > MAX_VALUE_LENGTH:
        raise InputError(f"Invalid filter, key is longer than {MAX_VALUE_LENGTH} characters")
    return key


def _value(raw: Any) -> str:
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, (str, int, float)):
        text = str(raw)
    else:
        raise InputError(f"Invalid filter value {raw!r}, expected a string, number or boolean")
    if len(text) > MAX_VALUE_LENGTH:
        raise InputError(f"Invalid filter, value is longer than {MAX_VALUE_LENGTH} characters")
    return text.strip().lower()


# --- legacy query parameters -------------------------------------------------------------


def parse_filter_params(params: Sequence[str]) -> Predicate:
    """`filter=kind=component,spec.type=service&filter=kind=api` as a predicate.

    Different params are OR'ed; inside one, different keys are AND'ed and a repeated
    key is OR'ed; `key` alone means the key exists; `key=` means the empty value.
    """
    budget = _Budget()
    alternatives: list[Predicate] = []
    for param in params:
        by_key: dict[str, list[str] | None] = {}
        for statement in param.split(","):
            if not statement.strip():
                continue
            budget.take_values(1)
            raw_key, sep, raw_value = statement.partition("=")
            key = _key(raw_key)
            if key not in by_key:
                budget.take()  # a repeated key only adds a value to its IN list
            if not sep:
                by_key.setdefault(key, None)
                continue
            values = by_key.get(key)
            value = _value(raw_value)
            if values is None:
                by_key[key] = [value]
            else:
                values.append(value)
        parts: list[Predicate] = []
        for key, values in by_key.items():
            parts.append(
                Exists(key) if values is None else Equals(key, tuple(dict.fromkeys(values)))
            )
        if parts:
            alternatives.append(parts[0] if len(parts) == 1 else All(tuple(parts)))
    if not alternatives:
        return EVERYTHING
    return alternatives[0] if len(alternatives) == 1 else AnyOf(tuple(alternatives))


# --- predicate JSON (POST bodies) --------------------------------------------------------


def parse_predicate(data: Any) -> Predicate:
    """Backstage's predicate object (`{"kind": "component", "$any": [...]}`) as a predicate."""
    return _parse(data, _Budget(), 0)


def _parse(data: Any, budget: _Budget, depth: int) -> Predicate:
    budget.take()  # every object counts, even an empty one: SQL nesting has limits
    if depth > MAX_DEPTH:
        raise InputError(f"Invalid query, nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise InputError("Invalid query, expected an object")
    if not data:
        return EVERYTHING
    logic = [k for k in data if k.startswith("$")]
    if logic:
        if len(data) != 1:
            raise InputError(
                f"Invalid query, {logic[0]} must be the only key of its object; wrap it in $all"
            )
        op, arg = next(iter(data.items()))
        if op == "$not":
            return Not(_parse(arg, budget, depth + 1))
        if op == "$hasErrors":
            if not isinstance(arg, bool):
                raise InputError("Invalid query, $hasErrors expects true or false")
            return HasErrors() if arg else Not(HasErrors())
        if op in ("$all", "$any"):
            if not isinstance(arg, list):
                raise InputError(f"Invalid query, {op} expects a list")
            parts = tuple(_parse(p, budget, depth + 1) for p in arg)
            return All(parts) if op == "$all" else AnyOf(parts)
        raise InputError(f"Invalid query, unknown operator {op}")
    parts = [_field(name, condition, budget) for name, condition in data.items()]
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _field(name: str, condition: Any, budget: _Budget) -> Predicate:
    budget.take()
    key = _key(name)
    if not isinstance(condition, dict):
        return Equals(key, (_value(condition),))
    if len(condition) != 1:
        raise InputError(f"Invalid query for {name}, expected exactly one operator")
    op, arg = next(iter(condition.items()))
    if op == "$exists":
        if not isinstance(arg, bool):
            raise InputError(f"Invalid query for {name}, $exists expects true or false")
        return Exists(key) if arg else Not(Exists(key))
    if op == "$in":
        if not isinstance(arg, list):
            raise InputError(f"Invalid query for {name}, $in expects a list")
        budget.take_values(len(arg))
        return Equals(key, tuple(dict.fromkeys(_value(v) for v in arg)))
    if op == "$hasPrefix":
        if not isinstance(arg, str):
            raise InputError(f"Invalid query for {name}, $hasPrefix expects a string")
        return HasPrefix(key, _value(arg))
    if op == "$contains":
        if key == "relations":
            return _relation(arg, budget)
        return Equals(key, (_value(arg),))
    raise InputError(f"Invalid query for {name}, unknown operator {op}")


def _relation(arg: Any, budget: _Budget) -> Predicate:
    if not isinstance(arg, dict) or not isinstance(arg.get("type"), str) or not arg["type"]:
        raise InputError("Invalid query, relations $contains expects {type, targetRef?}")
    unknown = set(arg) - {"type", "targetRef"}
    if unknown:
        raise InputError(f"Invalid query, unknown relation field {sorted(unknown)[0]}")
    key = "relations." + _key(arg["type"])
    target = arg.get("targetRef")
    if target is None:
        return Exists(key)
    if isinstance(target, dict) and set(target) == {"$in"} and isinstance(target["$in"], list):
        budget.take_values(len(target["$in"]))
        return Equals(key, tuple(dict.fromkeys(_value(v) for v in target["$in"])))
    return Equals(key, (_value(target),))


# --- the other way round, for cursors -----------------------------------------------------


def to_json(predicate: Predicate) -> Any:
    """The predicate as Backstage's predicate JSON (what `parse_predicate` reads back)."""
    match predicate:
        case Exists(key):
            return {key: {"$exists": True}}
        case Equals(key, values):
            return {key: values[0]} if len(values) == 1 else {key: {"$in": list(values)}}
        case HasPrefix(key, prefix):
            return {key: {"$hasPrefix": prefix}}
        case All(parts):
            return {"$all": [to_json(p) for p in parts]}
        case AnyOf(parts):
            return {"$any": [to_json(p) for p in parts]}
        case Not(part):
            return {"$not": to_json(part)}
        case HasErrors():
            return {"$hasErrors": True}
    raise TypeError(predicate)


def both(left: Predicate, right: Predicate) -> Predicate:
    """`left AND right`, without nesting when either is the match-all predicate."""
    if left == EVERYTHING:
        return right
    if right == EVERYTHING:
        return left
    return All((left, right))


def matches(predicate: Predicate, values: dict[str, str]) -> bool:
    """Evaluate against one flat record of lowercased keys and values (small lists such
    as registered locations, filtered in memory)."""
    match predicate:
        case Exists(key):
            return key in values
        case Equals(key, wanted):
            return key in values and values[key].lower() in wanted
        case HasPrefix(key, prefix):
            return key in values and values[key].lower().startswith(prefix)
        case All(parts):
            return all(matches(p, values) for p in parts)
        case AnyOf(parts):
            return any(matches(p, values) for p in parts)
        case Not(part):
            return not matches(part, values)
        case HasErrors():
            return False  # in-memory records (locations) carry no processing state
    raise TypeError(predicate)
