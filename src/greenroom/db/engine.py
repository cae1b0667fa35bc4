"""Creating database engines for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine tuned for the catalog's workload on either database."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # WAL lets readers go on while a worker writes; NORMAL sync is safe with WAL.
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()
            # Let SQLAlchemy's `begin()` issue BEGIN itself, so writers can take the lock up front.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _session(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Catalog queries are short; JIT compiling them costs more than it saves.
        with dbapi_connection.cursor() as cur:
            cur.execute("SET jit = off")
        dbapi_connection.commit()

    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
