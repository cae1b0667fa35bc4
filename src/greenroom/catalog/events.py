"""Change events of the served catalog: entity added, updated, removed.

Writers log them in `entity_events` in the same transaction as the change (see
`processing.store.record_changes`), so they reach every process through the
database. Generations commit in order, so a reader that asks for "everything after
generation G" never misses an event that commits late. In this process, the
engine pokes the feed after each commit, so subscribers hear of its own changes at
once and of other processes' changes at the next poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text

from greenroom.db.transactions import write_transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EntityEvent:
    generation: int
    action: str  # added | updated | removed
    entity_ref: str
    uid: str
    created_at: float


Subscriber = Callable[[list[EntityEvent]], None]


class ChangeFeed:
    """Reads change events and hands them to this process's subscribers, in order."""

    def __init__(self, db: Engine, *, retention_seconds: float = 24 * 3600) -> None:
        self.db = db
        self.retention_seconds = retention_seconds
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._seen: int | None = None

    def latest_generation(self) -> int:
        with self.db.connect() as conn:
            return conn.execute(
                text("SELECT generation FROM catalog_generation WHERE id = 1")
            ).scalar_one()

    def changes_since(self, generation: int, limit: int = 10_000) -> list[EntityEvent]:
        """Events of generations after `generation`, oldest first (whole generations only)."""
        with self.db.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT generation, action, entity_ref, uid, created_at FROM entity_events"
                    " WHERE generation > :generation ORDER BY generation, id LIMIT :limit"
                ),
                {"generation": generation, "limit": limit + 1},
            ).all()
        events = [EntityEvent(*row) for row in rows]
        if len(events) > limit:
            # Never hand out part of a generation: the caller resumes after the last one.
            last = events[limit - 1].generation
            cut = [e for e in events if e.generation < last]
            events = cut or [e for e in events if e.generation == last]
        return events

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` with each batch of new events; returns a function that stops it."""
        with self._lock:
            if self._seen is None:
                self._seen = self.latest_generation()
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def poll(self) -> int:
        """Deliver events committed since the last poll; returns how many."""
        with self._lock:
            if not self._subscribers or self._seen is None:
                return 0
            delivered = 0
            while True:
                events = self.changes_since(self._seen)
                if not events:
                    return delivered
                for subscriber in list(self._subscribers):
                    try:
                        subscriber(events)
                    except Exception:  # one broken subscriber must not starve the others
                        log.exception("change subscriber failed")
                self._seen = events[-1].generation
                delivered += len(events)

    def prune(self) -> int:
        """Drop events older than the retention period."""
        with write_transaction(self.db) as conn:
            return conn.execute(
                text("DELETE FROM entity_events WHERE created_at < :before"),
                {"before": time.time() - self.retention_seconds},
            ).rowcount

    def run(self, stop: threading.Event, *, interval: float = 1.0) -> None:
        """Poll until `stop` is set, pruning old events hourly (a thread of `greenroom serve`)."""
        next_prune = 0.0
        while not stop.is_set():
            try:
                self.poll()
                if time.monotonic() >= next_prune:
                    self.prune()
                    next_prune = time.monotonic() + 3600
            except Exception:
                log.exception("change feed poll failed; retrying")
            stop.wait(interval)
