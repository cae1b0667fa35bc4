"""SQL of the processing engine: claiming work, writing results, stitching, deleting.

Every function works on sets: one statement per step for a whole batch, bulk
inserts through `greenroom.db.bulk`, never one round trip per entity.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, text
from sqlalchemy.dialects import postgresql, sqlite

from greenroom.catalog.processing.ranks import LOCATION_RANK, RANKS
from greenroom.catalog.tables import stitch_queue
from greenroom.db.bulk import array_literal, bulk_insert, bulk_insert_new, bulk_update, chunks


def _skip_locked(conn: Connection) -> str:
    return " FOR UPDATE SKIP LOCKED" if conn.dialect.name == "postgresql" else ""


def _in(conn: Connection, sql: str, values: Iterable[Any], **params: Any) -> list[Any]:
    """Run `sql` (with an `IN :values` clause) over the values; collect returned rows.

    On PostgreSQL the values travel as one array parameter (`= ANY(...)`), which
    spares the server parsing and planning hundreds of parameters per query, and
    the statement runs on the driver's cursor: these queries return up to a
    million small rows per load, and plain tuples are all the callers need.
    """
    out: list[Any] = []
    values = list(values)
    if not values:
        return out
    if conn.dialect.name == "postgresql":
        kind = "bigint" if isinstance(values[0], int) else "text"
        raw_sql = _PARAM.sub(
            r"%(\1)s", sql.replace("IN :values", f"= ANY(CAST(:values AS {kind}[]))")
        )
        with conn.connection.driver_connection.cursor() as cur:
            for part in chunks(values, 10_000):
                cur.execute(raw_sql, {"values": array_literal(part), **params})
                if cur.description is not None:
                    out.extend(cur.fetchall())
        return out
    stmt = text(sql).bindparams(bindparam("values", expanding=True))
    for part in chunks(values):
        result = conn.execute(stmt, {"values": list(part), **params})
        if result.returns_rows:
            out.extend(result.all())
    return out


# `:name` parameters of the SQL given to `_in`, in the driver's own style.
_PARAM = re.compile(r"(?<![:\w]):(\w+)")


def _dialect(conn: Connection) -> Any:
    return postgresql if conn.dialect.name == "postgresql" else sqlite


# --- the processing queue ---------------------------------------------------------


@dataclass(slots=True)
class ClaimedEntity:
    id: int
    entity_id: str
    entity_ref: str
    unprocessed_hash: str
    input_hash: str | None
    result_hash: str | None
    location_key: str | None
    source_line: int | None
    had_errors: bool


def claim_for_processing(
    conn: Connection, *, now: float, lease_until: float, limit: int
) -> list[ClaimedEntity]:
    """Lease due entities, in rank order (see `ranks`). The lease is `next_update_at` itself.

    Locations read files and are claimed one at a time, so that with several
    workers the expensive ones spread over all of them. Each rank is one index
    range, so finding due work stays cheap however large the catalog is.
    """
    columns = (
        "id, entity_id, entity_ref, unprocessed_hash, input_hash, result_hash,"
        " location_key, source_line, errors IS NOT NULL"
    )
    for rank in RANKS:
        ids = [
            i
            for (i,) in conn.execute(
                text(
                    "UPDATE refresh_schedule SET next_update_at = :lease WHERE id IN ("
                    " SELECT id FROM refresh_schedule WHERE claim_rank = :rank AND next_update_at <= :now"
                    f" ORDER BY next_update_at LIMIT :limit{_skip_locked(conn)})"
                    " RETURNING id"
                ),
                {
                    "lease": lease_until,
                    "now": now,
                    "limit": 1 if rank == LOCATION_RANK else limit,
                    "rank": rank,
                },
            ).all()
        ]
        if ids:
            rows = _in(conn, f"SELECT {columns} FROM refresh_state WHERE id IN :values", ids)
            return sorted((ClaimedEntity(*row) for row in rows), key=lambda r: r.id)
    return []


def load_unprocessed(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    return dict(
        _in(conn, "SELECT id, unprocessed_entity FROM refresh_state WHERE id IN :values", ids)
    )


def schedule(conn: Connection, rows: Sequence[tuple[int, str]], next_update_at: float) -> None:
    """Set when these entities are next due, unless their input changed since they were claimed.

    Each row is (id, the unprocessed hash seen at claim time). A location that
    rewrote the entity meanwhile has made it due already; that must stand.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "UPDATE refresh_schedule AS s SET next_update_at = :next"
                " FROM unnest(CAST(:ids AS bigint[]), CAST(:hashes AS text[])) AS v(id, hash), refresh_state AS r"
                " WHERE s.id = v.id AND r.id = v.id AND r.unprocessed_hash = v.hash"
            ),
            {
                "next": next_update_at,
                "ids": array_literal([i for i, _ in sorted(rows)]),
                "hashes": array_literal([h for _, h in sorted(rows)]),
            },
        )
        return
    conn.execute(
        text(
            "UPDATE refresh_schedule SET next_update_at = :next WHERE id = :id"
            " AND EXISTS (SELECT 1 FROM refresh_state r WHERE r.id = :id AND r.unprocessed_hash = :hash)"
        ),
        [{"next": next_update_at, "id": i, "hash": h} for i, h in sorted(rows)],
    )


def store_results(
    conn: Connection, rows: Sequence[dict[str, Any]], next_update_at: float
) -> set[int]:
    """Write changed results; returns the ids still current (input unchanged since claim).

    Each row: id, hash (the claimed unprocessed hash), result_hash, input_hash, errors.
    The update also takes the row locks that keep stitchers off these entities
    until this transaction ends. It is guarded by the unprocessed hash: if a
    location rewrote the entity meanwhile, this result is stale and the newer
    input is already due again.
    """
    updated = bulk_update(
        conn,
        "refresh_state",
        sorted(rows, key=lambda r: r["id"]),
        assign={"result_hash": "result_hash", "input_hash": "input_hash", "errors": "errors"},
        where="t.id = v.id AND t.unprocessed_hash = v.hash",
        types={
            "id": "bigint",
            "hash": "text",
            "result_hash": "text",
            "input_hash": "text",
            "errors": "text",
        },
        returning="t.id",
    )
    current = {row[0] for row in updated}
    schedule(conn, [(r["id"], r["hash"]) for r in rows if r["id"] in current], next_update_at)
    return current


def set_errors(conn: Connection, row_id: int, errors: str | None) -> None:
    """Replace an entity's errors and forget its result hash, so its next run writes again."""
    conn.execute(
        text(
            "UPDATE refresh_state SET errors = :errors, result_hash = NULL, input_hash = NULL WHERE id = :id"
        ),
        {"errors": errors, "id": row_id},
    )


def replace_relations(
    conn: Connection, originating_ids: Sequence[int], rows: Sequence[tuple[int, str, str, str]]
) -> set[str]:
    """Swap the relations these entities produce; returns every source ref touched (old and new)."""
    touched: set[str] = set()
    if originating_ids:
        touched.update(
            source
            for (source,) in _in(
                conn,
                "DELETE FROM relations WHERE originating_entity_id IN :values RETURNING source_entity_ref",
                originating_ids,
            )
        )
    touched.update(r[1] for r in rows)
    bulk_insert(
        conn,
        "relations",
        ("originating_entity_id", "source_entity_ref", "type", "target_entity_ref"),
        rows,
    )
    return touched


# --- the parent/child graph ---------------------------------------------------------


@dataclass(slots=True)
class Child:
    entity_ref: str
    entity_json: str
    entity_hash: str
    location_key: str | None
    line: int | None
    claim_rank: int


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
    column, owner = (
        ("source_entity_ref", source_ref) if source_ref is not None else ("source_key", source_key)
    )
    old_targets = {
        target
        for (target,) in conn.execute(
            text(
                f"DELETE FROM refresh_state_references WHERE {column} = :owner RETURNING target_entity_ref"
            ),
            {"owner": owner},
        ).all()
    }
    keep: set[str] = set()
    preserve_location_keys = set(preserve_location_keys)
    if old_targets and preserve_all:
        keep = set(old_targets)
    elif old_targets and preserve_location_keys:
        keep = {
            ref
            for ref, key in _in(
                conn,
                "SELECT entity_ref, location_key FROM refresh_state WHERE entity_ref IN :values",
                old_targets,
            )
            if key in preserve_location_keys
        }

    existing = {
        ref: (key, unprocessed_hash)
        for ref, key, unprocessed_hash in _in(
            conn,
            "SELECT entity_ref, location_key, unprocessed_hash FROM refresh_state WHERE entity_ref IN :values",
            [c.entity_ref for c in children],
        )
    }
    # An entity that another emitter holds, from another file, is a conflict; one whose
    # old emitter has let it go (no parent left) is taken over. Provider entities have
    # no file (None): a catalog file naming one of them conflicts too, so no file can
    # replace a root Location.
    candidates = [
        c.entity_ref
        for c in children
        if c.entity_ref in existing and existing[c.entity_ref][0] != c.location_key
    ]
    held = set()
    if candidates:
        held = {
            ref
            for (ref,) in _in(
                conn,
                "SELECT DISTINCT target_entity_ref FROM refresh_state_references WHERE target_entity_ref IN :values",
                candidates,
            )
        }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    conflicts: list[tuple[Child, str | None]] = []
    accepted: list[str] = []
    for child in children:
        row = existing.get(child.entity_ref)
        if row is None:
            inserts.append(
                {
                    "entity_id": str(uuid.uuid4()),
                    "entity_ref": child.entity_ref,
                    "unprocessed_entity": child.entity_json,
                    "unprocessed_hash": child.entity_hash,
                    "location_key": child.location_key,
                    "source_line": child.line,
                    "last_discovery_at": now,
                }
            )
        elif child.entity_ref in held:
            conflicts.append((child, row[0]))
            continue
        elif row[1] != child.entity_hash or row[0] != child.location_key:
            updates.append(
                {
                    "ref": child.entity_ref,
                    "entity": child.entity_json,
                    "hash": child.entity_hash,
                    "key": child.location_key,
                    "line": child.line,
                    "now": now,
                }
            )
        accepted.append(child.entity_ref)
    due: list[tuple[int, int]] = []  # (id, claim rank) of entities to process now
    ranks = {c.entity_ref: c.claim_rank for c in children}
    # Another worker may insert the same new ref at the same moment; the loser skips it.
    inserted = bulk_insert_new(
        conn,
        "refresh_state",
        inserts,
        types={
            "entity_id": "text",
            "entity_ref": "text",
            "unprocessed_entity": "text",
            "unprocessed_hash": "text",
            "location_key": "text",
            "source_line": "integer",
            "last_discovery_at": "double precision",
        },
        unique="entity_ref",
        returning="id, entity_ref",
    )
    due.extend((i, ranks[ref]) for i, ref in inserted)
    if updates:
        updates.sort(key=lambda u: u["ref"])
        changed = bulk_update(
            conn,
            "refresh_state",
            updates,
            assign={
                "unprocessed_entity": "entity",
                "unprocessed_hash": "hash",
                "location_key": "key",
                "source_line": "line",
                "last_discovery_at": "now",
            },
            where="t.entity_ref = v.ref",
            types={
                "ref": "text",
                "entity": "text",
                "hash": "text",
                "key": "text",
                "line": "integer",
                "now": "double precision",
            },
            returning="t.id, t.entity_ref",
        )
        due.extend((i, ranks[ref]) for i, ref in changed)
    make_due(conn, due, now)
    targets = list(dict.fromkeys([*accepted, *sorted(keep)]))
    bulk_insert(
        conn,
        "refresh_state_references",
        ("source_key", "source_entity_ref", "target_entity_ref"),
        [(source_key, source_ref, t) for t in targets],
    )
    return ChildrenWrite(conflicts, old_targets - set(targets))


def make_due(conn: Connection, rows: Sequence[tuple[int, int]], now: float) -> None:
    """Schedule (id, claim rank) rows for processing now, new or not."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "INSERT INTO refresh_schedule (id, claim_rank, next_update_at)"
                " SELECT i, r, :now FROM unnest(CAST(:ids AS bigint[]), CAST(:ranks AS smallint[])) AS v(i, r) ORDER BY i"
                " ON CONFLICT (id) DO UPDATE SET next_update_at = excluded.next_update_at"
            ),
            {
                "now": now,
                "ids": array_literal([i for i, _ in rows]),
                "ranks": array_literal([r for _, r in rows]),
            },
        )
        return
    conn.execute(
        text(
            "INSERT INTO refresh_schedule (id, claim_rank, next_update_at) VALUES (:id, :rank, :now)"
            " ON CONFLICT (id) DO UPDATE SET next_update_at = excluded.next_update_at"
        ),
        [{"id": i, "rank": r, "now": now} for i, r in sorted(rows)],
    )


def emitters_among(conn: Connection, refs: Iterable[str]) -> set[str]:
    """Which of these entities have children."""
    return {
        r
        for (r,) in _in(
            conn,
            "SELECT DISTINCT source_entity_ref FROM refresh_state_references WHERE source_entity_ref IN :values",
            refs,
        )
    }


def parents_of(conn: Connection, refs: Iterable[str]) -> set[str]:
    return {
        r
        for (r,) in _in(
            conn,
            "SELECT DISTINCT source_entity_ref FROM refresh_state_references"
            " WHERE target_entity_ref IN :values AND source_entity_ref IS NOT NULL",
            refs,
        )
    }


def ancestors_of(conn: Connection, ref: str) -> set[str]:
    """Every entity that brought `ref` in, directly or through others."""
    found: set[str] = set()
    frontier = {ref}
    while frontier:
        frontier = parents_of(conn, frontier) - found
        found |= frontier
    return found


def rows_of(conn: Connection, refs: Iterable[str]) -> list[tuple[int, str]]:
    """(id, ref) of the known entities among `refs`."""
    return [
        (i, r)
        for i, r in _in(
            conn, "SELECT id, entity_ref FROM refresh_state WHERE entity_ref IN :values", refs
        )
    ]


def forget_inputs(conn: Connection, ids: Sequence[int]) -> None:
    """Make the next run of these entities do everything again (no skipping by hash).

    Only the input hash goes: without a result hash an entity would count as never
    processed, and its served form would be inserted a second time.
    """
    _in(conn, "UPDATE refresh_state SET input_hash = NULL WHERE id IN :values", ids)


def children_of(conn: Connection, refs: Iterable[str]) -> dict[str, set[str]]:
    """Each child of `refs`, with all of its parents (entity refs, or provider names)."""
    children = {
        c
        for (c,) in _in(
            conn,
            "SELECT DISTINCT target_entity_ref FROM refresh_state_references"
            " WHERE source_entity_ref IN :values",
            refs,
        )
    }
    parents: dict[str, set[str]] = defaultdict(set)
    for child, parent in _in(
        conn,
        "SELECT target_entity_ref, coalesce(source_entity_ref, source_key)"
        " FROM refresh_state_references WHERE target_entity_ref IN :values",
        children,
    ):
        parents[child].add(parent)
    return parents


# --- stitching ------------------------------------------------------------------------


def request_stitch(
    conn: Connection, refs: Iterable[str], *, due: float, unless_processed_by: float | None = None
) -> None:
    """Queue refs for stitching; a new ticket tells a running stitcher to keep the row.

    With `unless_processed_by`, a ref that is itself due (or leased) for processing
    is queued for then instead: its processing stitches it and takes the request
    along, or if its input turns out unchanged, makes the request due at once
    (`hasten_stitches`); one due for its first processing needs no request at all
    (`_awaiting_first_processing`). On a first load, where an entity's relations
    mostly come from entities processed before it, this spares stitching it before
    it exists.
    """
    refs = set(refs)
    if not refs:
        return
    later: set[str] = set()
    if unless_processed_by is not None:
        refs -= _awaiting_first_processing(conn, refs, due)
        if not refs:
            return
        later = {
            r
            for (r,) in _in(
                conn,
                "SELECT r.entity_ref FROM refresh_state r JOIN refresh_schedule s ON s.id = r.id"
                " WHERE s.next_update_at <= :until AND r.entity_ref IN :values",
                refs,
                until=unless_processed_by,
            )
        }
    # One ticket per request is enough to tell it from the one a stitcher holds.
    ticket = uuid.uuid4().hex
    # Sorted, so concurrent workers lock rows in the same order and cannot deadlock.
    rows = [
        {
            "entity_ref": r,
            "next_stitch_at": unless_processed_by if r in later else due,
            "ticket": ticket,
        }
        for r in sorted(refs)
    ]
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "INSERT INTO stitch_queue (entity_ref, next_stitch_at, ticket)"
                " SELECT r, d, t FROM unnest(CAST(:refs AS text[]), CAST(:dues AS double precision[]),"
                " CAST(:tickets AS text[])) AS u(r, d, t) ORDER BY r"
                " ON CONFLICT (entity_ref) DO UPDATE SET"
                " next_stitch_at = least(stitch_queue.next_stitch_at, excluded.next_stitch_at),"
                " ticket = excluded.ticket, claimed = false"
            ),
            {
                "refs": array_literal([r["entity_ref"] for r in rows]),
                "dues": array_literal([r["next_stitch_at"] for r in rows]),
                "tickets": array_literal([r["ticket"] for r in rows]),
            },
        )
        return
    stmt = _dialect(conn).insert(stitch_queue)
    # The earliest request decides when it is due, so a busy entity is not postponed forever.
    stmt = stmt.on_conflict_do_update(
        index_elements=["entity_ref"],
        set_={
            "next_stitch_at": func.min(stitch_queue.c.next_stitch_at, stmt.excluded.next_stitch_at),
            "ticket": stmt.excluded.ticket,
            "claimed": False,
        },
    )
    for part in chunks(rows, 2000):
        conn.execute(stmt, list(part))


def _awaiting_first_processing(conn: Connection, refs: Collection[str], due_by: float) -> set[str]:
    """Those of `refs` due by `due_by` for their first processing, held back from
    claims until this transaction ends.

    That processing then comes after this transaction and cannot be skipped as
    unchanged (there is nothing stored to compare with), so it stitches them with
    everything written here: they need no stitch request. On a first load most
    relation targets are such entities. Rows a claim holds are left out (and so
    requested as usual): this never waits for anyone.
    """
    lock = " FOR UPDATE OF s SKIP LOCKED" if conn.dialect.name == "postgresql" else ""
    return {
        r
        for (r,) in _in(
            conn,
            "SELECT r.entity_ref FROM refresh_state r JOIN refresh_schedule s ON s.id = r.id"
            " WHERE s.next_update_at <= :due_by AND r.result_hash IS NULL AND r.input_hash IS NULL"
            f" AND r.entity_ref IN :values{lock}",
            sorted(refs),
            due_by=due_by,
        )
    }


def hasten_stitches(conn: Connection, refs: Iterable[str], now: float) -> None:
    """Make stitch requests for these refs due now (their processing did not stitch them).

    Requests a stitcher holds are being served already.
    """
    _in(
        conn,
        "UPDATE stitch_queue SET next_stitch_at = :now WHERE next_stitch_at > :now"
        " AND NOT claimed AND entity_ref IN :values",
        refs,
        now=now,
    )


def claim_for_stitching(
    conn: Connection, *, now: float, due_by: float, lease_until: float, limit: int
) -> list[tuple[str, str]]:
    """Lease requests due by `due_by`; one another stitcher holds only once its lease ran out
    (by `now`), even when `due_by` reaches further."""
    return [
        (ref, ticket)
        for ref, ticket in conn.execute(
            text(
                "UPDATE stitch_queue SET next_stitch_at = :lease, claimed = true WHERE entity_ref IN ("
                " SELECT entity_ref FROM stitch_queue WHERE next_stitch_at <= :due_by"
                " AND (NOT claimed OR next_stitch_at <= :now)"
                f" ORDER BY next_stitch_at LIMIT :limit{_skip_locked(conn)})"
                " RETURNING entity_ref, ticket"
            ),
            {"lease": lease_until, "now": now, "due_by": due_by, "limit": limit},
        ).all()
    ]


def lock_entities(conn: Connection, refs: Sequence[str]) -> list[tuple[int, str, str, str | None]]:
    """(id, entity_id, ref, errors) of these entities, locked until the transaction ends.

    Processing holds the same row locks while it writes and stitches a batch, so
    a stitcher never overwrites a newer served entity with an older one.
    """
    lock = " ORDER BY id FOR UPDATE" if conn.dialect.name == "postgresql" else ""
    return _in(
        conn,
        f"SELECT id, entity_id, entity_ref, errors FROM refresh_state WHERE entity_ref IN :values{lock}",
        refs,
    )


def relations_from(conn: Connection, refs: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for source, type_, target in _in(
        conn,
        "SELECT source_entity_ref, type, target_entity_ref FROM relations WHERE source_entity_ref IN :values",
        refs,
    ):
        out[source].append((type_, target))
    return out


def with_parents(conn: Connection, refs: Iterable[str]) -> set[str]:
    return {
        r
        for (r,) in _in(
            conn,
            "SELECT DISTINCT target_entity_ref FROM refresh_state_references WHERE target_entity_ref IN :values",
            refs,
        )
    }


def final_rows(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(hash, body) of the served entities with these ids."""
    return {
        i: (h, body)
        for i, h, body in _in(
            conn, "SELECT id, hash, final_entity FROM final_entities WHERE id IN :values", ids
        )
    }


def failing_children(
    conn: Connection, location_refs: Iterable[str]
) -> dict[str, list[tuple[str, str]]]:
    """Errors of children that were never valid, by the Location that brought them in."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for source, child, errors in _in(
        conn,
        "SELECT x.source_entity_ref, r.entity_ref, r.errors FROM refresh_state_references x"
        " JOIN refresh_state r ON r.entity_ref = x.target_entity_ref"
        " WHERE x.source_entity_ref IN :values AND r.errors IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM final_entities f WHERE f.id = r.id)",
        location_refs,
    ):
        out[source].append((child, errors))
    return out


SearchRow = tuple[int, str, str | None, str | None]


def write_finals(
    conn: Connection,
    *,
    inserts: Sequence[tuple[int, str, str, str, str]],  # (id, ref, uid, hash, json) of new ones
    updates: Sequence[tuple[int, str, str]],  # (id, hash, json) of changed ones
    added_rows: Sequence[SearchRow],
    removed_rows: Sequence[SearchRow],
    now: float,
) -> None:
    """Write served entities; search rows change by difference only.

    When a team gains a relation, one search row is added instead of all of its
    rows being deleted and written again: index maintenance is what bulk loads pay for.
    """
    bulk_update(
        conn,
        "final_entities",
        [{"id": i, "hash": h, "final_entity": body, "now": now} for i, h, body in sorted(updates)],
        assign={"hash": "hash", "final_entity": "final_entity", "last_updated_at": "now"},
        where="t.id = v.id",
        types={"id": "bigint", "hash": "text", "final_entity": "text", "now": "double precision"},
    )
    if removed_rows:
        same = "IS NOT DISTINCT FROM" if conn.dialect.name == "postgresql" else "IS"
        conn.execute(
            text(
                "DELETE FROM search WHERE entity_id = :id AND key = :key"
                f" AND value {same} :value AND original_value {same} :original"
            ),
            [{"id": i, "key": k, "original": o, "value": v} for i, k, o, v in removed_rows],
        )
    bulk_insert(
        conn,
        "final_entities",
        ("id", "entity_ref", "uid", "hash", "final_entity", "last_updated_at"),
        [(i, ref, uid, h, body, now) for i, ref, uid, h, body in inserts],
    )
    bulk_insert(conn, "search", ("entity_id", "key", "original_value", "value"), added_rows)


_ANALYZED_TABLES = (
    "refresh_state",
    "refresh_schedule",
    "refresh_state_references",
    "relations",
    "final_entities",
    "stitch_queue",
    "search",
)


def analyze(
    conn: Connection,
    *,
    skip: Collection[str] = (),
    only_grown: bool = False,
    also: Collection[str] = (),
) -> None:
    """Refresh the planner's statistics of the catalog tables (PostgreSQL).

    During a bulk load the tables grow faster than autovacuum looks at them (if it
    runs at all), and a planner that still believes they are empty picks sequential
    scans. With `only_grown`, only tables changed by more rows than they held at
    their last ANALYZE are analyzed, and those in `also`: whichever process sees that
    first does it, so the work stays proportional to the catalog however many
    processes load it.
    """
    if conn.dialect.name != "postgresql":
        return
    tables = [t for t in _ANALYZED_TABLES if t not in skip]
    if only_grown:
        # Another process analyzing right now will have done it.
        if not conn.execute(text("SELECT pg_try_advisory_xact_lock(7007002)")).scalar_one():
            return
        tables = [
            name
            for (name,) in conn.execute(
                text(
                    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
                    " WHERE s.schemaname = current_schema() AND s.relname = ANY(CAST(:tables AS text[]))"
                    " AND s.n_mod_since_analyze > greatest(1000, c.reltuples)"
                ),
                {"tables": array_literal(tables)},
            )
        ] + [t for t in also if t in tables]
    if tables:
        conn.exec_driver_sql(f"ANALYZE {', '.join(sorted(set(tables)))}")


def count_up_to(conn: Connection, table: str, limit: int) -> int:
    """Rows of `table`, counted no further than `limit` (cheap however large it is)."""
    return conn.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT :limit) AS t"), {"limit": limit}
    ).scalar_one()


def pending_stitches(conn: Connection, refs: Iterable[str]) -> list[tuple[str, str]]:
    """(ref, ticket) of stitch requests waiting for these refs."""
    return [
        (r, t)
        for r, t in _in(
            conn, "SELECT entity_ref, ticket FROM stitch_queue WHERE entity_ref IN :values", refs
        )
    ]


def finish_stitching(conn: Connection, claimed: Sequence[tuple[str, str]]) -> None:
    """Drop these requests, unless a newer one (another ticket) replaced them meanwhile."""
    if not claimed:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "DELETE FROM stitch_queue AS q USING unnest(CAST(:refs AS text[]),"
                " CAST(:tickets AS text[])) AS v(ref, ticket)"
                " WHERE q.entity_ref = v.ref AND q.ticket = v.ticket"
            ),
            {
                "refs": array_literal([r for r, _ in claimed]),
                "tickets": array_literal([t for _, t in claimed]),
            },
        )
    else:
        conn.execute(
            text("DELETE FROM stitch_queue WHERE entity_ref = :ref AND ticket = :ticket"),
            [{"ref": r, "ticket": t} for r, t in claimed],
        )


# --- deletion ---------------------------------------------------------------------------


def delete_entities(conn: Connection, refs: Sequence[str]) -> tuple[set[str], list[Change]]:
    """Remove entities and everything they own.

    Returns the refs whose served form changes, and the removals of served entities.
    """
    if not refs:
        return set(), []
    ids = [
        i for (i,) in _in(conn, "SELECT id FROM refresh_state WHERE entity_ref IN :values", refs)
    ]
    touched = {
        s
        for (s,) in _in(
            conn,
            "DELETE FROM relations WHERE originating_entity_id IN :values RETURNING source_entity_ref",
            ids,
        )
    }
    touched |= {
        c
        for (c,) in _in(
            conn,
            "DELETE FROM refresh_state_references WHERE source_entity_ref IN :values RETURNING target_entity_ref",
            refs,
        )
    }
    _in(conn, "DELETE FROM refresh_state_references WHERE target_entity_ref IN :values", refs)
    _in(conn, "DELETE FROM search WHERE entity_id IN :values", ids)
    removed = [
        Change("removed", ref, uid)
        for ref, uid in _in(
            conn, "DELETE FROM final_entities WHERE id IN :values RETURNING entity_ref, uid", ids
        )
    ]
    _in(conn, "DELETE FROM refresh_schedule WHERE id IN :values", ids)
    _in(conn, "DELETE FROM refresh_state WHERE id IN :values", ids)
    return touched - set(refs), removed


# --- change events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """A served entity that was added, updated or removed."""

    action: str
    entity_ref: str
    uid: str


def record_changes(conn: Connection, changes: Sequence[Change], now: float) -> int | None:
    """Bump the catalog generation and log the changes under it; returns the generation.

    Call it as the transaction's last statement: the generation row stays locked
    until commit, so writers commit generations in order and hold it only briefly.
    """
    if not changes:
        return None
    generation = conn.execute(
        text(
            "UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation"
        )
    ).scalar_one()
    bulk_insert(
        conn,
        "entity_events",
        ("generation", "action", "entity_ref", "uid", "created_at"),
        [(generation, c.action, c.entity_ref, c.uid, now) for c in changes],
    )
    return generation


def queue_sizes(conn: Connection, now: float, lease_seconds: float) -> tuple[int, int]:
    """(entities due or leased for processing, entities waiting to be stitched).

    A leased entity's `next_update_at` is at most one lease ahead, so counting up to
    there also sees batches other processes are working on.
    """
    due = conn.execute(
        text("SELECT count(*) FROM refresh_schedule WHERE next_update_at <= :until"),
        {"until": now + lease_seconds},
    ).scalar_one()
    stitch = conn.execute(text("SELECT count(*) FROM stitch_queue")).scalar_one()
    return due, stitch
