"""The processing engine: providers -> queue -> processors -> stitcher -> final entities.

Any number of OS processes may run an engine on the same database: work is
claimed in batches with leases, so a process killed mid-batch loses nothing
(its lease runs out and another process takes the batch again).

A batch is written and its own entities stitched in one transaction, holding
their row locks. Entities whose served form changes because of the batch (the
targets of reverse relations, children that may be orphans now) go through the
stitch queue, a little later, so that many batches touching one team stitch it
once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pluggy
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from greenroom import __version__
from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.processing import store
from greenroom.catalog.processing.pipeline import Outcome, process_entity, pure_input_hash
from greenroom.catalog.processing.ranks import claim_rank
from greenroom.catalog.processing.rules import CatalogRules
from greenroom.catalog.processing.search_rows import relation_rows, search_rows
from greenroom.catalog.processing.stitching import ORPHAN_ANNOTATION, stitch_entity, unstitch
from greenroom.catalog.processing.types import DeferredEntity, EntityProvider, ProcessingEnvironment
from greenroom.catalog.reading import Readers, ReadingPolicy
from greenroom.config import Config
from greenroom.db import deferred_indexes
from greenroom.db.transactions import write_transaction
from greenroom.errors import ConflictError, GreenroomError, InputError
from greenroom.jsonutil import dumps, loads, sha1_hex
from greenroom.plugins import collect

log = logging.getLogger(__name__)

_DEADLOCK_RETRIES = 5
# Deleting an entity's search rows finds them by this index: it stays during bulk loads.
_SEARCH_INDEXES_KEPT_WHILE_LOADING = ("search_entity_idx",)


def make_readers(config: Config) -> Readers:
    policy = ReadingPolicy.from_config(config.reading.model_dump(by_alias=True))
    return Readers(policy, cache_dir=config.data_dir / "git")


def make_environment(
    config: Config, pm: pluggy.PluginManager, readers: Readers | None = None
) -> ProcessingEnvironment:
    kinds = tuple(collect(pm.hook.catalog_kinds()))
    processors = tuple(collect(pm.hook.catalog_processors(config=config)))
    fingerprint = sha1_hex(
        dumps(
            [
                __version__,
                sorted(name for name, _ in pm.list_name_plugin()),
                [(k.kind, k.api_versions) for k in kinds],
                [p.name for p in processors],
                config.catalog.model_dump(mode="json", include={"rules", "orphan_strategy"}),
                # Only the rules of locations matter to processing, not the list itself:
                # adding a location must not reprocess the whole catalog.
                [
                    (loc.type, loc.target, loc.model_dump(mode="json")["rules"])
                    for loc in config.catalog.locations
                    if loc.rules
                ],
                config.reading.model_dump(mode="json"),
            ]
        )
    )
    return ProcessingEnvironment(
        config=config,
        readers=readers or make_readers(config),
        kinds=kinds,
        processors=processors,
        fingerprint=fingerprint,
    )


@dataclass
class EngineStats:
    processed: int = 0
    skipped: int = 0
    changed: int = 0
    failed: int = 0
    stitched: int = 0
    deleted: int = 0


@dataclass(slots=True)
class _Stitch:
    """One entity to stitch: its processed form (None if it never was valid) and errors."""

    id: int
    entity_id: str
    ref: str
    processed: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Stitch the processed form the currently served entity was made from.
    reuse_served: bool = False
    # False when it cannot have a served form yet (first processing): no lookup needed.
    served_before: bool = True


def _child(deferred: DeferredEntity) -> store.Child:
    body = dumps(deferred.entity)
    return store.Child(
        entity_ref_of(deferred.entity),
        body,
        sha1_hex(body),
        deferred.location_key,
        deferred.line,
        claim_rank(deferred.entity.get("kind")),
    )


def _errors_json(errors: Sequence[GreenroomError]) -> str | None:
    return dumps([e.to_json() for e in errors]) if errors else None


def _is_deadlock(error: OperationalError) -> bool:
    return type(error.orig).__name__ in ("DeadlockDetected", "SerializationFailure")


class CatalogEngine:
    """Runs providers, processes and stitches batches against one database."""

    def __init__(
        self,
        db: Engine,
        config: Config,
        pm: pluggy.PluginManager,
        *,
        providers: Sequence[EntityProvider] = (),
    ) -> None:
        self.db = db
        self.config = config
        self.env = make_environment(config, pm)
        self.rules = CatalogRules(config)
        self.providers: list[EntityProvider] = [
            *collect(pm.hook.catalog_entity_providers(config=config)),
            *providers,
        ]
        self.batch_size = config.catalog.batch_size
        self.lease = config.catalog.lease_seconds
        self.interval = config.catalog.processing_interval
        self.delete_orphans = config.catalog.orphan_strategy == "delete"
        # Reverse relations are stitched this much later, so batches touching one entity merge,
        # and while processing is busy, only once they have waited `stitch_patience` more.
        self.stitch_delay = 1.0
        self.stitch_patience = 10.0
        self.stats = EngineStats()
        # Called after a commit that changed served entities (the change feed listens).
        self.on_changes: list[Callable[[], None]] = []
        # Statistics are looked at after each batch that changed something.
        self._changed_at_analyze = 0
        # A first load of at least this many entities sets the search table's indexes
        # aside until it is done (see `_consider_bulk_load`); 0 never does.
        self.bulk_load_threshold = 20_000
        self._watch_for_bulk_load = db.dialect.name == "postgresql"

    def _write(self, work: Callable[[Connection], Any]) -> Any:
        """Run `work` in a write transaction, again if the database chose it as a deadlock victim."""
        for attempt in range(_DEADLOCK_RETRIES):
            try:
                with write_transaction(self.db) as conn:
                    if conn.dialect.name == "postgresql":
                        # Everything here can be recomputed, so waiting for the WAL flush
                        # on every batch buys nothing but latency.
                        conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
                    return work(conn)
            except OperationalError as error:
                if not _is_deadlock(error) or attempt == _DEADLOCK_RETRIES - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.1))
        return None

    # --- providers ---------------------------------------------------------------

    def run_providers(self) -> None:
        """Each provider's current entities replace what it provided before."""
        for provider in self.providers:
            try:
                entities = provider.read()
            except Exception as error:  # one broken provider must not stop the others or processing
                log.error(
                    "provider %s failed: %s",
                    provider.name,
                    error,
                    exc_info=not isinstance(error, GreenroomError),
                )
                continue
            children = self._dedupe([_child(d) for d in entities], [])
            written = self._write(
                partial(
                    self._replace_provided, name=provider.name, children=children, now=time.time()
                )
            )
            for child, owner in written.conflicts:
                log.warning(
                    "provider %s: %s is already provided from %s",
                    provider.name,
                    child.entity_ref,
                    owner,
                )

    @staticmethod
    def _replace_provided(
        conn: Connection, *, name: str, children: list[store.Child], now: float
    ) -> store.ChildrenWrite:
        result = store.replace_children(
            conn, source_ref=None, source_key=name, children=children, now=now
        )
        store.request_stitch(conn, result.touched, due=now)
        return result

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
                    InputError(
                        f"Duplicate nested entity: {child.entity_ref}",
                        file=child.location_key,
                        line=child.line,
                    )
                )
                continue
            seen[child.entity_ref] = child
        return list(seen.values())

    def process_batch(self) -> int:
        """Claim, process, write and stitch one batch. Returns how many entities it claimed."""
        now = time.time()
        claimed = self._write(
            lambda conn: store.claim_for_processing(
                conn, now=now, lease_until=now + self.lease, limit=self.batch_size
            )
        )
        if not claimed:
            return 0
        # An entity that reads nothing but itself, unchanged since its last run, is skipped
        # without even loading it.
        skipped: list[store.ClaimedEntity] = []
        todo: list[store.ClaimedEntity] = []
        for row in claimed:
            same = row.input_hash and row.input_hash == pure_input_hash(
                row.unprocessed_hash, self.env
            )
            (skipped if same else todo).append(row)
        if self._watch_for_bulk_load and any(
            not r.entity_ref.startswith("location:") for r in todo
        ):
            self._consider_bulk_load()
        bodies: dict[int, str] = {}
        if todo:
            with self.db.connect() as conn:
                bodies = store.load_unprocessed(conn, [r.id for r in todo])
        outcomes: list[tuple[store.ClaimedEntity, Outcome]] = []
        for row in todo:
            body = bodies.get(row.id)
            if body is None:  # deleted since the claim
                continue
            outcomes.append(
                (
                    row,
                    process_entity(
                        loads(body),
                        self.env,
                        self.rules,
                        source_line=row.source_line,
                        unprocessed_hash=row.unprocessed_hash,
                        previous_input_hash=row.input_hash,
                    ),
                )
            )
        self._write_outcomes(skipped, outcomes)
        self.stats.processed += len(claimed)
        if self.stats.changed > self._changed_at_analyze and self.db.dialect.name == "postgresql":
            self._changed_at_analyze = self.stats.changed
            with write_transaction(self.db) as conn:
                # Nothing plans with the search table's statistics while its indexes are
                # set aside; they are gathered once the indexes are back.
                aside = ("search",) if deferred_indexes.pending(conn) else ()
                store.analyze(conn, skip=aside, only_grown=True)
        return len(claimed)

    def _consider_bulk_load(self) -> None:
        """Set the search indexes aside when a large catalog comes into an (almost) empty one.

        Maintaining them row by row is most of what the database does during such a load;
        building them once it is done costs a third of that (`_restore_search_indexes`).
        Locations are processed first, so when their entities come up for processing,
        `refresh_state` already knows most of what is coming.
        """
        threshold = self.bulk_load_threshold

        def work(conn: Connection) -> bool | None:
            served = store.count_up_to(conn, "final_entities", threshold)
            if served >= threshold:
                return False
            known = store.count_up_to(conn, "refresh_state", 10 * served + threshold)
            if known - served < max(threshold, 9 * served):
                return None  # not a large load, or not yet known to be one
            names = deferred_indexes.set_aside(
                conn, "search", keep=_SEARCH_INDEXES_KEPT_WHILE_LOADING
            )
            if names:
                log.info(
                    "bulk load of %d entities: search indexes set aside until it is done", known
                )
            return True

        if threshold <= 0 or self._write(work) is not None:
            # Decided for the life of this process: an established catalog stays one.
            self._watch_for_bulk_load = False

    def _indexes_set_aside(self) -> bool:
        with self.db.connect() as conn:
            return deferred_indexes.pending(conn)

    def _restore_search_indexes(self) -> None:
        """Build the indexes a bulk load set aside; the caller knows the queue is empty.

        Every idle process takes part, each building a different index.
        """
        start = time.monotonic()
        built = []
        while True:
            with write_transaction(self.db) as conn:
                name = deferred_indexes.restore_next(conn)
            if name is None:
                break
            built.append(name)
        if built:
            with write_transaction(self.db) as conn:
                # The search table was left out while its indexes were aside; the others
                # only if they grew since. Of processes finishing together, one does it.
                store.analyze(conn, only_grown=True, also=("search",))
            log.info("built %s again in %.1f s", ", ".join(built), time.monotonic() - start)

    def _write_outcomes(
        self,
        skipped: list[store.ClaimedEntity],
        outcomes: list[tuple[store.ClaimedEntity, Outcome]],
    ) -> None:
        now = time.time()
        unchanged = list(skipped)
        results: list[dict[str, Any]] = []
        prepared: dict[int, tuple[store.ClaimedEntity, Outcome, list[store.Child]]] = {}
        for row, outcome in outcomes:
            if outcome.unchanged:
                unchanged.append(row)
                continue
            children: list[store.Child] = []
            if outcome.ok:
                children = self._dedupe([_child(c) for c in outcome.children], outcome.errors)
                relations = sorted({(r.source, r.type, r.target) for r in outcome.relations})
                signature = dumps(
                    [
                        outcome.entity,
                        relations,
                        [(c.entity_ref, c.entity_hash, c.location_key) for c in children],
                        [e.to_json() for e in outcome.errors],
                        outcome.preserve_all_children,
                        sorted(outcome.preserve_location_keys),
                    ]
                )
            else:
                signature = dumps(["failed", [e.to_json() for e in outcome.errors]])
                self.stats.failed += 1
            result_hash = sha1_hex(signature)
            if result_hash == row.result_hash and outcome.input_hash == row.input_hash:
                unchanged.append(row)
                continue
            prepared[row.id] = (row, outcome, children)
            results.append(
                {
                    "id": row.id,
                    "hash": row.unprocessed_hash,
                    "result_hash": result_hash,
                    "input_hash": outcome.input_hash,
                    "errors": _errors_json(outcome.errors),
                }
            )
        self.stats.skipped += len(unchanged)

        def write(conn: Connection) -> bool:
            store.schedule(
                conn, [(r.id, r.unprocessed_hash) for r in unchanged], self._next_due(now)
            )
            # Requests waiting for these entities' processing to stitch them (see
            # `request_stitch`) are served by the stitcher instead.
            store.hasten_stitches(conn, [r.entity_ref for r in unchanged], now)
            current = store.store_results(conn, results, self._next_due(now))
            # An entity processed for the first time has no old relations, children or
            # served form: the lookups for those are only made for the others.
            seen_before = {i for i in current if not _first_run(prepared[i][0])}
            # Other entities that emitted children before must let go of them if they stop.
            emitters = store.emitters_among(
                conn,
                [
                    prepared[i][0].entity_ref
                    for i in seen_before
                    if not prepared[i][0].entity_ref.startswith("location:")
                ],
            )
            touched: set[str] = set()
            relation_rows: list[tuple[int, str, str, str]] = []
            ok_ids: list[int] = []
            with_errors: list[str] = []
            items: list[_Stitch] = []
            failed_with_final: list[_Stitch] = []
            for row_id in sorted(current):
                row, outcome, children = prepared[row_id]
                if outcome.errors or row.had_errors:
                    with_errors.append(row.entity_ref)
                errors = [e.to_json() for e in outcome.errors]
                if not outcome.ok:
                    failed_with_final.append(
                        _Stitch(
                            row.id, row.entity_id, row.entity_ref, None, errors, reuse_served=True
                        )
                    )
                    continue
                ok_ids.append(row.id)
                relation_rows.extend(
                    (row.id, r.source, r.type, r.target) for r in outcome.relations
                )
                if children or row.entity_ref.startswith("location:") or row.entity_ref in emitters:
                    written = store.replace_children(
                        conn,
                        source_ref=row.entity_ref,
                        source_key=None,
                        children=children,
                        now=now,
                        preserve_all=outcome.preserve_all_children,
                        preserve_location_keys=outcome.preserve_location_keys,
                    )
                    touched |= written.touched
                    if written.conflicts:
                        errors = self._record_conflicts(conn, row, outcome, written.conflicts)
                items.append(
                    _Stitch(
                        row.id,
                        row.entity_id,
                        row.entity_ref,
                        outcome.entity,
                        errors,
                        served_before=row_id in seen_before,
                    )
                )
            touched |= store.replace_relations(
                conn, [i for i in ok_ids if i in seen_before], relation_rows
            )
            if with_errors:
                touched |= store.parents_of(conn, with_errors)
            # A failing entity keeps its last good version, now shown with the errors.
            items.extend(failed_with_final)
            # Requests already queued for these entities are served by stitching them now
            # (relations are read below, after these tickets); newer requests keep theirs.
            covered = store.pending_stitches(conn, [i.ref for i in items])
            changes = self._stitch(conn, items, now)
            store.finish_stitching(conn, covered)
            store.request_stitch(
                conn,
                touched - {i.ref for i in items},
                due=now + self.stitch_delay,
                unless_processed_by=now + self.lease,
            )
            store.record_changes(conn, changes, now)
            return bool(changes)

        self._write_and_publish(write)
        self.stats.changed += len(results)

    def _record_conflicts(
        self,
        conn: Connection,
        row: store.ClaimedEntity,
        outcome: Outcome,
        conflicts: list[tuple[store.Child, str | None]],
    ) -> list[dict[str, Any]]:
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
        # Forgetting the result makes the next run write again, so the conflict clears
        # by itself once the other location lets the entity go.
        store.set_errors(conn, row.id, _errors_json(errors))
        return [e.to_json() for e in errors]

    # --- stitching -------------------------------------------------------------------

    def _stitch(self, conn: Connection, items: list[_Stitch], now: float) -> list[store.Change]:
        """Write the served form of these entities (their rows must be locked by the caller).

        Returns the changes to record, which the caller does last in its transaction.
        """
        if not items:
            return []
        parents = store.with_parents(conn, [i.ref for i in items])
        served = store.final_rows(conn, [i.id for i in items if i.served_before])
        # An entity never served, with nothing new to serve, only gets the orphan check.
        live = [i.ref for i in items if i.processed is not None or i.id in served]
        relations = store.relations_from(conn, live)
        failing = store.failing_children(conn, [r for r in live if r.startswith("location:")])
        orphans: list[str] = []
        inserts: list[tuple[int, str, str, str, str]] = []
        updates: list[tuple[int, str, str]] = []
        added: list[store.SearchRow] = []
        removed: list[store.SearchRow] = []
        changes: list[store.Change] = []
        for item in items:
            if item.ref not in parents and self.delete_orphans:
                orphans.append(item.ref)
                continue
            previous = served.get(item.id)
            old = loads(previous[1]) if previous else None
            reused = item.processed is None and old is not None and item.reuse_served
            processed = unstitch(old) if reused else item.processed
            if processed is None:
                continue
            errors = item.errors + [
                _child_error(child, e)
                for child, body in failing.get(item.ref, ())
                for e in loads(body)
            ]
            entity, relation_list = stitch_entity(
                processed,
                entity_id=item.entity_id,
                relations=relations.get(item.ref, []),
                has_parents=item.ref in parents,
                errors=errors,
            )
            etag = entity["metadata"]["etag"]
            if previous and previous[0] == etag:
                continue
            if old is None:
                inserts.append((item.id, item.ref, item.entity_id, etag, dumps(entity)))
                changes.append(store.Change("added", item.ref, item.entity_id))
                added.extend(search_rows(entity, relation_list, item.id))
                continue
            updates.append((item.id, etag, dumps(entity)))
            changes.append(store.Change("updated", item.ref, item.entity_id))
            # Restitched from its served form with the same orphan mark, an entity only
            # differs in relations and status, which is not searched: the usual case of
            # a team gaining a member.
            if reused and _orphan_mark(old) == _orphan_mark(entity):
                rows = relation_rows(relation_list, item.id)
                old_rows = relation_rows(old.get("relations", []), item.id)
            else:
                rows = search_rows(entity, relation_list, item.id)
                old_rows = search_rows(old, old.get("relations", []), item.id)
            new_set, old_set = set(rows), set(old_rows)
            added.extend(r for r in new_set if r not in old_set)
            removed.extend(r for r in old_set if r not in new_set)
        store.write_finals(
            conn, inserts=inserts, updates=updates, added_rows=added, removed_rows=removed, now=now
        )
        self.stats.stitched += len(inserts) + len(updates)
        if orphans:
            touched, removals = store.delete_entities(conn, orphans)
            store.request_stitch(conn, touched, due=now)
            changes.extend(removals)
            self.stats.deleted += len(orphans)
        return changes

    def stitch_batch(self, *, horizon: float = 0.0) -> int:
        """Stitch queued entities due within `horizon` seconds. Returns how many it took."""
        now = time.time()
        claimed = self._write(
            lambda conn: store.claim_for_stitching(
                conn,
                now=now,
                due_by=now + horizon,
                lease_until=now + self.lease,
                limit=self.batch_size,
            )
        )
        if not claimed:
            return 0

        def write(conn: Connection) -> bool:
            locked = store.lock_entities(conn, [ref for ref, _ in claimed])
            items = [
                _Stitch(
                    row_id, entity_id, ref, None, loads(errors) if errors else [], reuse_served=True
                )
                for row_id, entity_id, ref, errors in locked
            ]
            now = time.time()
            changes = self._stitch(conn, items, now)
            store.finish_stitching(conn, claimed)
            store.record_changes(conn, changes, now)
            return bool(changes)

        self._write_and_publish(write)
        return len(claimed)

    # --- requests from the API --------------------------------------------------------

    def refresh(self, ref: str) -> bool:
        """Process `ref` and every entity that brought it in now; False if it is unknown.

        Ancestors are included so that the files the entity comes from are read again.
        """
        ref = ref.lower()

        def write(conn: Connection) -> bool:
            rows = store.rows_of(conn, [ref])
            if not rows:
                return False
            rows += store.rows_of(conn, store.ancestors_of(conn, ref))
            store.make_due(
                conn, [(i, claim_rank(r.partition(":")[0])) for i, r in rows], time.time()
            )
            return True

        return self._write(write)

    def delete_entity(self, uid: str) -> bool:
        """Remove one served entity now. Its parents emit their children again on their
        next run, so an entity some location still emits comes back (with a new uid)."""

        def write(conn: Connection) -> bool:
            ref = conn.execute(
                text("SELECT entity_ref FROM final_entities WHERE uid = :uid"), {"uid": uid}
            ).scalar_one_or_none()
            if ref is None:
                return False
            now = time.time()
            parents = store.rows_of(conn, store.parents_of(conn, [ref]))
            touched, removals = store.delete_entities(conn, [ref])
            store.forget_inputs(conn, [i for i, _ in parents])
            store.make_due(conn, [(i, claim_rank(r.partition(":")[0])) for i, r in parents], now)
            store.request_stitch(conn, touched, due=now)
            store.record_changes(conn, removals, now)
            return True

        return self._write_and_publish(write)

    def delete_tree(self, ref: str) -> int:
        """Remove an entity and every descendant that nothing else emits, now (an
        unregistered location takes what it brought in along). Returns how many went."""
        ref = ref.lower()

        def write(conn: Connection) -> int:
            doomed = {ref} if store.rows_of(conn, [ref]) else set()
            frontier = set(doomed)
            while frontier:
                children = store.children_of(conn, frontier)
                frontier = {
                    child
                    for child, parents in children.items()
                    if child not in doomed and parents <= doomed
                }
                doomed |= frontier
            if not doomed:
                return 0
            now = time.time()
            touched, removals = store.delete_entities(conn, sorted(doomed))
            store.request_stitch(conn, touched, due=now)
            store.record_changes(conn, removals, now)
            return len(doomed)

        return self._write_and_publish(write)

    def _write_and_publish(self, work: Callable[[Connection], Any]) -> Any:
        """`_write` for work that returns whether it changed served entities; after such a
        commit, this process's listeners hear of it at once."""
        result = self._write(work)
        if result:
            for callback in self.on_changes:
                try:
                    callback()
                except Exception:  # a listener's failure is not the engine's
                    log.exception("change listener failed")
        return result

    # --- loops --------------------------------------------------------------------------

    def work_once(self) -> int:
        """One round: a processing batch, then stitching.

        While there is processing to do, only stitches that have waited a while are
        taken: during a bulk load, a team referenced by thousands of entities is then
        stitched a few times instead of once per batch. Once processing is idle,
        everything queued is stitched at once.
        """
        processed = self.process_batch()
        horizon = -self.stitch_patience if processed else float(self.lease)
        return processed + self.stitch_batch(horizon=horizon)

    def run_until_idle(
        self,
        *,
        progress: Callable[[int, int, int], None] | None = None,
        max_seconds: float | None = None,
    ) -> EngineStats:
        """Process and stitch until nothing is due. `progress(done, due, stitch_waiting)`."""
        start = time.monotonic()
        self.run_providers()
        while True:
            worked = self.work_once()
            if progress is not None or not worked:
                with self.db.connect() as conn:
                    due, waiting = store.queue_sizes(conn, time.time(), self.lease)
                if progress is not None:
                    progress(self.stats.processed, due, waiting)
                if not worked:
                    if not due and not waiting:
                        if self._indexes_set_aside():
                            self._restore_search_indexes()
                        return self.stats
                    # Work exists but another process holds it: its results may bring more.
                    time.sleep(0.1)
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
                worked = self.work_once()
            except Exception:
                log.exception("processing loop failed; retrying")
                worked = 0
                stop.wait(5)
            if not worked:
                try:
                    self._restore_when_idle()
                except Exception:
                    log.exception("building the search indexes failed; retrying")
                stop.wait(idle_sleep)

    def _restore_when_idle(self) -> None:
        if not self._indexes_set_aside():
            return
        with self.db.connect() as conn:
            due, waiting = store.queue_sizes(conn, time.time(), self.lease)
        if not due and not waiting:
            self._restore_search_indexes()


def _first_run(row: store.ClaimedEntity) -> bool:
    """Never processed: no result yet and no errors (a conflict also clears the result)."""
    return row.result_hash is None and not row.had_errors


def _orphan_mark(entity: dict[str, Any]) -> str | None:
    return (entity["metadata"].get("annotations") or {}).get(ORPHAN_ANNOTATION)


def _child_error(child_ref: str, error: dict[str, Any]) -> dict[str, Any]:
    """A never-valid child's error, shown on the Location that brought it in."""
    return {**error, "message": f"{child_ref}: {error.get('message', '')}"}
