"""Indexes set aside during a bulk load and built once the rows are in (PostgreSQL).

Keeping a b-tree up to date row by row, while millions of rows arrive in random
key order, costs several times what building it once from the finished table
costs (one sort, one pass). `set_aside` drops a table's secondary indexes and
keeps their definitions in the `deferred_indexes` table, in one transaction;
`restore_next` builds them again from there, one at a time. Nothing is lost if the process dies in
between: the definitions stay in the database until a process restores them
(the catalog engine when its queue is empty, and `greenroom migrate` before any
migration runs, so that migrations always see the schema they expect).

On SQLite both are no-ops: one writer at a time, and its loads are small.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, text

TABLE = "deferred_indexes"


def _supported(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    # Absent before the migration that creates it (restore runs before migrations).
    return conn.execute(text(f"SELECT to_regclass('{TABLE}') IS NOT NULL")).scalar_one()


def _lock(conn: Connection) -> None:
    # A self-conflicting mode: one process at a time sets indexes aside, in this schema.
    conn.exec_driver_sql(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")


def set_aside(conn: Connection, table: str, *, keep: Collection[str] = ()) -> list[str]:
    """Drop `table`'s indexes except `keep` and those behind constraints; return their names.

    Their definitions are kept in the same transaction, so they are dropped and
    remembered together or not at all.
    """
    if not _supported(conn):
        return []
    _lock(conn)
    indexes = conn.execute(
        text(
            "SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
            " JOIN pg_class c ON c.oid = x.indexrelid"
            " WHERE x.indrelid = CAST(:table AS regclass)"
            " AND NOT x.indisprimary AND NOT x.indisunique AND NOT x.indisexclusion"
            " ORDER BY c.relname"
        ),
        {"table": table},
    ).all()
    quote = conn.dialect.identifier_preparer.quote
    names: list[str] = []
    for name, definition in indexes:
        if name in keep:
            continue
        conn.execute(
            text(
                f"INSERT INTO {TABLE} (index_name, table_name, definition)"
                " VALUES (:name, :table, :definition)"
            ),
            {"name": name, "table": table, "definition": definition},
        )
        conn.exec_driver_sql(f"DROP INDEX {quote(name)}")
        names.append(name)
    return names


def pending(conn: Connection) -> bool:
    """Whether some indexes are set aside."""
    return _supported(conn) and bool(
        conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {TABLE})")).scalar_one()
    )


# Sorting in memory the size of a CPU cache and merging runs beats one big in-memory
# sort: the search table's (key, value) index of 3.1 million rows builds in 3.0 s with
# 16 MB against 3.9 s with PostgreSQL's default 64 MB, and 31 million rows take the
# same time with either (bench/README.md).
_SORT_MEMORY_KB = 16 * 1024


def _limit_sort_memory(conn: Connection) -> None:
    """Lower `maintenance_work_mem` to `_SORT_MEMORY_KB` for this transaction (never raise it)."""
    conn.execute(
        text(
            "SELECT set_config('maintenance_work_mem', :value, true) FROM pg_settings"
            " WHERE name = 'maintenance_work_mem' AND CAST(setting AS bigint) > :kb"
        ),
        {"value": f"{_SORT_MEMORY_KB}kB", "kb": _SORT_MEMORY_KB},
    )


def restore_next(conn: Connection) -> str | None:
    """Build one index set aside that no other process is building; its name, or None.

    One per transaction, so that several processes build different indexes at
    the same time (`CREATE INDEX` lets others read and build, not write).
    """
    if not _supported(conn):
        return None
    row = conn.execute(
        text(
            f"SELECT index_name, definition FROM {TABLE} ORDER BY index_name"
            " LIMIT 1 FOR UPDATE SKIP LOCKED"
        )
    ).first()
    if row is None:
        return None
    name, definition = row
    # Defined again meanwhile (say by hand): keep that one.
    if not conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}).scalar_one():
        _limit_sort_memory(conn)
        conn.exec_driver_sql(definition)
    conn.execute(text(f"DELETE FROM {TABLE} WHERE index_name = :name"), {"name": name})
    return name
