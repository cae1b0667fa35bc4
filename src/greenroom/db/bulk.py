"""Set-based writes: many rows per round trip (COPY on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, text


def bulk_insert(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
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


def array_literal(values: Iterable[str | int | float | None]) -> str:
    """A PostgreSQL array literal, to bind where SQL casts it (`CAST(:x AS text[])`).

    psycopg adapts a list element by element in Python; for the thousands of keys
    a batch passes, this text is built several times faster and parsed by the server.
    """
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, str):
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            parts.append(repr(value))
    return "{" + ",".join(parts) + "}"


def chunks(items: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    """Slices small enough for an `IN (...)` list on every database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_update(
    conn: Connection,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    assign: dict[str, str],
    where: str,
    types: dict[str, str],
    returning: str | None = None,
) -> list[Any]:
    """`UPDATE table SET column = row[key], ... WHERE <where>` for many rows at once.

    `assign` maps each column to set to the row key holding its value. `where`
    compares the table (as `t`) with the row (as `v`), e.g. `t.id = v.id`.
    `types` gives each row key's SQL type. On PostgreSQL the rows go through
    COPY into a temporary table and one UPDATE ... FROM; on SQLite through one
    statement per row (in-process, so cheap). With `returning` (columns of `t`),
    the updated rows come back.
    """
    if not rows:
        return []
    keys = list(types)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        # One temporary table per shape; it lives as long as the database session.
        shape = hashlib.sha1(
            repr(sorted(types.items())).encode(), usedforsecurity=False
        ).hexdigest()[:10]
        temp = f"_bulk_{table}_{shape}"
        with raw.cursor() as cur:
            cols = ", ".join(f"{k} {types[k]}" for k in keys)
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {temp} ({cols}) ON COMMIT DELETE ROWS")
            with cur.copy(f"COPY {temp} ({', '.join(keys)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[k] for k in keys])
            assignments = ", ".join(f"{c} = v.{k}" for c, k in assign.items())
            sql = f"UPDATE {table} AS t SET {assignments} FROM {temp} AS v WHERE {where}"
            cur.execute(sql + (f" RETURNING {returning}" if returning else ""))
            result = cur.fetchall() if returning else []
            # The same temporary table may be used again in this transaction.
            cur.execute(f"TRUNCATE {temp}")
            return result
    assignments = ", ".join(f"{c} = :{k}" for c, k in assign.items())
    condition = where.replace("t.", "").replace("v.", ":")
    sql = f"UPDATE {table} SET {assignments} WHERE {condition}"
    if returning:
        stmt = text(f"{sql} RETURNING {returning.replace('t.', '')}")
        return [r for row in rows for r in conn.execute(stmt, row).all()]
    conn.execute(text(sql), list(rows))
    return []


def bulk_insert_new(
    conn: Connection,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    types: dict[str, str],
    unique: str,
    returning: str,
) -> list[Any]:
    """Insert rows whose `unique` column is not taken yet; returns `returning` of those inserted.

    Concurrent writers may insert the same key: the loser skips it instead of failing.
    """
    if not rows:
        return []
    keys = list(types)
    cols = ", ".join(keys)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        shape = hashlib.sha1(
            repr(sorted(types.items())).encode(), usedforsecurity=False
        ).hexdigest()[:10]
        temp = f"_new_{table}_{shape}"
        with raw.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {temp} ({', '.join(f'{k} {types[k]}' for k in keys)})"
                " ON COMMIT DELETE ROWS"
            )
            with cur.copy(f"COPY {temp} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[k] for k in keys])
            cur.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {temp} ORDER BY {unique}"
                f" ON CONFLICT ({unique}) DO NOTHING RETURNING {returning}"
            )
            result = cur.fetchall()
            cur.execute(f"TRUNCATE {temp}")
            return result
    stmt = text(
        f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + k for k in keys)})"
        f" ON CONFLICT ({unique}) DO NOTHING RETURNING {returning}"
    )
    return [r for row in rows for r in conn.execute(stmt, row).all()]
