"""Set-based writes: many rows per round trip (COPY on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows into `table`; the fastest path each database offers."""
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        cols = ", ".join(columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    rows = list(rows)
    if not rows:
        return
    placeholders = ", ".join("?" for _ in columns)
    raw = conn.connection.driver_connection
    raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)


def chunks(items: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    """Slices small enough for an `IN (...)` list on every database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
