"""Answers kept per catalog generation: exact, and free while the catalog does not change.

Every change to served entities bumps `catalog_generation` (see `catalog.events`), in
any process; a key that holds the generation is never served stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from greenroom.catalog.query.sql import SqlBuilder


@dataclass
class GenerationCache:
    """A small LRU map; callers put the generation in the key."""

    size: int = 2048
    entries: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = compute()
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return value


def cache_key(kind: str, generation: int, statement: str, sql: SqlBuilder) -> Hashable:
    """A statement and its parameters at one catalog generation."""
    return (kind, generation, statement, tuple(sorted(sql.params.items())))


def catalog_generation(conn: Connection) -> int:
    return conn.execute(text("SELECT generation FROM catalog_generation WHERE id = 1")).scalar_one()
