"""Bulk loads: search indexes set aside and built again; stitches left to processing.

On SQLite the indexes are never set aside; the catalog must come out the same.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from greenroom.db import deferred_indexes
from greenroom.db import migrate as migrate_module
from greenroom.db.transactions import write_transaction
from greenroom.portal import Portal

from .helpers import component, make_portal, relations_of, write

TEAM = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
"""


def _catalog(folder: Path, components: int) -> Path:
    documents = [
        component(f"svc-{i:03d}", extra="dependsOn: [component:svc-000]\n")
        for i in range(components)
    ]
    return write(folder / "all.yaml", "---\n".join([*documents, TEAM]))


def _search_indexes(portal: Portal) -> set[str]:
    with portal.db.connect() as conn:
        if conn.dialect.name == "postgresql":
            sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'search' AND schemaname = current_schema()"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'search'"
        return {name for (name,) in conn.execute(text(sql))}


def _portal(database_url: str, tmp_path: Path, components: int = 40) -> Portal:
    catalog = _catalog(tmp_path / "catalog", components)
    return make_portal(
        database_url,
        tmp_path,
        {"locations": [{"type": "file", "target": str(catalog)}], "batchSize": 5},
    )


def test_large_first_load_sets_search_indexes_aside_then_builds_them(
    database_url: str, tmp_path: Path
) -> None:
    portal = _portal(database_url, tmp_path)
    portal.catalog.engine.bulk_load_threshold = 20
    before = _search_indexes(portal)
    seen: list[set[str]] = []
    portal.catalog.process_until_idle(progress=lambda *_: seen.append(_search_indexes(portal)))

    postgres = portal.db.dialect.name == "postgresql"
    during = set.intersection(*seen)
    if postgres:
        assert during == {"search_entity_idx"}, "only the index deletes need stays during the load"
        assert "search_key_value_idx" in before
    else:
        assert during == before
    assert _search_indexes(portal) == before
    with portal.db.connect() as conn:
        assert not deferred_indexes.pending(conn)
    assert portal.catalog.entity_count() == 42  # 40 components, the team, the location
    team = portal.catalog.entity_by_ref("group:default/team-a")
    assert len([r for r in relations_of(team) if r[0] == "ownerOf"]) == 40
    target = portal.catalog.entity_by_ref("component:default/svc-000")
    assert len([r for r in relations_of(target) if r[0] == "dependencyOf"]) == 40  # svc-000 too


def test_small_load_keeps_search_indexes(database_url: str, tmp_path: Path) -> None:
    portal = _portal(database_url, tmp_path, components=10)
    before = _search_indexes(portal)
    seen: list[set[str]] = []
    portal.catalog.process_until_idle(progress=lambda *_: seen.append(_search_indexes(portal)))
    assert all(indexes == before for indexes in seen)


def test_established_catalog_never_sets_indexes_aside(database_url: str, tmp_path: Path) -> None:
    portal = _portal(database_url, tmp_path, components=10)
    portal.catalog.process_until_idle()
    _catalog(tmp_path / "catalog", 60)  # many more entities into a served catalog
    portal.catalog.engine.bulk_load_threshold = 5
    before = _search_indexes(portal)
    portal.catalog.refresh_all()
    seen: list[set[str]] = []
    portal.catalog.process_until_idle(progress=lambda *_: seen.append(_search_indexes(portal)))
    assert all(indexes == before for indexes in seen)
    assert portal.catalog.entity_count() == 62


@pytest.fixture
def set_aside_portal(database_url: str, tmp_path: Path) -> tuple[Portal, set[str]]:
    """A served catalog whose search indexes a load (its process gone since) set aside."""
    portal = _portal(database_url, tmp_path, components=3)
    portal.catalog.process_until_idle()
    before = _search_indexes(portal)
    with write_transaction(portal.db) as conn:
        deferred_indexes.set_aside(conn, "search", keep=("search_entity_idx",))
    if portal.db.dialect.name == "postgresql":
        assert _search_indexes(portal) == {"search_entity_idx"}
    return portal, before


def test_indexes_left_aside_are_built_by_the_next_idle_process(
    set_aside_portal: tuple[Portal, set[str]],
) -> None:
    portal, before = set_aside_portal
    portal.catalog.process_until_idle()
    assert _search_indexes(portal) == before


def test_indexes_left_aside_are_built_by_a_serving_process_once_idle(
    set_aside_portal: tuple[Portal, set[str]],
) -> None:
    portal, before = set_aside_portal
    portal.catalog.engine._restore_when_idle()
    assert _search_indexes(portal) == before


@pytest.mark.parametrize(("session", "building"), [("64MB", "16MB"), ("1MB", "1MB")])
def test_indexes_are_built_with_cache_sized_sort_memory_never_more_than_configured(
    set_aside_portal: tuple[Portal, set[str]], session: str, building: str
) -> None:
    portal, _ = set_aside_portal
    if portal.db.dialect.name != "postgresql":
        with portal.db.begin() as conn:
            assert deferred_indexes.restore_next(conn) is None  # never set aside
        return
    with portal.db.connect() as conn:
        conn.exec_driver_sql(f"SET maintenance_work_mem = '{session}'")
        conn.commit()
        with conn.begin():
            assert deferred_indexes.restore_next(conn) is not None
            assert conn.exec_driver_sql("SHOW maintenance_work_mem").scalar_one() == building
        # Only for the transaction that builds.
        assert conn.exec_driver_sql("SHOW maintenance_work_mem").scalar_one() == session


def test_a_process_starting_mid_load_leaves_indexes_aside_but_migrations_do_not(
    set_aside_portal: tuple[Portal, set[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    portal, before = set_aside_portal
    postgres = portal.db.dialect.name == "postgresql"
    portal.migrate()  # nothing to migrate: a worker joining the load
    assert _search_indexes(portal) == ({"search_entity_idx"} if postgres else before)
    monkeypatch.setattr(migrate_module, "_pending_migrations", lambda *_: True)
    portal.migrate()
    assert _search_indexes(portal) == before


def test_entity_due_for_processing_gets_its_relations_when_unchanged(
    database_url: str, tmp_path: Path
) -> None:
    """A stitch request for an entity due for processing waits for that processing; when
    the entity turns out unchanged, the request is served by the stitcher after all."""
    catalog = write(tmp_path / "catalog" / "all.yaml", component("svc-a") + "---\n" + TEAM)
    portal = make_portal(
        database_url,
        tmp_path,
        {"locations": [{"type": "file", "target": str(catalog)}], "batchSize": 1},
    )
    portal.catalog.process_until_idle()
    write(catalog, component("svc-a") + "---\n" + component("svc-b") + "---\n" + TEAM)
    portal.catalog.refresh_all()  # the team is due too, and will be unchanged
    engine = portal.catalog.engine
    while engine.process_batch():  # processing only, one entity at a time
        pass
    with portal.db.connect() as conn:
        due = conn.execute(
            text(
                "SELECT next_stitch_at FROM stitch_queue WHERE entity_ref = 'group:default/team-a'"
            )
        ).scalar_one()
    assert due <= time.time(), "the team's processing did not stitch it: the request is due now"
    portal.catalog.process_until_idle()
    team = portal.catalog.entity_by_ref("group:default/team-a")
    assert relations_of(team) == {
        ("ownerOf", "component:default/svc-a"),
        ("ownerOf", "component:default/svc-b"),
    }
