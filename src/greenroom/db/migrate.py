"""Bringing a database to the current schema (`greenroom migrate`, and at start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from greenroom.db import deferred_indexes
from greenroom.db.engine import is_postgres

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant; it only has to be the same in every Greenroom process.
_ADVISORY_LOCK_ID = 7_007_001


def alembic_config(connection=None) -> AlembicConfig:  # type: ignore[no-untyped-def]
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _pending_migrations(connection: Connection, config: AlembicConfig) -> bool:
    current = MigrationContext.configure(connection).get_current_revision()
    connection.rollback()
    return current != ScriptDirectory.from_config(config).get_current_head()


def upgrade(engine: Engine) -> None:
    """Apply pending migrations. Safe when several processes start at once."""
    with engine.connect() as connection:
        connection.info["write"] = True
        if is_postgres(engine):
            # Serialise concurrent starts; the lock ends with the session.
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
            connection.commit()
        try:
            config = alembic_config(connection)
            if _pending_migrations(connection, config):
                # Migrations expect the indexes they created, even those a bulk load set
                # aside. Only then: a worker starting in the middle of a load must not
                # build them before the load is done.
                while True:
                    with connection.begin():
                        if deferred_indexes.restore_next(connection) is None:
                            break
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if is_postgres(engine):
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": _ADVISORY_LOCK_ID}
                )
                connection.commit()
