"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.catalog.helpers import reference_dir

PG_URL = os.environ.get("GREENROOM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REFERENCE = reference_dir()
EXAMPLES = REFERENCE / "backstage-examples"


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} is not reachable ({type(exc).__name__})"


_PG_PROBLEM = _pg_available()


@contextmanager
def fresh_database(kind: str, folder: Path, **pg_settings: object) -> Iterator[str]:
    """A new empty database: a SQLite file in `folder`, or a PostgreSQL schema of its
    own (dropped afterwards), with `pg_settings` as session settings."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'greenroom.db'}"
        return
    if _PG_PROBLEM:
        if os.environ.get("GREENROOM_REQUIRE_POSTGRES"):
            pytest.fail(_PG_PROBLEM)
        pytest.skip(_PG_PROBLEM)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    options = " ".join(f"-c{k}={v}" for k, v in {"search_path": schema, **pg_settings}.items())
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    try:
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def examples_dir() -> Path:
    folder = EXAMPLES / "packages" / "catalog-model" / "examples"
    if not folder.is_dir():
        pytest.skip(
            f"the Backstage example catalog is not present (expected at shared/reference/backstage-examples, {folder})"
        )
    return folder
