"""Ingest Backstage's own example catalog with the rules of Backstage's demo config."""

from __future__ import annotations

from pathlib import Path

from .helpers import example_catalog_config, make_portal, relations_of


def test_backstage_example_catalog(database_url: str, tmp_path: Path, examples_dir: Path) -> None:
    portal = make_portal(database_url, tmp_path, example_catalog_config(examples_dir))
    portal.catalog.process_until_idle()
    counts = portal.catalog.counts_by_kind()
    assert counts == {
        # 9 in the examples; 3 take their definition from github.com (see below)
        "API": 6,
        "Component": 13,
        "Domain": 3,
        "Group": 8,
        # 6 under all.yaml, acme-corp.yaml and acme/org.yaml, and one generated per config location
        "Location": 11,
        "Resource": 1,
        "System": 3,
        "Template": 5,
        "User": 17,
    }
    # The only errors are the ones Backstage reports here too: three APIs read their
    # definition with `$text: https://github.com/...`, a host not in `reading.allow`
    # (and out of reach of this offline machine), so they are never served.
    errors = portal.catalog.processing_errors()
    assert [ref for ref, _ in errors] == [
        "api:default/spotify",
        "api:default/wayback-archive",
        "api:default/wayback-search",
    ]
    for _ref, items in errors:
        assert [(e["name"], e["sourceLocation"]["field"]) for e in items] == [
            ("NotAllowedError", "spec.definition")
        ]
        assert "github.com" in items[0]["message"]

    artist_lookup = portal.catalog.entity_by_ref("component:default/artist-lookup")
    assert relations_of(artist_lookup) >= {
        ("ownedBy", "group:default/team-a"),
        ("partOf", "system:default/artist-engagement-portal"),
        ("dependsOn", "resource:default/artists-db"),
    }
    team_a = portal.catalog.entity_by_ref("group:default/team-a")
    assert relations_of(team_a) >= {
        ("childOf", "group:default/backstage"),
        ("hasMember", "user:default/breanna.davison"),
        ("ownerOf", "component:default/artist-lookup"),
    }
    breanna = portal.catalog.entity_by_ref("user:default/breanna.davison")
    assert relations_of(breanna) == {("memberOf", "group:default/team-a")}
    playback = portal.catalog.entity_by_ref("system:default/audio-playback")
    assert relations_of(playback) >= {
        ("ownedBy", "group:default/team-c"),
        ("partOf", "domain:default/playback"),
    }
    assert ("hasPart", "system:default/audio-playback") in relations_of(
        portal.catalog.entity_by_ref("domain:default/playback")
    )

    petstore = portal.catalog.entity_by_ref("api:default/petstore")
    assert petstore["spec"]["definition"].lstrip().startswith("openapi")
    # relations are served sorted by type, then target
    listed = [(r["type"], r["targetRef"]) for r in team_a["relations"]]
    assert listed == sorted(listed)


def test_examples_without_rules_only_let_default_kinds_in(
    database_url: str, tmp_path: Path, examples_dir: Path
) -> None:
    portal = make_portal(
        database_url,
        tmp_path,
        {"locations": [{"type": "file", "target": str(examples_dir / "all.yaml")}]},
    )
    # make_portal allows every kind; restore Backstage's default rules
    portal.config.catalog.rules = type(portal.config.catalog)().rules
    portal = type(portal)(portal.config)
    portal.catalog.process_until_idle()
    counts = portal.catalog.counts_by_kind()
    assert set(counts) == {"API", "Component", "Location"}
    refused = [
        m
        for _, errors in portal.catalog.processing_errors()
        for m in errors
        if m["name"] == "NotAllowedError"
    ]
    assert refused, (
        "System/Domain/Resource entities are refused with NotAllowedError on their location"
    )
