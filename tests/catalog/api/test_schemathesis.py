"""The catalog API against its own OpenAPI document (`/api/catalog/openapi.json`), with schemathesis.

Each operation of the document is fuzzed through the ASGI app (no server), on a SQLite
database holding the demo catalog: with valid requests ("positive") and, where the
document constrains something a request could get wrong, invalid ones ("negative").
Every answer must be a non-5xx with a documented status code, content type and body
shape. Random input never finds a real entity, so a second set of tests sends known-good
requests (real refs, uids, cursors, a location's life cycle) through the same checks, and
with them the success bodies are validated too.

Why not `schema.parametrize()`: with pytest 9.2 and schemathesis 4.32, the items it makes
all get the node id `test_...` without the operation (and the lazy `from_fixture` variant
fails on `Function._nodeid`), so the operations are parametrized here and fuzzed with
`APIOperation.as_strategy`.

The schema is loaded at import from an app on a database that is never opened (only the
routes matter); the tests send their requests to the app of the `demo` fixture.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from greenroom.app import create_app
from greenroom.catalog.providers import location_entity_name
from greenroom.config import config_from_dict
from greenroom.demo import demo_location_target
from greenroom.portal import Portal

from ..helpers import make_portal

PREFIX = "/api/catalog"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # One nested test function serves every operation: a shared example database would
    # replay one operation's failures against another.
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# A registered location (not a config location, which GET /locations does not list);
# without `reading.allow` it is never fetched.
REGISTERED_TARGET = "https://example.com/catalog-info.yaml"
# Reference §9.2: every route of the catalog API.
ROUTES = {
    "GET /entities",
    "GET /entities/by-query",
    "POST /entities/by-query",
    "GET /entities/by-uid/{uid}",
    "DELETE /entities/by-uid/{uid}",
    "GET /entities/by-name/{kind}/{namespace}/{name}",
    "GET /entities/by-name/{kind}/{namespace}/{name}/ancestry",
    "POST /entities/by-refs",
    "GET /entity-facets",
    "POST /entity-facets",
    "POST /refresh",
    "POST /locations",
    "GET /locations",
    "POST /locations/by-query",
    "GET /locations/{id}",
    "PUT /locations/{id}",
    "DELETE /locations/{id}",
    "GET /locations/by-entity/{kind}/{namespace}/{name}",
    "POST /analyze-location",
    "POST /validate-entity",
}

ASGIApp = Callable[..., Any]


# Serving the document reads no table and, outside `with`, TestClient runs no lifespan:
# the database of this app is never opened.
_DOCUMENT_APP = create_app(
    Portal(config_from_dict({"database": {"url": "sqlite://"}})), run_workers=False
)
DOCUMENT = TestClient(_DOCUMENT_APP).get(f"{PREFIX}/openapi.json").json()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
# An ASGI app makes schemathesis send requests in-process; each call names the real one.
SCHEMA.app = _DOCUMENT_APP
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


def _negatable(label: str) -> bool:
    """Whether a request can break the document: only path strings (any string is
    valid there) leave nothing for negative generation to change."""
    operation = OPERATIONS[label]
    return bool(len(operation.body)) or any(True for _ in operation.query)


FUZZ_CASES = [
    pytest.param(label, mode, id=f"{label} {mode.value}")
    for label in sorted(OPERATIONS)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _negatable(label)
]


class _WithoutLifespan:
    """Serves HTTP through `app` and answers lifespan events itself: the fixture owns the
    real lifespan, and schemathesis would otherwise start a second one per app, kept
    until the process exits."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


@dataclass
class Demo:
    """The demo catalog behind the app, and facts about it for known-good requests."""

    app: ASGIApp
    client: TestClient
    component: dict[str, Any]  # a served Component
    location_id: str  # a registered location


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    portal = make_portal(
        f"sqlite:///{tmp / 'greenroom.db'}",
        tmp,
        {"locations": [{"type": "file", "target": demo_location_target()}]},
    )
    location, _ = portal.catalog.add_location("url", REGISTERED_TARGET)
    portal.catalog.process_until_idle()
    app = create_app(portal, run_workers=False)
    with TestClient(app) as client:
        first = client.get(
            f"{PREFIX}/entities/by-query",
            params={"filter": "kind=component", "orderField": "metadata.name,asc", "limit": 1},
        )
        first.raise_for_status()
        yield Demo(_WithoutLifespan(app), client, first.json()["items"][0], location.id)
    portal.close()


def test_document_lists_every_route() -> None:
    assert DOCUMENT["servers"] == [{"url": PREFIX}]
    assert set(OPERATIONS) == ROUTES


def test_document_served_with_data_is_the_one_tested(demo: Demo) -> None:
    assert demo.client.get(f"{PREFIX}/openapi.json").json() == DOCUMENT


@pytest.mark.parametrize(("label", "mode"), FUZZ_CASES)
def test_operation_conforms(demo: Demo, label: str, mode: GenerationMode) -> None:
    @FUZZ_SETTINGS
    @given(case=OPERATIONS[label].as_strategy(generation_mode=mode))
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS, app=demo.app)

    fuzz()


# --- known-good requests ----------------------------------------------------------------


def _ref_parts(entity: dict[str, Any]) -> dict[str, str]:
    metadata = entity["metadata"]
    return {"kind": entity["kind"], "namespace": metadata["namespace"], "name": metadata["name"]}


def _ref(entity: dict[str, Any]) -> str:
    parts = _ref_parts(entity)
    return f"{parts['kind']}:{parts['namespace']}/{parts['name']}".lower()


def _cursor(demo: Demo, **params: Any) -> str:
    response = demo.client.get(f"{PREFIX}/entities/by-query", params=params)
    response.raise_for_status()
    return response.json()["pageInfo"]["nextCursor"]


def _valid_entity() -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "schemathesis-probe"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    }


# (operation, expected status, case arguments from the demo catalog)
KnownGood = tuple[str, int, Callable[[Demo], dict[str, Any]]]
KNOWN_GOOD: dict[str, KnownGood] = {
    "entity by name": (
        "GET /entities/by-name/{kind}/{namespace}/{name}",
        200,
        lambda d: {"path_parameters": _ref_parts(d.component)},
    ),
    "entity by name, other case": (
        "GET /entities/by-name/{kind}/{namespace}/{name}",
        200,
        lambda d: {"path_parameters": {k: v.upper() for k, v in _ref_parts(d.component).items()}},
    ),
    "ancestry": (
        "GET /entities/by-name/{kind}/{namespace}/{name}/ancestry",
        200,
        lambda d: {"path_parameters": _ref_parts(d.component)},
    ),
    "entity by uid": (
        "GET /entities/by-uid/{uid}",
        200,
        lambda d: {"path_parameters": {"uid": d.component["metadata"]["uid"]}},
    ),
    "unknown uid": (
        "GET /entities/by-uid/{uid}",
        404,
        lambda d: {"path_parameters": {"uid": "00000000-0000-0000-0000-000000000000"}},
    ),
    "delete unknown uid": (
        "DELETE /entities/by-uid/{uid}",
        204,
        lambda d: {"path_parameters": {"uid": "00000000-0000-0000-0000-000000000000"}},
    ),
    "all entities, projected": (
        "GET /entities",
        200,
        lambda d: {
            "query": {"filter": ["kind=component", "kind=api"], "fields": ["kind,metadata"]}
        },
    ),
    "legacy page": (
        "GET /entities",
        200,
        lambda d: {"query": {"limit": 3, "order": ["desc:metadata.name"]}},
    ),
    "legacy next page": (
        "GET /entities",
        200,
        lambda d: {"query": {"after": base64.b64encode(b'{"limit":3,"offset":3}').decode("ascii")}},
    ),
    "query page": (
        "GET /entities/by-query",
        200,
        lambda d: {
            "query": {
                "filter": ["kind=component"],
                "orderField": ["metadata.name,desc"],
                "fullTextFilterTerm": "e",
                "fullTextFilterFields": "metadata.name,metadata.title",
                "limit": 5,
            }
        },
    ),
    "query next page (GET cursor)": (
        "GET /entities/by-query",
        200,
        lambda d: {"query": {"cursor": _cursor(d, filter="kind=component", limit=2)}},
    ),
    "query next page (POST cursor)": (
        "POST /entities/by-query",
        200,
        lambda d: {"body": {"cursor": _cursor(d, filter="kind=user", limit=2), "limit": 2}},
    ),
    "query with predicate": (
        "POST /entities/by-query",
        200,
        lambda d: {
            "body": {
                "query": {"$any": [{"kind": "component"}, {"kind": {"$in": ["api", "system"]}}]},
                "orderBy": [{"field": "metadata.name", "order": "asc"}],
                "fields": ["kind", "metadata.name"],
                "fullTextFilter": {"term": "a", "fields": ["metadata.name"]},
                "limit": 4,
            }
        },
    ),
    "entities by refs": (
        "POST /entities/by-refs",
        200,
        lambda d: {
            "body": {"entityRefs": [_ref(d.component), "component:default/missing", ""]},
            "query": {"filter": ["kind=component"]},
        },
    ),
    "facets": (
        "GET /entity-facets",
        200,
        lambda d: {"query": {"facet": ["kind", "spec.type", "metadata.tags"]}},
    ),
    "facets with a predicate": (
        "POST /entity-facets",
        200,
        lambda d: {"body": {"facets": ["relations.ownedBy"], "query": {"kind": "component"}}},
    ),
    "refresh": ("POST /refresh", 200, lambda d: {"body": {"entityRef": _ref(d.component)}}),
    "validate a valid entity": (
        "POST /validate-entity",
        200,
        lambda d: {
            "body": {"entity": _valid_entity(), "location": "url:https://example.com/x.yaml"}
        },
    ),
    "validate an invalid entity": (
        "POST /validate-entity",
        400,
        lambda d: {
            "body": {
                "entity": {**_valid_entity(), "metadata": {"name": "not a name!"}},
                "location": "url:https://example.com/x.yaml",
            }
        },
    ),
    "list locations": ("GET /locations", 200, lambda d: {}),
    "query locations": (
        "POST /locations/by-query",
        200,
        lambda d: {"body": {"limit": 1, "query": {"type": "url"}}},
    ),
    "location by id": (
        "GET /locations/{id}",
        200,
        lambda d: {"path_parameters": {"id": d.location_id}},
    ),
    "location by entity": (
        "GET /locations/by-entity/{kind}/{namespace}/{name}",
        200,
        lambda d: {
            "path_parameters": {
                "kind": "location",
                "namespace": "default",
                "name": location_entity_name("url", REGISTERED_TARGET),
            }
        },
    ),
    "dry run of an unreadable location": (
        "POST /locations",
        400,
        lambda d: {
            "query": {"dryRun": "true"},
            "body": {"type": "url", "target": "https://example.com/other.yaml"},
        },
    ),
    "duplicate location": (
        "POST /locations",
        409,
        lambda d: {"body": {"type": "url", "target": REGISTERED_TARGET}},
    ),
    "analyze a repository": (
        "POST /analyze-location",
        200,
        lambda d: {
            "body": {"location": {"type": "url", "target": "https://github.com/acme/widgets"}}
        },
    ),
}


@pytest.mark.parametrize("name", list(KNOWN_GOOD))
def test_known_good_request_conforms(demo: Demo, name: str) -> None:
    label, status, arguments = KNOWN_GOOD[name]
    case = OPERATIONS[label].Case(**arguments(demo))
    response = case.call_and_validate(checks=CHECKS, app=demo.app)
    assert response.status_code == status, response.text[:500]


def test_location_life_cycle_conforms(demo: Demo) -> None:
    """Register, read, change and remove a location of its own; every answer conforms."""

    def call(label: str, status: int, **arguments: Any) -> Any:
        response = (
            OPERATIONS[label].Case(**arguments).call_and_validate(checks=CHECKS, app=demo.app)
        )
        assert response.status_code == status, f"{label}: {response.text[:500]}"
        return json.loads(response.content) if response.content else None

    target = "https://example.com/life-cycle.yaml"
    created = call("POST /locations", 201, body={"type": "url", "target": target})
    location_id = created["location"]["id"]
    again = call(
        "POST /locations",
        201,
        query={"onConflict": "refresh"},
        body={"type": "url", "target": target},
    )
    assert again["location"]["id"] == location_id
    assert call("GET /locations/{id}", 200, path_parameters={"id": location_id})["target"] == target
    changed = call(
        "PUT /locations/{id}",
        200,
        path_parameters={"id": location_id},
        body={"type": "url", "target": f"{target}?changed"},
    )
    assert changed["target"] == f"{target}?changed"
    call("DELETE /locations/{id}", 204, path_parameters={"id": location_id})
    call("GET /locations/{id}", 404, path_parameters={"id": location_id})
    call("DELETE /locations/{id}", 404, path_parameters={"id": location_id})
