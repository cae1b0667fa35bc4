"""`{"$hasErrors": true}`: served entities whose last processing reported errors."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from greenroom.app import create_app

from ..helpers import component, location_ref, make_portal, write


def test_has_errors_finds_served_entities_with_processing_errors(
    database_url: str, tmp_path: Path
) -> None:
    first = write(tmp_path / "a.yaml", component("shared"))
    # The second file emits the same entity: its location is served, with a conflict error.
    second = write(tmp_path / "b.yaml", component("shared") + "---\n" + component("other"))
    portal = make_portal(
        database_url,
        tmp_path,
        {
            "locations": [
                {"type": "file", "target": str(first)},
                {"type": "file", "target": str(second)},
            ]
        },
    )
    portal.catalog.process_until_idle()
    client = TestClient(create_app(portal, run_workers=False))

    found = client.post(
        "/api/catalog/entities/by-query", json={"query": {"$hasErrors": True}}
    ).json()
    refs = {
        f"{e['kind']}:{e['metadata']['namespace']}/{e['metadata']['name']}".lower()
        for e in found["items"]
    }
    # Which location keeps the entity depends on which was processed first.
    losers = {ref for ref, _ in portal.catalog.processing_errors()}
    assert len(losers) == 1 and losers <= {location_ref(first), location_ref(second)}
    assert refs == losers
    others = client.post(
        "/api/catalog/entities/by-query", json={"query": {"$hasErrors": False}, "limit": 1}
    ).json()
    assert others["totalItems"] == portal.catalog.entity_count() - 1
    assert (
        client.post(
            "/api/catalog/entities/by-query", json={"query": {"$hasErrors": "yes"}}
        ).status_code
        == 400
    )
    # The catalog page's "Has errors" filter is the same predicate.
    page = client.get("/catalog?filters[kind]=all&filters[error]=true&format=json").json()
    assert {item["ref"] for item in page["items"]} == losers
    portal.close()
