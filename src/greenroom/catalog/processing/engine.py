"""The processing engine: providers -> queue -> processors -> stitcher -> final entities.

Any number of OS processes may run an engine on the same database: work is
claimed in batches with leases, so a process killed mid-batch loses nothing
(its lease runs out and another process takes the batch again).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy
from sqlalchemy import Engine

from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.processing import store
from greenroom.catalog.processing.pipeline import Outcome, process_entity
from greenroom.catalog.processing.rules import CatalogRules
from greenroom.catalog.processing.search_rows import search_rows
from greenroom.catalog.processing.stitching import stitch_entity
from greenroom.catalog.processing.types import DeferredEntity, EntityProvider, ProcessingEnvironment
from greenroom.catalog.reading import Readers, ReadingPolicy
from greenroom.config import Config
from greenroom.db.transactions import write_transaction
from greenroom.errors import ConflictError, GreenroomError, InputError
from greenroom.jsonutil import dumps, loads, sha1_hex
from greenroom.plugins import collect

log = logging.getLogger(__name__)


def make_readers(config: Config) -> Readers:
    policy = ReadingPolicy.from_config(config.reading.model_dump(by_alias=True))
    return Readers(policy, cache_dir=config.data_dir / "git")


def make_environment(config: Config, pm: pluggy.PluginManager, readers: Readers | None = None) -> ProcessingEnvironment:
    return ProcessingEnvironment(
        config=config,
        readers=readers or make_readers(config),
        kinds=tuple(collect(pm.hook.catalog_kinds())),
        processors=tuple(collect(pm.hook.catalog_processors(config=config))),
    )


@dataclass
class EngineStats:
    processed: int = 0
    changed: int = 0
    failed: int = 0
    stitched: int = 0
    deleted: int = 0
    errors: list[str] = field(default_factory=list)


def _child(deferred: DeferredEntity) -> store.Child:
    body = dumps(deferred.entity)
    return store.Child(entity_ref_of(deferred.entity), body, sha1_hex(body), deferred.location_key, deferred.line)


def _errors_json(errors: Sequence[GreenroomError]) -> str | None:
    return dumps([e.to_json() for e in errors]) if errors else None


class CatalogEngine:
    """Runs providers, processes and stitches batches against one database."""

    def __init__(self, db: Engine, config: Config, pm: pluggy.PluginManager, *, providers: Sequence[EntityProvider] = ()) -> None:
        self.db = db
        self.config = config
        self.env = make_environment(config, pm)
        self.rules = CatalogRules(config)
        self.providers: list[EntityProvider] = [*collect(pm.hook.catalog_entity_providers(config=config)), *providers]
        self.batch_size = config.catalog.batch_size
        self.lease = config.catalog.lease_seconds
        self.interval = config.catalog.processing_interval
        self.delete_orphans = config.catalog.orphan_strategy == "delete"
        self.stats = EngineStats()

    # --- providers ---------------------------------------------------------------

    def run_providers(self) -> None:
        """Each provider's current entities replace what it provided before."""
        for provider in self.providers:
            try:
                entities = provider.read()
            except GreenroomError as error:
                log.error("provider %s failed: %s", provider.name, error)
                continue
            children = self._dedupe([_child(d) for d in entities], [])
            now = time.time()
            with write_transaction(self.db) as conn:
                result = store.replace_children(conn, source_ref=None, source_key=provider.name, children=children, now=now)
                store.request_stitch(conn, result.touched, now=now)
            for child, owner in result.conflicts:
                log.warning("provider %s: %s is already provided from %s", provider.name, child.entity_ref, owner)

    # --- processing ----------------------------------------------------------------

    def _next_due(self, now: float) -> float:
        # Spread refreshes out, as Backstage does, so they do not all fall due together.
        return now + self.interval * random.uniform(1.0, 1.25)

    @staticmethod
    def _dedupe(children: list[store.Child], errors: list[GreenroomError]) -> list[store.Child]:
        seen: dict[str, store.Child] = {}
        for child in children:
            if child.entity_ref in seen:
                errors.append(
                    InputError(f"Duplicate nested entity: {child.entity_ref}", file=child.location_key, line=child.line)
                )
                continue
            seen[child.entity_ref] = child
        return list(seen.values())

    def process_batch(self) -> int:
        """Claim, process and write one batch. Returns how many entities it processed."""
        now = time.time()
        with write_transaction(self.db) as conn:
            claimed = store.claim_for_processing(conn, now=now, lease_until=now + self.lease, limit=self.batch_size)
        if not claimed:
            return 0
        outcomes: list[tuple[store.ClaimedEntity, Outcome]] = []
        for row in claimed:
            try:
                unprocessed = loads(row.unprocessed_entity)
            except ValueError as error:  # only a damaged row could get here
                outcomes.append((row, Outcome(ok=False, errors=[InputError(f"Stored entity is not JSON: {error}")])))
                continue
            outcomes.append((row, process_entity(unprocessed, self.env, self.rules, source_line=row.source_line)))
        self._write_outcomes(outcomes)
        self.stats.processed += len(claimed)
        return len(claimed)

    def _write_outcomes(self, outcomes: list[tuple[store.ClaimedEntity, Outcome]]) -> None:
        now = time.time()
        unchanged: list[str] = []
        results: list[dict[str, Any]] = []
        prepared: dict[str, tuple[store.ClaimedEntity, Outcome, list[store.Child]]] = {}
        for row, outcome in outcomes:
            children: list[store.Child] = []
            if outcome.ok:
                children = self._dedupe([_child(c) for c in outcome.children], outcome.errors)
                body = dumps(outcome.entity)
                relations = sorted({(r.source, r.type, r.target) for r in outcome.relations})
                signature = dumps(
                    [body, relations, [(c.entity_ref, c.entity_hash, c.location_key) for c in children],
                     [e.to_json() for e in outcome.errors], outcome.preserve_all_children,
                     sorted(outcome.preserve_location_keys)]
                )
            else:
                body = None
                signature = dumps(["failed", [e.to_json() for e in outcome.errors]])
                self.stats.failed += 1
            result_hash = sha1_hex(signature)
            if result_hash == row.result_hash:
                unchanged.append(row.entity_id)
                continue
            prepared[row.entity_id] = (row, outcome, children)
            results.append(
                {"id": row.entity_id, "hash": row.unprocessed_hash, "processed": body,
                 "result_hash": result_hash, "errors": _errors_json(outcome.errors), "next": self._next_due(now)}
            )
        with write_transaction(self.db) as conn:
            store.bump_unchanged(conn, unchanged, {r.entity_id: r.unprocessed_hash for r, _ in outcomes}, self._next_due(now))
            current = store.store_results(conn, results)
            stitch: set[str] = set()
            ok_ids: list[str] = []
            relation_rows: list[tuple[str, str, str, str]] = []
            report_to_parents: list[str] = []
            for entity_id in current:
                row, outcome, children = prepared[entity_id]
                stitch.add(row.entity_ref)
                if outcome.errors or row.had_errors:
                    report_to_parents.append(row.entity_ref)
                if not outcome.ok:
                    continue
                ok_ids.append(entity_id)
                relation_rows.extend((entity_id, r.source, r.type, r.target) for r in outcome.relations)
                if children or outcome.entity.get("kind") == "Location" or row.entity_ref.startswith("location:"):
                    written = store.replace_children(
                        conn, source_ref=row.entity_ref, source_key=None, children=children, now=now,
                        preserve_all=outcome.preserve_all_children,
                        preserve_location_keys=outcome.preserve_location_keys,
                    )
                    stitch |= written.touched
                    if written.conflicts:
                        self._record_conflicts(conn, row, outcome, written.conflicts)
            stitch |= store.replace_relations(conn, ok_ids, relation_rows)
            if report_to_parents:
                stitch |= store.parents_of(conn, report_to_parents)
            store.request_stitch(conn, stitch, now=now)
        self.stats.changed += len(results)

    def _record_conflicts(self, conn: Any, row: store.ClaimedEntity, outcome: Outcome, conflicts: list[tuple[store.Child, str | None]]) -> None:
        errors = list(outcome.errors)
        for child, owner in conflicts:
            errors.append(
                ConflictError(
                    f"Entity {child.entity_ref} from {child.location_key} conflicts with the same entity "
                    f"already in the catalog from {owner}; the first one is kept",
                    file=child.location_key,
                    line=child.line,
                )
            )
        # A null result hash makes the next run write again, so the conflict clears
        # by itself once the other location lets the entity go.
        from sqlalchemy import text

        conn.execute(
            text("UPDATE refresh_state SET errors = :errors, result_hash = NULL WHERE entity_id = :id"),
            {"errors": _errors_json(errors), "id": row.entity_id},
        )

    # --- stitching -------------------------------------------------------------------

    def stitch_batch(self) -> int:
        now = time.time()
        with write_transaction(self.db) as conn:
            claimed = store.claim_for_stitching(conn, now=now, lease_until=now + self.lease, limit=self.batch_size)
        if not claimed:
            return 0
        refs = [ref for ref, _ in claimed]
        with write_transaction(self.db) as conn:
            inputs, vanished = store.load_for_stitching(conn, refs)
            orphans: list[str] = []
            upserts: list[tuple[str, str, str, str]] = []
            rows: list[tuple[str, str, str | None, str | None]] = []
            replaced: list[str] = []
            removed = list(vanished.values())
            for ref, item in inputs.items():
                if not item.has_parents and self.delete_orphans:
                    orphans.append(ref)
                    continue
                if item.processed_entity is None:
                    if item.final_id:
                        removed.append(item.final_id)
                    continue
                errors = loads(item.errors) if item.errors else []
                for child_ref, child_errors in item.child_errors:
                    errors.extend(_child_error(child_ref, e) for e in loads(child_errors))
                entity, relations = stitch_entity(
                    loads(item.processed_entity), entity_id=item.entity_id, relations=item.relations,
                    has_parents=item.has_parents, errors=errors,
                )
                etag = entity["metadata"]["etag"]
                if item.final_hash == etag and item.final_id == item.entity_id:
                    continue
                if item.final_id:
                    replaced.append(item.final_id)
                upserts.append((item.entity_id, ref, etag, dumps(entity)))
                rows.extend((item.entity_id, k, o, v) for k, o, v in search_rows(entity, relations))
            store.write_stitched(conn, upserts=upserts, search_rows=rows, replaced_ids=replaced, removed_ids=removed, now=now)
            if orphans:
                touched = store.delete_entities(conn, orphans)
                store.request_stitch(conn, touched, now=now)
                self.stats.deleted += len(orphans)
            store.finish_stitching(conn, claimed)
        self.stats.stitched += len(upserts)
        return len(claimed)

    # --- loops --------------------------------------------------------------------------

    def run_until_idle(self, *, progress: Callable[[int, int, int], None] | None = None, max_seconds: float | None = None) -> EngineStats:
        """Process and stitch until nothing is due. `progress(done, due, stitch_waiting)`."""
        start = time.monotonic()
        self.run_providers()
        while True:
            worked = self.process_batch()
            worked += self.stitch_batch()
            if progress is not None or not worked:
                with self.db.connect() as conn:
                    due, waiting = store.queue_sizes(conn, time.time(), self.lease)
                if progress is not None:
                    progress(self.stats.processed, due, waiting)
                if not worked:
                    if not due and not waiting:
                        return self.stats
                    # Work exists but another process holds it: its results may bring more.
                    time.sleep(0.2)
            if max_seconds is not None and time.monotonic() - start > max_seconds:
                return self.stats

    def run_forever(self, stop: threading.Event, *, idle_sleep: float = 1.0) -> None:
        """The worker loop of `greenroom serve` and `greenroom worker`."""
        next_providers = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_providers:
                    self.run_providers()
                    next_providers = time.monotonic() + self.interval
                worked = self.process_batch() + self.stitch_batch()
            except Exception:
                log.exception("processing loop failed; retrying")
                worked = 0
                stop.wait(5)
            if not worked:
                stop.wait(idle_sleep)


def _child_error(child_ref: str, error: dict[str, Any]) -> dict[str, Any]:
    """A never-valid child's error, shown on the Location that brought it in."""
    return {
        "name": error.get("name", "Error"),
        "message": f"{child_ref}: {error.get('message', '')}",
        **{k: v for k, v in error.items() if k not in ("name", "message")},
    }
