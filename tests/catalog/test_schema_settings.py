"""Storage settings the migrations give PostgreSQL: bytewise text, unprocessed bodies
out of line, served bodies compressed with lz4."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from greenroom.db import migrate as migrate_module


def _collations(conn) -> dict[tuple[str, str], str]:
    rows = conn.execute(
        text(
            "SELECT c.relname, a.attname, CAST(a.attcollation AS regcollation)"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0"
            " AND NOT a.attisdropped AND a.attcollation <> 0 AND c.relname <> 'alembic_version'"
        )
    )
    return {(table, column): str(collation) for table, column, collation in rows}


def test_text_sorts_by_code_point_on_both_databases(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate_module.upgrade(engine)
    values = ["b", "B", "é", "e", "-x", "a b", "ab", "Z", "ä"]
    with engine.begin() as conn:
        for value in values:
            conn.execute(
                text("INSERT INTO search (entity_id, key, value) VALUES (1, 'k', :v)"), {"v": value}
            )
        ordered = [v for (v,) in conn.execute(text("SELECT value FROM search ORDER BY value"))]
        if conn.dialect.name == "postgresql":
            # Columns added by later migrations must say collation="C" too.
            collations = _collations(conn)
            assert collations and set(collations.values()) == {'"C"'}, collations
    engine.dispose()
    assert ordered == sorted(values)


def test_bodies_are_stored_the_way_measured_fastest(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate_module.upgrade(engine)
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            return
        storage = conn.execute(
            text(
                "SELECT attstorage FROM pg_attribute WHERE attname = 'unprocessed_entity'"
                " AND attrelid = CAST('refresh_state' AS regclass)"
            )
        ).scalar_one()
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE oid = CAST('refresh_state' AS regclass)")
        ).scalar_one()
        compression = conn.execute(
            text(
                "SELECT attcompression FROM pg_attribute WHERE attname = 'final_entity'"
                " AND attrelid = CAST('final_entities' AS regclass)"
            )
        ).scalar_one()
    engine.dispose()
    assert storage == "e"
    assert "toast_tuple_target=128" in options
    assert compression == "l"


def test_storage_migrations_go_down_and_up_again(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate_module.upgrade(engine)
    with engine.connect() as conn:
        config = migrate_module.alembic_config(conn)
        command.downgrade(config, "0005")
        conn.commit()
        if conn.dialect.name == "postgresql":
            assert '"C"' not in set(_collations(conn).values())
        command.upgrade(config, "head")
        conn.commit()
        if conn.dialect.name == "postgresql":
            assert set(_collations(conn).values()) == {'"C"'}
    engine.dispose()
