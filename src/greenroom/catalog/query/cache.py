"""Answers kept per catalog generation: exact, and free while the catalog does not change.

Every change to served entities bumps `catalog_generation` (see `catalog.events`), in
any process; a key that holds the generation is never served stale.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
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


log = logging.getLogger(__name__)


@dataclass
class RecentAnswers:
    """Answers that may lag the catalog by a generation or two, for what a page shows
    beside its results (facet counts): after a change, the last answer is served at once
    while the current one is computed in the background, so a busy catalog never holds a
    page up. Keys leave the generation out; each entry remembers its own.
    """

    size: int = 512
    entries: OrderedDict[Hashable, tuple[int, Any]] = field(default_factory=OrderedDict)
    pending: set[Hashable] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _executor: ThreadPoolExecutor | None = None

    def get(self, key: Hashable, generation: int, compute: Callable[[], Any]) -> Any:
        """The answer at `generation`, or the latest one known while it is computed."""
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
                if found[0] < generation and key not in self.pending:
                    self.pending.add(key)
                    self._pool().submit(self._refresh, key, generation, compute)
                return found[1]
        value = compute()
        self._store(key, generation, value)
        return value

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recent-answers")
        return self._executor

    def _refresh(self, key: Hashable, generation: int, compute: Callable[[], Any]) -> None:
        try:
            self._store(key, generation, compute())
        except Exception:  # the old answer stays; the next request tries again
            log.exception("recomputing a cached answer failed")
        finally:
            with self.lock:
                self.pending.discard(key)

    def _store(self, key: Hashable, generation: int, value: Any) -> None:
        with self.lock:
            found = self.entries.get(key)
            if found is None or found[0] <= generation:
                self.entries[key] = (generation, value)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def cache_key(kind: str, generation: int, statement: str, sql: SqlBuilder) -> Hashable:
    """A statement and its parameters at one catalog generation."""
    return (kind, generation, statement, tuple(sorted(sql.params.items())))


def catalog_generation(conn: Connection) -> int:
    return conn.execute(text("SELECT generation FROM catalog_generation WHERE id = 1")).scalar_one()
