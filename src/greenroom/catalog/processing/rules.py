"""`catalog.rules`: which kinds each location may bring into the catalog.

As in Backstage, a rule without `locations` applies everywhere, and rules
written under one entry of `catalog.locations` apply to what that location
brings in. Greenroom matches a rule's locations against the file an entity
came from and against its origin location, so a config location's rules also
cover the files its Location entities point to.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from greenroom.config import CatalogRule, Config


@dataclass(frozen=True)
class _Rule:
    kinds: frozenset[str]
    locations: tuple[tuple[str, str | None, str | None], ...] | None  # (type, target, pattern)


def resolve_config_target(type_: str, target: str, base_dir: Path) -> str:
    """A `file` target from config, made absolute against the config file's folder."""
    if type_ == "file":
        return (
            str((base_dir / target).resolve())
            if not Path(target).is_absolute()
            else str(Path(target))
        )
    return target


class CatalogRules:
    """Decides whether a kind may come in through a location."""

    def __init__(self, config: Config) -> None:
        base = config.base_dir
        self._rules = [self._compile(rule, base) for rule in config.catalog.rules]
        for location in config.catalog.locations:
            target = resolve_config_target(location.type, location.target, base)
            for rule in location.rules or ():
                self._rules.append(
                    _Rule(
                        frozenset(k.lower() for k in rule.allow), ((location.type, target, None),)
                    )
                )

    @staticmethod
    def _compile(rule: CatalogRule, base: Path) -> _Rule:
        locations = None
        if rule.locations is not None:
            locations = tuple(
                (
                    loc.type,
                    resolve_config_target(loc.type, loc.target, base) if loc.target else None,
                    loc.pattern,
                )
                for loc in rule.locations
            )
        return _Rule(frozenset(k.lower() for k in rule.allow), locations)

    @staticmethod
    def _matches(rule: _Rule, location_refs: tuple[str | None, ...]) -> bool:
        if rule.locations is None:
            return True
        for ref in location_refs:
            if not ref or ":" not in ref:
                continue
            type_, target = ref.split(":", 1)
            for rtype, rtarget, pattern in rule.locations:
                if rtype != type_:
                    continue
                if rtarget is not None and rtarget == target:
                    return True
                if pattern is not None and fnmatch.fnmatchcase(target, pattern):
                    return True
        return False

    def is_allowed(self, kind: str, *, location: str | None, origin: str | None) -> bool:
        kind = kind.lower()
        refs = (location, origin)
        return any(kind in rule.kinds and self._matches(rule, refs) for rule in self._rules)

    def names_kind(self, kind: str) -> bool:
        """Whether any rule names this kind: rules may let in kinds no plugin defines."""
        kind = kind.lower()
        return any(kind in rule.kinds for rule in self._rules)
