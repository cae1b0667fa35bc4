"""SQL of the processing engine: claiming work, writing results, stitching, deleting.

Every function works on sets: one statement per step for a whole batch, bulk
inserts through `greenroom.db.bulk`, never one round trip per entity.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite

from greenroom.catalog.tables import final_entities, refresh_state, stitch_queue
from greenroom.db.bulk import bulk_insert, chunks


def _skip_locked(conn: Connection) -> str:
    return " FOR UPDATE SKIP LOCKED" if conn.dialect.name == "postgresql" else ""


def _in(conn: Connection, sql: str, values: Sequence[Any], **params: Any) -> list[Any]:
    """Run `sql` (with an `IN :values` clause) over chunks of values; collect returned rows."""
    out: list[Any] = []
    stmt = text(sql).bindparams(bindparam("values", expanding=True))
    for part in chunks(list(values)):
        result = conn.execute(stmt, {"values": list(part), **params})
        if result.returns_rows:
            out.extend(result.all())
    return out


# --- the processing queue ---------------------------------------------------------


@dataclass(slots=True)
class ClaimedEntity:
    entity_id: str
    entity_ref: str
    unprocessed_entity: str
    unprocessed_hash: str
    result_hash: str | None
    location_key: str | None
    source_line: int | None
    had_errors: bool
    never_valid: bool


def claim_for_processing(conn: Connection, *, now: float, lease_until: float, limit: int) -> list[ClaimedEntity]:
    """Lease up to `limit` due entities. The lease is `next_update_at` itself."""
    rows = conn.execute(
        text(
            "UPDATE refresh_state SET next_update_at = :lease WHERE entity_id IN ("
            " SELECT entity_id FROM refresh_state WHERE next_update_at <= :now"
            f" ORDER BY next_update_at LIMIT :limit{_skip_locked(conn)})"
            " RETURNING entity_id, entity_ref, unprocessed_entity, unprocessed_hash, result_hash,"
            " location_key, source_line, errors IS NOT NULL, processed_entity IS NULL"
        ),
        {"lease": lease_until, "now": now, "limit": limit},
    ).all()
    return [ClaimedEntity(*row) for row in rows]


def bump_unchanged(conn: Connection, ids: Sequence[str], claimed_hashes: dict[str, str], next_update_at: float) -> None:
    """Entities whose result did not change only get their next due time."""
    if not ids:
        return
    conn.execute(
        text(
            "UPDATE refresh_state SET next_update_at = :next"
            " WHERE entity_id = :id AND unprocessed_hash = :hash"
        ),
        [{"next": next_update_at, "id": i, "hash": claimed_hashes[i]} for i in ids],
    )


def store_results(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Write changed results; returns the ids still current (input unchanged since claim).

    Each row: id, hash (claimed unprocessed hash), processed (JSON or None to keep the
    last good one), result_hash, errors (JSON or None), next.
    """
    if not rows:
        return set()
    current: set[str] = set()
    keep = [r for r in rows if r["processed"] is None]
    replace = [r for r in rows if r["processed"] is not None]
    # Guarded by the unprocessed hash: if a location rewrote the entity meanwhile, this
    # result is stale and the newer input is already due again.
    if replace:
        conn.execute(
            text(
                "UPDATE refresh_state SET processed_entity = :processed, result_hash = :result_hash,"
                " errors = :errors, next_update_at = :next"
                " WHERE entity_id = :id AND unprocessed_hash = :hash"
            ),
            replace,
        )
    if keep:
        conn.execute(
            text(
                "UPDATE refresh_state SET result_hash = :result_hash, errors = :errors, next_update_at = :next"
                " WHERE entity_id = :id AND unprocessed_hash = :hash"
            ),
            keep,
        )
    ids = [r["id"] for r in rows]
    hashes = {r["id"]: r["hash"] for r in rows}
    for entity_id, unprocessed_hash in _in(
        conn, "SELECT entity_id, unprocessed_hash FROM refresh_state WHERE entity_id IN :values", ids
    ):
        if hashes[entity_id] == unprocessed_hash:
            current.add(entity_id)
    return current


def replace_relations(
    conn: Connection, originating_ids: Sequence[str], rows: Iterable[tuple[str, str, str, str]]
) -> set[str]:
    """Swap the relations these entities produce; returns every source ref touched (old and new)."""
    touched: set[str] = set()
    if originating_ids:
        for (source,) in _in(
            conn,
            "DELETE FROM relations WHERE originating_entity_id IN :values RETURNING source_entity_ref",
            originating_ids,
        ):
            touched.add(source)
    rows = list(rows)
    touched.update(r[1] for r in rows)
    bulk_insert(conn, "relations", ("originating_entity_id", "source_entity_ref", "type", "target_entity_ref"), rows)
    return touched


# --- the parent/child graph ---------------------------------------------------------


@dataclass(slots=True)
class Child:
    entity_ref: str
    entity_json: str
    entity_hash: str
    location_key: str | None
    line: int | None


@dataclass(slots=True)
class ChildrenWrite:
    """Result of replacing an emitter's children."""

    conflicts: list[tuple[Child, str | None]]  # (child, location key of the entity that won)
    touched: set[str]  # refs to stitch: removed children (maybe orphans now)


def replace_children(
    conn: Connection,
    *,
    source_ref: str | None,
    source_key: str | None,
    children: Sequence[Child],
    now: float,
    preserve_all: bool = False,
    preserve_location_keys: Iterable[str] = (),
) -> ChildrenWrite:
    """Make `children` the emitter's children: upsert their rows, swap references."""
    column, owner = ("source_entity_ref", source_ref) if source_ref is not None else ("source_key", source_key)
    old_targets = {
        target
        for (target,) in conn.execute(
            text(f"DELETE FROM refresh_state_references WHERE {column} = :owner RETURNING target_entity_ref"),
            {"owner": owner},
        ).all()
    }
    keep: set[str] = set()
    preserve_location_keys = set(preserve_location_keys)
    if old_targets and (preserve_all or preserve_location_keys):
        if preserve_all:
            keep = set(old_targets)
        else:
            for ref, key in _in(
                conn, "SELECT entity_ref, location_key FROM refresh_state WHERE entity_ref IN :values", list(old_targets)
            ):
                if key in preserve_location_keys:
                    keep.add(ref)

    existing = {
        ref: (entity_id, key, unprocessed_hash)
        for ref, entity_id, key, unprocessed_hash in _in(
            conn,
            "SELECT entity_ref, entity_id, location_key, unprocessed_hash FROM refresh_state WHERE entity_ref IN :values",
            [c.entity_ref for c in children],
        )
    }
    # An entity another emitter already owns, from another file, is a conflict; one
    # whose old owner has let it go (no parent left) is taken over.
    candidates = [
        c.entity_ref for c in children if c.entity_ref in existing and existing[c.entity_ref][1] not in (None, c.location_key)
    ]
    owned_elsewhere = (
        {ref for (ref,) in _in(conn, "SELECT DISTINCT target_entity_ref FROM refresh_state_references WHERE target_entity_ref IN :values", candidates)}
        if candidates
        else set()
    )
    inserts: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    conflicts: list[tuple[Child, str | None]] = []
    accepted: list[str] = []
    for child in children:
        row = existing.get(child.entity_ref)
        if row is None:
            inserts.append(
                (str(uuid.uuid4()), child.entity_ref, child.entity_json, child.entity_hash, child.location_key, child.line, now, now)
            )
        elif child.entity_ref in owned_elsewhere:
            conflicts.append((child, row[1]))
            continue
        elif row[2] != child.entity_hash or row[1] != child.location_key:
            updates.append(
                {"ref": child.entity_ref, "entity": child.entity_json, "hash": child.entity_hash,
                 "key": child.location_key, "line": child.line, "now": now}
            )
        accepted.append(child.entity_ref)
    if inserts:
        if conn.dialect.name == "postgresql":
            # Another worker may insert the same new ref at the same time; the loser skips it.
            stmt = postgresql.insert(refresh_state).on_conflict_do_nothing(index_elements=["entity_ref"])
        else:
            stmt = sqlite.insert(refresh_state).on_conflict_do_nothing(index_elements=["entity_ref"])
        cols = ("entity_id", "entity_ref", "unprocessed_entity", "unprocessed_hash", "location_key", "source_line", "next_update_at", "last_discovery_at")
        for part in chunks(inserts, 2000):
            conn.execute(stmt, [dict(zip(cols, row, strict=True)) for row in part])
    if updates:
        conn.execute(
            text(
                "UPDATE refresh_state SET unprocessed_entity = :entity, unprocessed_hash = :hash,"
                " location_key = :key, source_line = :line, next_update_at = :now, last_discovery_at = :now"
                " WHERE entity_ref = :ref"
            ),
            updates,
        )
    targets = list(dict.fromkeys([*accepted, *sorted(keep)]))
    bulk_insert(
        conn,
        "refresh_state_references",
        ("source_key", "source_entity_ref", "target_entity_ref"),
        ((source_key, source_ref, t) for t in targets),
    )
    removed = old_targets - set(targets)
    return ChildrenWrite(conflicts, removed)


def parents_of(conn: Connection, refs: Sequence[str]) -> set[str]:
    return {
        r
        for (r,) in _in(
            conn,
            "SELECT DISTINCT source_entity_ref FROM refresh_state_references"
            " WHERE target_entity_ref IN :values AND source_entity_ref IS NOT NULL",
            refs,
        )
    }


# --- stitching ------------------------------------------------------------------------


def request_stitch(conn: Connection, refs: Iterable[str], *, now: float) -> None:
    """Queue refs for stitching; a new ticket tells a running stitcher to keep the row."""
    rows = [{"entity_ref": r, "next_stitch_at": now, "ticket": str(uuid.uuid4())} for r in set(refs)]
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(stitch_queue)
    stmt = stmt.on_conflict_do_update(
        index_elements=["entity_ref"],
        set_={"next_stitch_at": stmt.excluded.next_stitch_at, "ticket": stmt.excluded.ticket},
    )
    # Sorted, so concurrent workers lock rows in the same order and cannot deadlock.
    rows.sort(key=lambda r: r["entity_ref"])
    for part in chunks(rows, 2000):
        conn.execute(stmt, list(part))


def claim_for_stitching(conn: Connection, *, now: float, lease_until: float, limit: int) -> list[tuple[str, str]]:
    return [
        (ref, ticket)
        for ref, ticket in conn.execute(
            text(
                "UPDATE stitch_queue SET next_stitch_at = :lease WHERE entity_ref IN ("
                " SELECT entity_ref FROM stitch_queue WHERE next_stitch_at <= :now"
                f" ORDER BY next_stitch_at LIMIT :limit{_skip_locked(conn)})"
                " RETURNING entity_ref, ticket"
            ),
            {"lease": lease_until, "now": now, "limit": limit},
        ).all()
    ]


@dataclass(slots=True)
class StitchInput:
    entity_id: str
    entity_ref: str
    processed_entity: str | None
    errors: str | None
    relations: list[tuple[str, str]]
    has_parents: bool
    final_id: str | None
    final_hash: str | None
    child_errors: list[tuple[str, str]]  # (child ref, errors JSON) of never-valid children


def load_for_stitching(conn: Connection, refs: Sequence[str]) -> tuple[dict[str, StitchInput], dict[str, str]]:
    """Everything stitching needs, in five set queries. Also returns finals of vanished refs."""
    rows = _in(
        conn,
        "SELECT entity_id, entity_ref, processed_entity, errors FROM refresh_state WHERE entity_ref IN :values",
        refs,
    )
    finals = {ref: (fid, h) for ref, fid, h in _in(conn, "SELECT entity_ref, entity_id, hash FROM final_entities WHERE entity_ref IN :values", refs)}
    inputs = {
        ref: StitchInput(eid, ref, processed, errors, [], False, *finals.get(ref, (None, None)), [])
        for eid, ref, processed, errors in rows
    }
    live = list(inputs)
    for source, type_, target in _in(
        conn, "SELECT source_entity_ref, type, target_entity_ref FROM relations WHERE source_entity_ref IN :values", live
    ):
        inputs[source].relations.append((type_, target))
    for (target,) in _in(
        conn, "SELECT DISTINCT target_entity_ref FROM refresh_state_references WHERE target_entity_ref IN :values", live
    ):
        inputs[target].has_parents = True
    locations = [ref for ref in live if ref.startswith("location:")]
    if locations:
        for source, child, errors in _in(
            conn,
            "SELECT x.source_entity_ref, r.entity_ref, r.errors FROM refresh_state_references x"
            " JOIN refresh_state r ON r.entity_ref = x.target_entity_ref"
            " WHERE x.source_entity_ref IN :values AND r.processed_entity IS NULL AND r.errors IS NOT NULL",
            locations,
        ):
            inputs[source].child_errors.append((child, errors))
    vanished = {ref: fid for ref, (fid, _h) in finals.items() if ref not in inputs}
    return inputs, vanished


def write_stitched(
    conn: Connection,
    *,
    upserts: Sequence[tuple[str, str, str, str]],  # (entity_id, ref, hash, json)
    search_rows: Iterable[tuple[str, str, str | None, str | None]],
    replaced_ids: Sequence[str],
    removed_ids: Sequence[str],
    now: float,
) -> None:
    """Replace final entities and their search rows."""
    stale = [*replaced_ids, *removed_ids]
    if stale:
        _in(conn, "DELETE FROM search WHERE entity_id IN :values", stale)
        _in(conn, "DELETE FROM final_entities WHERE entity_id IN :values", stale)
    if upserts:
        _in(conn, "DELETE FROM final_entities WHERE entity_ref IN :values", [u[1] for u in upserts])
        bulk_insert(
            conn,
            "final_entities",
            ("entity_id", "entity_ref", "hash", "final_entity", "last_updated_at"),
            ((eid, ref, h, body, now) for eid, ref, h, body in upserts),
        )
    bulk_insert(conn, "search", ("entity_id", "key", "original_value", "value"), search_rows)


def finish_stitching(conn: Connection, claimed: Sequence[tuple[str, str]]) -> None:
    if claimed:
        conn.execute(
            text("DELETE FROM stitch_queue WHERE entity_ref = :ref AND ticket = :ticket"),
            [{"ref": r, "ticket": t} for r, t in claimed],
        )


# --- deletion ---------------------------------------------------------------------------


def delete_entities(conn: Connection, refs: Sequence[str]) -> set[str]:
    """Remove entities and everything they own; returns refs whose served form changes."""
    if not refs:
        return set()
    touched: set[str] = set()
    ids = [eid for (eid,) in _in(conn, "SELECT entity_id FROM refresh_state WHERE entity_ref IN :values", refs)]
    for (source,) in _in(conn, "DELETE FROM relations WHERE originating_entity_id IN :values RETURNING source_entity_ref", ids):
        touched.add(source)
    for (child,) in _in(
        conn, "DELETE FROM refresh_state_references WHERE source_entity_ref IN :values RETURNING target_entity_ref", refs
    ):
        touched.add(child)
    _in(conn, "DELETE FROM refresh_state_references WHERE target_entity_ref IN :values", refs)
    final_ids = [fid for (fid,) in _in(conn, "SELECT entity_id FROM final_entities WHERE entity_ref IN :values", refs)]
    _in(conn, "DELETE FROM search WHERE entity_id IN :values", final_ids)
    _in(conn, "DELETE FROM final_entities WHERE entity_id IN :values", final_ids)
    _in(conn, "DELETE FROM refresh_state WHERE entity_ref IN :values", refs)
    return touched - set(refs)


def final_entity_count(conn: Connection) -> int:
    return conn.execute(text("SELECT count(*) FROM final_entities")).scalar_one()


def queue_sizes(conn: Connection, now: float, lease_seconds: float) -> tuple[int, int]:
    """(entities due or leased for processing, entities waiting to be stitched).

    A leased entity's `next_update_at` is at most one lease ahead, so counting up to
    there also sees batches other processes are working on.
    """
    due = conn.execute(
        text("SELECT count(*) FROM refresh_state WHERE next_update_at <= :until"), {"until": now + lease_seconds}
    ).scalar_one()
    stitch = conn.execute(text("SELECT count(*) FROM stitch_queue")).scalar_one()
    return due, stitch

