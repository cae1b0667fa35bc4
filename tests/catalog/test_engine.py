"""The processing engine end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import component, location_ref, make_portal, relations_of, status_messages, write


def test_ingests_good_entities_with_relations_both_ways(database_url: str, tmp_path: Path) -> None:
    catalog = write(
        tmp_path / "catalog" / "all.yaml",
        component(
            "billing",
            extra="""\
          system: payments
          providesApis: [billing-api]
          dependsOn: [resource:billing-db]
        """,
        )
        + "---\n"
        + """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
""",
    )
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    stats = portal.catalog.process_until_idle()
    assert stats.failed == 0

    billing = portal.catalog.entity_by_ref("component:default/billing")
    assert billing is not None
    assert relations_of(billing) == {
        ("ownedBy", "group:default/team-a"),
        ("partOf", "system:default/payments"),
        ("providesApi", "api:default/billing-api"),
        ("dependsOn", "resource:default/billing-db"),
    }
    annotations = billing["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"] == f"file:{catalog}"
    assert annotations["backstage.io/managed-by-origin-location"] == f"file:{catalog}"
    assert "backstage.io/orphan" not in annotations
    assert billing["metadata"]["uid"] and billing["metadata"]["etag"]
    assert "status" not in billing

    team = portal.catalog.entity_by_ref("group:default/team-a")
    assert relations_of(team) == {("ownerOf", "component:default/billing")}
    assert portal.catalog.entity_by_ref(location_ref(catalog))["kind"] == "Location"


def test_no_change_refresh_writes_nothing_and_keeps_uid(database_url: str, tmp_path: Path) -> None:
    catalog = write(tmp_path / "c.yaml", component("svc"))
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    portal.catalog.process_until_idle()
    before = portal.catalog.entity_by_ref("component:default/svc")
    engine = portal.catalog.engine
    engine.stats.changed = 0
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    assert engine.stats.changed == 0
    after = portal.catalog.entity_by_ref("component:default/svc")
    assert after == before

    write(tmp_path / "c.yaml", component("svc", owner="team-b"))
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    changed = portal.catalog.entity_by_ref("component:default/svc")
    assert changed["metadata"]["uid"] == before["metadata"]["uid"]
    assert changed["metadata"]["etag"] != before["metadata"]["etag"]
    assert ("ownedBy", "group:default/team-b") in relations_of(changed)
    # the reverse relation moved with it
    assert portal.catalog.entity_by_ref("group:default/team-a") is None


def test_bad_documents_are_reported_and_good_ones_flow(database_url: str, tmp_path: Path) -> None:
    catalog = write(
        tmp_path / "catalog-info.yaml",
        component("good-one")
        + "---\n"
        + component("Bad_Name!")
        + "---\n"
        + "just a string\n"
        + "---\n"
        + component("good-two")
        + "---\n"
        + "key: [unclosed\n"
        + "---\n"
        + component("good-three"),
    )
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    portal.catalog.process_until_idle()
    for name in ("good-one", "good-two", "good-three"):
        assert portal.catalog.entity_by_ref(f"component:default/{name}") is not None, name

    location = portal.catalog.entity_by_ref(location_ref(catalog))
    messages = status_messages(location)
    errors = [item["error"] for item in location["status"]["items"]]
    assert any("Expected object at root" in m for m in messages), messages
    assert any("YAML error" in m for m in messages), messages
    assert any("metadata.name" in m for m in messages), messages
    positions = [e.get("sourceLocation", {}) for e in errors]
    assert all(p.get("file") == f"file:{catalog}" for p in positions), positions
    assert all(p.get("line") for p in positions), positions
    name_error = next(e for e in errors if "metadata.name" in e["message"])
    assert name_error["sourceLocation"]["field"] == "metadata.name"
    # `name: Bad_Name!` is on line 13 of the file (second document starts at line 10)
    assert name_error["sourceLocation"]["line"] == 13


def test_last_good_version_is_kept_when_an_entity_breaks(database_url: str, tmp_path: Path) -> None:
    catalog = write(tmp_path / "c.yaml", component("svc"))
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    portal.catalog.process_until_idle()
    write(tmp_path / "c.yaml", component("svc").replace("lifecycle: production", "lifecycle: 42"))
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    entity = portal.catalog.entity_by_ref("component:default/svc")
    assert entity["spec"]["lifecycle"] == "production"
    messages = status_messages(entity)
    assert messages and "/spec/lifecycle must be string" in messages[0]
    error = entity["status"]["items"][0]["error"]
    assert error["sourceLocation"]["field"] == "spec.lifecycle"
    assert error["sourceLocation"]["line"] == 7


@pytest.mark.parametrize("strategy", ["delete", "keep"])
def test_orphans(database_url: str, tmp_path: Path, strategy: str) -> None:
    catalog = write(tmp_path / "c.yaml", component("stays") + "---\n" + component("goes"))
    portal = make_portal(
        database_url,
        tmp_path,
        {"locations": [{"type": "file", "target": str(catalog)}], "orphanStrategy": strategy},
    )
    portal.catalog.process_until_idle()
    assert portal.catalog.entity_by_ref("component:default/goes") is not None
    write(tmp_path / "c.yaml", component("stays"))
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    gone = portal.catalog.entity_by_ref("component:default/goes")
    if strategy == "delete":
        assert gone is None
        assert portal.catalog.entity_by_ref("group:default/team-a") is None or relations_of(
            portal.catalog.entity_by_ref("group:default/team-a")
        ) == {("ownerOf", "component:default/stays")}
    else:
        assert gone["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert (
        "backstage.io/orphan"
        not in portal.catalog.entity_by_ref("component:default/stays")["metadata"]["annotations"]
    )


def test_second_location_gets_a_conflict_and_the_first_keeps_the_entity(
    database_url: str, tmp_path: Path
) -> None:
    first = write(tmp_path / "a" / "catalog-info.yaml", component("shared", owner="team-a"))
    second = write(
        tmp_path / "b" / "catalog-info.yaml",
        component("shared", owner="team-b") + "---\n" + component("other"),
    )
    portal = make_portal(
        database_url,
        tmp_path,
        {"locations": [{"type": "file", "target": str(first)}]},
    )
    portal.catalog.process_until_idle()
    portal.catalog.add_location("file", str(second))
    portal.catalog.process_until_idle()
    shared = portal.catalog.entity_by_ref("component:default/shared")
    assert shared["spec"]["owner"] == "team-a"
    assert portal.catalog.entity_by_ref("component:default/other") is not None
    location = portal.catalog.entity_by_ref(location_ref(second))
    conflict = [
        item for item in location["status"]["items"] if item["error"]["name"] == "ConflictError"
    ]
    assert conflict and "component:default/shared" in conflict[0]["message"]
    assert conflict[0]["error"]["sourceLocation"]["file"] == f"file:{second}"


WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gadget
spec: {}
"""


def test_unknown_kind_or_api_version_is_rejected(database_url: str, tmp_path: Path) -> None:
    future = component("future").replace("backstage.io/v1alpha1", "backstage.io/v9")
    catalog = write(tmp_path / "c.yaml", WIDGET + "---\n" + future + "---\n" + component("svc"))
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    portal.catalog.process_until_idle()
    assert portal.catalog.entity_by_ref("widget:default/gadget") is None
    assert portal.catalog.entity_by_ref("component:default/future") is None
    assert portal.catalog.entity_by_ref("component:default/svc") is not None
    messages = status_messages(portal.catalog.entity_by_ref(location_ref(catalog)))
    assert any("widget:default/gadget" in m and "not of an allowed kind" in m for m in messages), (
        messages
    )
    assert any(
        "component:default/future" in m and "No processor recognized" in m for m in messages
    ), messages


def test_unknown_kind_named_by_rules_is_let_in(database_url: str, tmp_path: Path) -> None:
    catalog = write(tmp_path / "c.yaml", WIDGET)
    portal = make_portal(
        database_url,
        tmp_path,
        {
            "locations": [{"type": "file", "target": str(catalog)}],
            "rules": [{"allow": ["Widget", "Location"]}],
        },
    )
    portal.catalog.process_until_idle()
    assert portal.catalog.entity_by_ref("widget:default/gadget") is not None


def test_kinds_not_allowed_by_rules_are_refused_at_the_location(
    database_url: str, tmp_path: Path
) -> None:
    catalog = write(
        tmp_path / "c.yaml",
        component("svc")
        + "---\n"
        + """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: sneaky
spec:
  type: team
  children: []
""",
    )
    portal = make_portal(
        database_url,
        tmp_path,
        {
            "locations": [{"type": "file", "target": str(catalog)}],
            "rules": [{"allow": ["Component", "Location"]}],
        },
    )
    portal.catalog.process_until_idle()
    assert portal.catalog.entity_by_ref("group:default/sneaky") is None
    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert any("not of an allowed kind" in m for m in status_messages(location))


def test_unreadable_target_keeps_previous_children(database_url: str, tmp_path: Path) -> None:
    catalog = write(tmp_path / "c.yaml", component("svc"))
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    portal.catalog.process_until_idle()
    catalog.unlink()
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    assert portal.catalog.entity_by_ref("component:default/svc") is not None
    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert any("NotFoundError" in m for m in status_messages(location))


def test_placeholders_resolve_relative_to_the_file(database_url: str, tmp_path: Path) -> None:
    write(
        tmp_path / "apis" / "openapi.yaml",
        "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
    )
    catalog = write(
        tmp_path / "apis" / "api.yaml",
        """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: orders-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: ./openapi.yaml
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: escaping-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: ../../../etc/passwd
""",
    )
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(catalog)}]}
    )
    portal.catalog.process_until_idle()
    api = portal.catalog.entity_by_ref("api:default/orders-api")
    assert api["spec"]["definition"].startswith("openapi: 3.0.0")
    assert portal.catalog.entity_by_ref("api:default/escaping-api") is None
    errors = dict(portal.catalog.processing_errors())
    escape = errors["api:default/escaping-api"][0]
    assert escape["name"] == "NotAllowedError"
    assert escape["sourceLocation"]["field"] == "spec.definition"
    # never-valid entities show their error on the Location that brought them in
    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert any("api:default/escaping-api" in m for m in status_messages(location))


def test_placeholders_under_a_wildcard_origin(database_url: str, tmp_path: Path) -> None:
    write(tmp_path / "services" / "shared" / "openapi.yaml", "openapi: 3.0.0\n")
    write(
        tmp_path / "services" / "orders" / "catalog-info.yaml",
        """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: orders-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: ../shared/openapi.yaml
""",
    )
    portal = make_portal(
        database_url,
        tmp_path,
        {"locations": [{"type": "file", "target": f"{tmp_path}/services/*/catalog-info.yaml"}]},
    )
    portal.catalog.process_until_idle()
    # the root is the folder above the wildcard, so a sibling folder may be read
    assert (
        portal.catalog.entity_by_ref("api:default/orders-api")["spec"]["definition"]
        == "openapi: 3.0.0\n"
    )
