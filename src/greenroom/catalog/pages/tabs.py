"""Tabs of the entity page, contributed through the `entity_tabs` hook.

A tab says on which entities it appears with a small predicate (kinds, types,
annotations that must be present), the way Backstage's `EntitySwitch` and the new
frontend system's `filter` do, and builds its own data from the entity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import Request

    from greenroom.portal import Portal


@dataclass(frozen=True)
class EntityFilter:
    """Which entities a tab belongs on; every part given must hold (case-insensitive)."""

    kinds: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    annotations: tuple[str, ...] = ()  # each must be present with a non-empty value

    def matches(self, entity: dict[str, Any]) -> bool:
        if self.kinds is not None and str(entity.get("kind", "")).lower() not in {
            k.lower() for k in self.kinds
        }:
            return False
        spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
        if self.types is not None and str(spec.get("type", "")).lower() not in {
            t.lower() for t in self.types
        }:
            return False
        annotations = (entity.get("metadata") or {}).get("annotations") or {}
        return all(annotations.get(key) for key in self.annotations)


# Builds the tab's data (plain JSON-able values) from the entity; the request gives
# the tab's own query parameters (the graph's depth, say).
TabBuilder = Callable[["Portal", "Request", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class EntityTab:
    """What a plugin contributes through the `entity_tabs` hook."""

    path: str  # "" for the overview, else the sub-path: /catalog/ns/kind/name/<path>
    title: str
    template: str  # renders the tab's body; gets `entity`, `summary` and `tab` (its data)
    build: TabBuilder
    applies: EntityFilter = EntityFilter()
    order: int = 100
