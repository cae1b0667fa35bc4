"""Wide filters (many conditions in one AND or OR) take a grouped SQL form; it must
answer exactly what the one-probe-per-condition form answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from greenroom.catalog.query.predicates import MAX_CONDITIONS
from greenroom.catalog.query.sql import MAX_JOINED_CONDITIONS


def _refs(client: TestClient, query: dict[str, Any]) -> list[str]:
    response = client.post(
        "/api/catalog/entities/by-query",
        json={"query": query, "limit": 1000, "fields": ["kind", "metadata.name"]},
    )
    assert response.status_code == 200, response.text
    return sorted(f"{e['kind']}:{e['metadata']['name']}".lower() for e in response.json()["items"])


def _pairs(parts: list[dict[str, Any]], op: str) -> dict[str, Any]:
    """The same conditions, nested two by two: every level stays under the grouping size."""
    return {op: [{op: parts[i : i + 2]} for i in range(0, len(parts), 2)]}


CONDITIONS = [
    {"kind": {"$in": ["component", "api", "group", "user"]}},
    {"metadata.namespace": "default"},
    {"apiVersion": {"$hasPrefix": "backstage.io/"}},
    {"metadata.name": {"$exists": True}},
    {"$not": {"spec.type": "website"}},
    {"$not": {"metadata.tags": "java"}},
    {"relations.ownedBy": {"$exists": True}},
    {"$not": {"spec.lifecycle": "deprecated"}},
    {"$any": [{"kind": "component"}, {"kind": "api"}]},
]


@pytest.mark.parametrize("op", ["$all", "$any"])
def test_grouped_form_matches_probe_form(example_api: TestClient, op: str) -> None:
    assert len(CONDITIONS) > MAX_JOINED_CONDITIONS
    wide = _refs(example_api, {op: CONDITIONS})
    assert wide == _refs(example_api, _pairs(CONDITIONS, op))
    assert wide  # the conditions were chosen so that both shapes match something


def test_many_alternatives_of_one_key(example_api: TestClient) -> None:
    names = ["artist-lookup", "wayback-search", "petstore", "no-such-entity"] * 3
    wide = _refs(example_api, {"$any": [{"metadata.name": n} for n in names]})
    assert wide == _refs(example_api, {"metadata.name": {"$in": names}})
    assert "component:artist-lookup" in wide


def test_the_most_conditions_allowed_answer(example_api: TestClient) -> None:
    """Planned in milliseconds on PostgreSQL (as separate joins, minutes)."""
    conditions = ",".join(f"metadata.annotations.k{i}" for i in range(MAX_CONDITIONS))
    response = example_api.get("/api/catalog/entities", params={"filter": conditions})
    assert response.status_code == 200
    assert response.json() == []
    either = [f"metadata.annotations.k{i}" for i in range(MAX_CONDITIONS)]
    response = example_api.get("/api/catalog/entities", params={"filter": either})
    assert response.status_code == 200
    assert response.json() == []


def test_more_conditions_are_refused(example_api: TestClient) -> None:
    conditions = ",".join(f"metadata.annotations.k{i}" for i in range(MAX_CONDITIONS + 1))
    response = example_api.get("/api/catalog/entities", params={"filter": conditions})
    assert response.status_code == 400
    assert "at most" in response.json()["error"]["message"]
    # A key repeated many times is one condition with many values.
    values = ",".join(f"metadata.name=n{i}" for i in range(2000))
    response = example_api.get("/api/catalog/entities", params={"filter": values})
    assert response.status_code == 200
