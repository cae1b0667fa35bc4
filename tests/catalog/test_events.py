"""Change events: what changed in the served catalog, in commit order, in and across processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from greenroom.catalog.events import EntityEvent

from .helpers import component, make_portal, write


def _actions(events: list[EntityEvent]) -> list[tuple[str, str]]:
    return [(e.action, e.entity_ref) for e in events]


def test_added_updated_removed_in_order(database_url: str, tmp_path: Path) -> None:
    catalog = write(tmp_path / "catalog.yaml", component("alpha") + "---\n" + component("beta"))
    portal = make_portal(
        database_url,
        tmp_path,
        {"locations": [{"type": "file", "target": str(catalog)}], "processingInterval": 3600},
    )
    feed = portal.catalog.feed
    received: list[EntityEvent] = []
    feed.subscribe(received.extend)
    start = feed.latest_generation()

    portal.catalog.process_until_idle()
    added = {ref for action, ref in _actions(received) if action == "added"}
    assert {"component:default/alpha", "component:default/beta"} <= added
    # The engine pokes the feed after its own commits: no poll was needed.
    assert received

    write(catalog, component("alpha", owner="team-b"))
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    later = _actions(received)
    assert ("updated", "component:default/alpha") in later
    assert ("removed", "component:default/beta") in later

    # Readers that are not subscribed ask for everything after a generation they saw.
    every = feed.changes_since(start)
    assert _actions(every) == _actions(received)
    generations = [e.generation for e in every]
    assert generations == sorted(generations)
    assert feed.latest_generation() == generations[-1]
    assert feed.changes_since(generations[-1]) == []


def test_deleting_an_entity_is_an_event(database_url: str, tmp_path: Path) -> None:
    catalog = write(tmp_path / "catalog.yaml", component("alpha"))
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    portal.catalog.process_until_idle()
    entity = portal.catalog.entity_by_ref("component:default/alpha")
    assert entity is not None
    before = portal.catalog.feed.latest_generation()
    assert portal.catalog.engine.delete_entity(entity["metadata"]["uid"])
    events = portal.catalog.feed.changes_since(before)
    assert [(e.action, e.uid) for e in events] == [("removed", entity["metadata"]["uid"])]


def test_events_cross_processes(database_url: str, tmp_path: Path) -> None:
    """A worker process writes; this process hears about it through the database."""
    catalog = write(tmp_path / "catalog.yaml", component("alpha") + "---\n" + component("beta"))
    config = tmp_path / "greenroom.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "dataDir": str(tmp_path / "data"),
                "database": {"url": database_url},
                "catalog": {"locations": [{"type": "file", "target": str(catalog)}]},
            }
        )
    )
    portal = make_portal(database_url, tmp_path)
    received: list[EntityEvent] = []
    portal.catalog.feed.subscribe(received.extend)
    subprocess.run(
        [sys.executable, "-m", "greenroom", "worker", "--until-idle", "-c", str(config)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert received == []  # nothing in this process has polled yet
    assert portal.catalog.feed.poll() >= 2
    assert {"component:default/alpha", "component:default/beta"} <= {
        e.entity_ref for e in received if e.action == "added"
    }


def test_old_events_are_pruned(database_url: str, tmp_path: Path) -> None:
    catalog = write(tmp_path / "catalog.yaml", component("alpha"))
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    portal.catalog.process_until_idle()
    feed = portal.catalog.feed
    assert feed.prune() == 0
    feed.retention_seconds = -1
    assert feed.prune() > 0
    assert feed.changes_since(0) == []
