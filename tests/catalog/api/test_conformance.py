"""Conformance of /api/catalog with Backstage's catalog REST API.

The expectations come from the compatibility reference (shared/reference/catalog.md
§9-§11 and "Observed on the real catalog-backend 4.0.0"), checked with concrete values
from Backstage's own example catalog (packages/catalog-model/examples plus the
scaffolder templates), which `example_api` (see conftest.py) serves once per database.
Tests that change a catalog build a small portal of their own.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from greenroom.app import create_app
from greenroom.catalog.providers import location_entity_name
from greenroom.portal import Portal

from ..helpers import component, location_ref, make_portal, write
from ..test_readers import LocalServer
from .conftest import ExampleCatalog

BASE = "/api/catalog"

# --- what the example catalog serves ---------------------------------------------------------

KIND_COUNTS = {
    "API": 6,
    "Component": 13,
    "Domain": 3,
    "Group": 8,
    "Location": 11,
    "Resource": 1,
    "System": 3,
    "Template": 5,
    "User": 17,
}
TOTAL = sum(KIND_COUNTS.values())  # 67

COMPONENTS = {
    f"component:default/{name}"
    for name in (
        "artist-lookup",
        "petstore",
        "playback-order",
        "playback-sdk",
        "podcast-api",
        "queue-proxy",
        "searcher",
        "shuffle-api",
        "wayback-archive",
        "wayback-archive-ingestion",
        "wayback-archive-storage",
        "wayback-search",
        "www-artist",
    )
}
EXPERIMENTAL_COMPONENTS = {
    "component:default/artist-lookup",
    "component:default/petstore",
    "component:default/playback-sdk",
    "component:default/podcast-api",
}
COMPONENTS_WITH_SYSTEM = {
    "component:default/artist-lookup",
    "component:default/playback-order",
    "component:default/playback-sdk",
    "component:default/podcast-api",
    "component:default/queue-proxy",
    "component:default/shuffle-api",
    "component:default/www-artist",
}
DOMAINS_AND_SYSTEMS = {
    "domain:default/artists",
    "domain:default/audio",
    "domain:default/playback",
    "system:default/artist-engagement-portal",
    "system:default/audio-playback",
    "system:default/podcast",
}
JAVA_TAGGED = {
    "component:default/artist-lookup",
    "component:default/playback-order",
    "component:default/podcast-api",
    "template:default/springboot-template",
}
# spotify, wayback-archive and wayback-search (APIs) are owned by team-a too, but are
# never served: their definitions come from github.com, which reading.allow refuses.
OWNED_BY_TEAM_A = {
    "component:default/artist-lookup",
    "component:default/wayback-archive",
    "component:default/wayback-archive-storage",
    "component:default/wayback-search",
    "component:default/www-artist",
    "domain:default/artists",
    "resource:default/artists-db",
    "system:default/artist-engagement-portal",
}
TEAM_A_MEMBERS = {
    "user:default/breanna.davison",
    "user:default/guest",
    "user:default/janelle.dawe",
    "user:default/nigel.manning",
    "user:development/guest",
}
TEAMS = {f"group:default/team-{x}" for x in "abcd"}
USER_NAMES = [
    "amelia.park",
    "breanna.davison",
    "calum.leavy",
    "colette.brock",
    "eva.macdowell",
    "frank.tiernan",
    "guest",
    "guest",
    "janelle.dawe",
    "jenny.doe",
    "jonathon.page",
    "justine.barrow",
    "lucy.sheehan",
    "nigel.manning",
    "peadar.macmahon",
    "sarah.gilroy",
    "tara.macgovern",
]
ALL_USERS = {f"user:default/{n}" for n in USER_NAMES} | {"user:development/guest"}
OWNED_BY_FACET = [
    {"value": "group:backstage/techdocs-core", "count": 2},
    {"value": "group:default/acme-corp", "count": 1},
    {"value": "group:default/service@example.com", "count": 1},
    {"value": "group:default/team-a", "count": 8},
    {"value": "group:default/team-b", "count": 4},
    {"value": "group:default/team-c", "count": 8},
    {"value": "group:default/team-d", "count": 1},
    {"value": "group:default/web@example.com", "count": 2},
    {"value": "user:default/frank.tiernan", "count": 1},
    {"value": "user:default/guest", "count": 3},
]
TAGS_FACET = [
    {"value": "cra", "count": 1},
    {"value": "data", "count": 1},
    {"value": "go", "count": 3},
    {"value": "grpc", "count": 1},
    {"value": "java", "count": 4},
    {"value": "mkdocs", "count": 1},
    {"value": "mqtt", "count": 1},
    {"value": "playback", "count": 1},
    {"value": "portal", "count": 1},
    {"value": "react", "count": 2},
    {"value": "recommended", "count": 3},
    {"value": "rest", "count": 2},
    {"value": "store", "count": 2},
    {"value": "techdocs", "count": 1},
    {"value": "website", "count": 1},
]
ACME_PICTURE = (
    "https://api.dicebear.com/7.x/identicon/svg?seed=Maggie&flip=true&backgroundColor=ffdfbf"
)

# Every route of reference §9.2, as FastAPI names it in the OpenAPI document.
ROUTES = {
    ("get", "/entities"),
    ("get", "/entities/by-query"),
    ("post", "/entities/by-query"),
    ("get", "/entities/by-uid/{uid}"),
    ("delete", "/entities/by-uid/{uid}"),
    ("get", "/entities/by-name/{kind}/{namespace}/{name}"),
    ("get", "/entities/by-name/{kind}/{namespace}/{name}/ancestry"),
    ("post", "/entities/by-refs"),
    ("get", "/entity-facets"),
    ("post", "/entity-facets"),
    ("post", "/refresh"),
    ("post", "/locations"),
    ("get", "/locations"),
    ("post", "/locations/by-query"),
    ("get", "/locations/{id}"),
    ("put", "/locations/{id}"),
    ("delete", "/locations/{id}"),
    ("get", "/locations/by-entity/{kind}/{namespace}/{name}"),
    ("post", "/analyze-location"),
    ("post", "/validate-entity"),
}


# --- helpers -------------------------------------------------------------------------------


def call(
    client: TestClient,
    method: str,
    path: str,
    params: list[tuple[str, str]] | dict[str, Any] | None = None,
    body: Any = None,
) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": params}
    if body is not None:
        kwargs["json"] = body
    return client.request(method, BASE + path, **kwargs)


def get(client: TestClient, path: str, *params: tuple[str, str]) -> httpx.Response:
    return call(client, "GET", path, list(params))


def post(client: TestClient, path: str, body: Any, *params: tuple[str, str]) -> httpx.Response:
    return call(client, "POST", path, list(params), body)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def ref(entity: dict[str, Any]) -> str:
    meta = entity["metadata"]
    return f"{entity['kind']}:{meta.get('namespace', 'default')}/{meta['name']}".lower()


def refs(entities: list[dict[str, Any]]) -> list[str]:
    return [ref(e) for e in entities]


def listed(client: TestClient, *filters: str) -> set[str]:
    """Refs of GET /entities with these `filter` params (checking they come once each)."""
    params = [("filter", f) for f in filters] + [
        ("fields", "kind,metadata.name,metadata.namespace")
    ]
    found = refs(ok(get(client, "/entities", *params)))
    assert len(found) == len(set(found)), found
    return set(found)


def queried(client: TestClient, query: Any, **body: Any) -> tuple[set[str], int]:
    """Refs and totalItems of POST /entities/by-query with predicate `query`."""
    page = ok(
        post(
            client,
            "/entities/by-query",
            {"query": query, "fields": ["kind", "metadata.name", "metadata.namespace"], **body},
        )
    )
    found = refs(page["items"])
    assert len(found) == len(set(found)), found
    return set(found), page["totalItems"]


def assert_error(
    response: httpx.Response,
    status: int,
    name: str,
    message: str | None = None,
    *,
    method: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """Backstage's error envelope (reference §9.1)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "request", "response"}, body
    assert body["error"]["name"] == name, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if message is not None:
        assert body["error"]["message"] == message, body
    assert body["response"] == {"statusCode": status}
    assert set(body["request"]) == {"method", "url"}
    assert body["request"]["method"] == (method or response.request.method)
    if url is not None:
        assert body["request"]["url"] == url
    assert not body["request"]["url"].startswith(BASE), "the url is relative to the router"
    return body


def decode(cursor: str) -> dict[str, Any]:
    data = json.loads(base64.b64decode(cursor, validate=True))
    assert isinstance(data, dict)
    return data


def link_target(response: httpx.Response) -> str | None:
    """The relative URL of a `Link: <...>; rel="next"` header, or None."""
    link = response.headers.get("link")
    if link is None:
        return None
    target, _, rel = link.partition(">;")
    assert target.startswith("<"), link
    assert rel.strip() == 'rel="next"', link
    return target[1:]


def case_id(value: Any) -> str:
    """Readable test ids: the filters or the query, not the expected set."""
    if isinstance(value, list):
        return "&".join(str(v) for v in value)
    return json.dumps(value, separators=(",", ":"))


def by_name(client: TestClient, entity_ref: str) -> dict[str, Any]:
    kind, _, rest = entity_ref.partition(":")
    namespace, _, name = rest.partition("/")
    return ok(get(client, f"/entities/by-name/{kind}/{namespace}/{name}"))


@pytest.fixture(scope="module")
def uids(example_api: TestClient) -> dict[str, str]:
    """uid by entity ref, for the whole example catalog."""
    entities = ok(
        get(
            example_api,
            "/entities",
            ("fields", "kind,metadata.name,metadata.namespace,metadata.uid"),
        )
    )
    return {ref(e): e["metadata"]["uid"] for e in entities}


# ==========================================================================================
# GET /entities
# ==========================================================================================


def test_entities_is_a_bare_array_of_whole_entities_in_uid_order(
    example_api: TestClient, uids: dict[str, str]
) -> None:
    response = get(example_api, "/entities")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    entities = ok(response)
    assert isinstance(entities, list)
    assert len(entities) == TOTAL
    assert len(uids) == TOTAL
    # Without paging the default order is the uid.
    listed_uids = [e["metadata"]["uid"] for e in entities]
    assert listed_uids == sorted(listed_uids)
    artist = next(e for e in entities if ref(e) == "component:default/artist-lookup")
    assert artist["apiVersion"] == "backstage.io/v1alpha1"
    assert artist["metadata"]["namespace"] == "default"
    assert artist["metadata"]["tags"] == ["java", "data"]
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in artist["relations"]
    assert artist["spec"]["owner"] == "team-a"
    assert "link" not in response.headers


FILTER_CASES: list[tuple[Any, set[str]]] = [
    # keys and values are case-insensitive
    (["KIND=Component"], COMPONENTS),
    (["kind=component"], COMPONENTS),
    (["Kind=COMPONENT"], COMPONENTS),
    # different params are OR'ed
    (["kind=domain", "kind=system"], DOMAINS_AND_SYSTEMS),
    # different keys in one param are AND'ed
    (["kind=component,spec.lifecycle=experimental"], EXPERIMENTAL_COMPONENTS),
    # a repeated key in one param is OR'ed, and AND'ed with the other keys
    (["kind=domain,kind=system"], DOMAINS_AND_SYSTEMS),
    (["kind=component,kind=api,spec.lifecycle=deprecated"], {"api:default/hello-world"}),
    # `key` alone: exists; `key=`: equals the empty string
    (["kind=component,spec.system"], COMPONENTS_WITH_SYSTEM),
    (["kind=component,spec.system="], set()),
    # whitespace is trimmed, empty statements are ignored
    (
        [" kind = Component , spec.type = website "],
        {"component:default/queue-proxy", "component:default/www-artist"},
    ),
    (
        ["kind=component,,spec.type=website,"],
        {"component:default/queue-proxy", "component:default/www-artist"},
    ),
    # the value is everything after the first `=` (it may hold `=`, `:`, `/`)
    ([f"spec.profile.picture={ACME_PICTURE}"], {"group:default/acme-corp"}),
    (
        ["metadata.annotations.backstage.io/source-template=template:default/springboot-template"],
        {"component:default/artist-lookup"},
    ),
    (
        ["spec.owner=backstage/techdocs-core"],
        {"template:default/docs-template", "template:default/pull-request"},
    ),
    # array items: each element is indexed, plus `<path>.<element>` = true
    (["metadata.tags.java"], JAVA_TAGGED),
    (["metadata.tags=JAVA"], JAVA_TAGGED),
    (["metadata.tags.java=true"], JAVA_TAGGED),
    (["metadata.tags.java,metadata.tags.data"], {"component:default/artist-lookup"}),
    (
        ["kind=component,metadata.tags=java,metadata.tags=go"],
        {
            "component:default/artist-lookup",
            "component:default/playback-order",
            "component:default/podcast-api",
            "component:default/queue-proxy",
            "component:default/searcher",
            "component:default/shuffle-api",
        },
    ),
    # relations: lowercase type (any case accepted) and the full target ref
    (["relations.ownedBy=group:default/team-a"], OWNED_BY_TEAM_A),
    (["relations.OWNEDBY=Group:Default/Team-A"], OWNED_BY_TEAM_A),
    (["relations.ownedby=group:default/team-a"], OWNED_BY_TEAM_A),
    (["kind=user,relations.memberof=group:default/team-a"], TEAM_A_MEMBERS),
    (["relations.hasMember=user:development/guest"], {"group:default/team-a"}),
    (
        ["relations.ownedBy=group:backstage/techdocs-core"],
        {"template:default/docs-template", "template:default/pull-request"},
    ),
    # spec.owner is the literal text of the YAML, not a normalized ref
    (["spec.owner=team-a"], OWNED_BY_TEAM_A),
    (["spec.owner=group:default/team-a"], set()),
    (["spec.memberOf=group:default/team-a"], {"user:development/guest"}),
    # namespace is always indexed (default when absent)
    (["kind=user,metadata.namespace=development"], {"user:development/guest"}),
    (["kind=user,metadata.name=guest"], {"user:default/guest", "user:development/guest"}),
    # exact match, not substring
    (["metadata.name=artist"], set()),
    (["kind=nothing-like-this"], set()),
    # status is not indexed
    (["status"], set()),
]


@pytest.mark.parametrize(
    ("filters", "expected"), FILTER_CASES, ids=[case_id(case) for case, _ in FILTER_CASES]
)
def test_entities_filter(example_api: TestClient, filters: list[str], expected: set[str]) -> None:
    assert listed(example_api, *filters) == expected


@pytest.mark.parametrize("bad", ["=component", "kind=component,=x", " =x"])
def test_entities_filter_with_an_empty_key_is_400(example_api: TestClient, bad: str) -> None:
    assert_error(get(example_api, "/entities", ("filter", bad)), 400, "InputError", url=None)


@pytest.mark.parametrize(
    "fields",
    [
        [("fields", "kind,metadata.name")],
        [("fields", "kind"), ("fields", "metadata.name")],
        [("fields", "kind,metadata.name"), ("fields", "kind")],
        [("fields", " kind , metadata.name ,")],
    ],
)
def test_entities_fields_comma_and_repeated(
    example_api: TestClient, fields: list[tuple[str, str]]
) -> None:
    items = ok(get(example_api, "/entities", ("filter", "kind=group"), *fields))
    assert len(items) == KIND_COUNTS["Group"]
    assert all(set(i) == {"kind", "metadata"} and set(i["metadata"]) == {"name"} for i in items)
    assert {i["metadata"]["name"] for i in items} >= {"team-a", "acme-corp"}


def test_entities_fields_dotted_annotation_key_and_missing_paths(example_api: TestClient) -> None:
    items = ok(
        get(
            example_api,
            "/entities",
            ("filter", "kind=component,metadata.name=artist-lookup"),
            ("fields", "metadata.annotations.backstage.io/source-template,spec.nothing,nope"),
        )
    )
    assert items == [
        {
            "metadata": {
                "annotations": {
                    "backstage.io/source-template": "template:default/springboot-template"
                }
            }
        }
    ]
    # a subtree, and a path that does not exist on some entities
    items = ok(
        get(
            example_api,
            "/entities",
            ("filter", "kind=group,metadata.name=team-a"),
            ("filter", "kind=group,metadata.name=acme-corp"),
            ("fields", "metadata.name,spec.profile.displayName,spec.parent"),
        )
    )
    assert sorted(items, key=lambda i: i["metadata"]["name"]) == [
        {"metadata": {"name": "acme-corp"}, "spec": {"profile": {"displayName": "ACME Corp"}}},
        {"metadata": {"name": "team-a"}, "spec": {"parent": "backstage"}},
    ]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/entities", [("fields", "metadata.tags[0]")]),
        ("/entities", [("fields", "kind"), ("fields", "relations[0].type")]),
        ("/entities/by-query", [("fields", "metadata.links[0]")]),
    ],
)
def test_fields_with_brackets_are_400(
    example_api: TestClient, path: str, params: list[tuple[str, str]]
) -> None:
    assert_error(get(example_api, path, *params), 400, "InputError")


@pytest.mark.parametrize(
    "order",
    ["metadata.name", "asc", "up:metadata.name", "asc:", "ASC-metadata.name", ":metadata.name"],
)
def test_entities_bad_order_is_400(example_api: TestClient, order: str) -> None:
    assert_error(get(example_api, "/entities", ("order", order)), 400, "InputError")
    assert_error(get(example_api, "/entities", ("order", order), ("limit", "5")), 400, "InputError")


def test_entities_order_without_paging_drops_entities_lacking_the_field(
    example_api: TestClient,
) -> None:
    items = ok(
        get(
            example_api,
            "/entities",
            ("filter", "kind=component"),
            ("order", "desc:spec.system"),
            ("fields", "kind,metadata.name,spec.system"),
        )
    )
    assert set(refs(items)) == COMPONENTS_WITH_SYSTEM
    assert [i["spec"]["system"] for i in items] == [
        "podcast",
        "podcast",
        "audio-playback",
        "audio-playback",
        "audio-playback",
        "artist-engagement-portal",
        "artist-engagement-portal",
    ]
    ascending = ok(
        get(
            example_api,
            "/entities",
            ("filter", "kind=user"),
            ("order", "asc:metadata.name"),
            ("fields", "metadata.name"),
        )
    )
    assert [i["metadata"]["name"] for i in ascending] == USER_NAMES


def test_entities_order_without_paging_uses_only_the_first_field(example_api: TestClient) -> None:
    def names(*orders: str) -> list[str]:
        params = [("order", o) for o in orders]
        items = ok(
            get(
                example_api,
                "/entities",
                ("filter", "kind=component"),
                *params,
                ("fields", "metadata.name"),
            )
        )
        return [i["metadata"]["name"] for i in items]

    assert names("asc:spec.type", "desc:metadata.name") == names("asc:spec.type")


def test_entities_paged_order_puts_entities_lacking_the_field_last_in_uid_order(
    example_api: TestClient, uids: dict[str, str]
) -> None:
    items = ok(
        get(
            example_api,
            "/entities",
            ("filter", "kind=component"),
            ("order", "desc:spec.system"),
            ("limit", "50"),
            ("fields", "kind,metadata.name,spec.system"),
        )
    )
    assert len(items) == len(COMPONENTS)
    with_system, without = items[:7], items[7:]
    assert [i["spec"]["system"] for i in with_system] == [
        "podcast",
        "podcast",
        "audio-playback",
        "audio-playback",
        "audio-playback",
        "artist-engagement-portal",
        "artist-engagement-portal",
    ]
    assert all("spec" not in i for i in without)
    assert refs(without) == sorted(COMPONENTS - COMPONENTS_WITH_SYSTEM, key=lambda r: uids[r])


def test_entities_paged_with_several_order_fields(example_api: TestClient) -> None:
    items = ok(
        get(
            example_api,
            "/entities",
            ("filter", "kind=component"),
            ("order", "asc:spec.type"),
            ("order", "desc:metadata.name"),
            ("limit", "20"),
            ("fields", "metadata.name,spec.type"),
        )
    )
    assert [(i["spec"]["type"], i["metadata"]["name"]) for i in items] == [
        ("library", "playback-sdk"),
        ("service", "wayback-search"),
        ("service", "wayback-archive-storage"),
        ("service", "wayback-archive-ingestion"),
        ("service", "wayback-archive"),
        ("service", "shuffle-api"),
        ("service", "searcher"),
        ("service", "podcast-api"),
        ("service", "playback-order"),
        ("service", "petstore"),
        ("service", "artist-lookup"),
        ("website", "www-artist"),
        ("website", "queue-proxy"),
    ]


def test_entities_paging_link_header_walks_every_entity_once(example_api: TestClient) -> None:
    response = get(
        example_api,
        "/entities",
        ("limit", "10"),
        ("fields", "kind,metadata.name,metadata.namespace"),
    )
    first = ok(response)
    assert len(first) == 10
    target = link_target(response)
    assert target is not None
    # relative to the router: no /api/catalog prefix
    assert target.startswith("/entities?"), target
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    assert query["limit"] == ["10"]
    assert "offset" not in query
    assert decode(query["after"][0]) == {"limit": 10, "offset": 10}
    seen = refs(first)
    pages = 1
    while target is not None:
        response = example_api.get(BASE + target)
        page = ok(response)
        assert isinstance(page, list) and page
        seen += refs(page)
        target = link_target(response)
        pages += 1
        assert pages < 20
    assert pages == 7
    assert len(seen) == TOTAL
    assert len(set(seen)) == TOTAL
    # legacy paging orders by entity ref
    assert seen == sorted(seen)


def test_entities_paging_with_offset_and_filter(example_api: TestClient) -> None:
    groups = sorted(
        f"group:default/{n}"
        for n in (
            "acme-corp",
            "backstage",
            "boxoffice",
            "infrastructure",
            "team-a",
            "team-b",
            "team-c",
            "team-d",
        )
    )
    response = get(
        example_api,
        "/entities",
        ("filter", "kind=group"),
        ("offset", "2"),
        ("limit", "3"),
        ("fields", "kind,metadata.name"),
    )
    assert refs(ok(response)) == groups[2:5]
    target = link_target(response)
    assert target is not None
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    assert query["filter"] == ["kind=group"]
    assert query["fields"] == ["kind,metadata.name"]
    assert "offset" not in query
    assert decode(query["after"][0]) == {"limit": 3, "offset": 5}
    response = example_api.get(BASE + target)
    assert refs(ok(response)) == groups[5:8]
    assert link_target(response) is None
    # offset alone pages too (ordered by ref), without a Link when nothing is left
    response = get(example_api, "/entities", ("filter", "kind=group"), ("offset", "6"))
    assert refs(ok(response)) == groups[6:]
    assert "link" not in response.headers


@pytest.mark.parametrize(
    "params",
    [
        [("limit", "0")],
        [("limit", "-1")],
        [("limit", "ten")],
        [("offset", "-1")],
        [("after", "")],
        [("after", "not base64!")],
    ],
)
def test_entities_bad_paging_is_400(example_api: TestClient, params: list[tuple[str, str]]) -> None:
    assert_error(get(example_api, "/entities", *params), 400, "InputError")


# ==========================================================================================
# GET /entities/by-query
# ==========================================================================================


def test_by_query_defaults(example_api: TestClient) -> None:
    response = get(example_api, "/entities/by-query")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    page = ok(response)
    assert set(page) == {"items", "totalItems", "pageInfo"}
    assert page["totalItems"] == TOTAL
    assert len(page["items"]) == TOTAL
    # one page: no cursors at all
    assert page["pageInfo"] == {}
    # default order: uid
    listed_uids = [e["metadata"]["uid"] for e in page["items"]]
    assert listed_uids == sorted(listed_uids)


def test_by_query_limit_zero_counts_without_items(example_api: TestClient) -> None:
    page = ok(get(example_api, "/entities/by-query", ("limit", "0"), ("filter", "kind=user")))
    assert page["items"] == []
    assert page["totalItems"] == KIND_COUNTS["User"]


def test_by_query_total_items_exclude(example_api: TestClient) -> None:
    page = ok(
        get(example_api, "/entities/by-query", ("totalItems", "exclude"), ("filter", "kind=group"))
    )
    assert page["totalItems"] == 0
    assert len(page["items"]) == KIND_COUNTS["Group"]
    page = ok(
        get(example_api, "/entities/by-query", ("totalItems", "include"), ("filter", "kind=group"))
    )
    assert page["totalItems"] == KIND_COUNTS["Group"]


def test_by_query_filter_and_fields(example_api: TestClient) -> None:
    page = ok(
        get(
            example_api,
            "/entities/by-query",
            ("filter", "kind=domain"),
            ("filter", "kind=system"),
            ("fields", "kind"),
            ("fields", "metadata.name"),
        )
    )
    assert page["totalItems"] == 6
    assert set(refs(page["items"])) == DOMAINS_AND_SYSTEMS
    assert all(set(i) == {"kind", "metadata"} for i in page["items"])


def walk(client: TestClient, first: httpx.Response, limit: int) -> list[dict[str, Any]]:
    """Every page from `first` on, following nextCursor (on GET). A cursor does not
    carry the page size: like the official client, send `limit` with each one."""
    pages = [ok(first)]
    while "nextCursor" in pages[-1]["pageInfo"]:
        assert len(pages) < 50
        cursor = pages[-1]["pageInfo"]["nextCursor"]
        pages.append(
            ok(get(client, "/entities/by-query", ("cursor", cursor), ("limit", str(limit))))
        )
    return pages


def test_by_query_cursor_walk_forward_and_back(example_api: TestClient) -> None:
    first = get(
        example_api,
        "/entities/by-query",
        ("filter", "kind=user"),
        ("orderField", "metadata.name,asc"),
        ("limit", "5"),
    )
    pages = walk(example_api, first, 5)
    assert [len(p["items"]) for p in pages] == [5, 5, 5, 2]
    assert all(p["totalItems"] == KIND_COUNTS["User"] for p in pages)
    names = [i["metadata"]["name"] for p in pages for i in p["items"]]
    assert names == USER_NAMES
    everything = [ref(i) for p in pages for i in p["items"]]
    assert len(set(everything)) == KIND_COUNTS["User"]
    # ties are broken by uid
    guests = [
        i["metadata"]["uid"] for p in pages for i in p["items"] if i["metadata"]["name"] == "guest"
    ]
    assert guests == sorted(guests)
    # cursors: next while more rows exist, prev on every page after the first
    assert "prevCursor" not in pages[0]["pageInfo"]
    assert all("prevCursor" in p["pageInfo"] for p in pages[1:])
    assert all("nextCursor" in p["pageInfo"] for p in pages[:-1])
    assert "nextCursor" not in pages[-1]["pageInfo"]
    # walking back from the third page gives the second, and from it the first
    back = ok(
        get(
            example_api,
            "/entities/by-query",
            ("cursor", pages[2]["pageInfo"]["prevCursor"]),
            ("limit", "5"),
        )
    )
    assert back["items"] == pages[1]["items"]
    assert back["totalItems"] == KIND_COUNTS["User"]
    back = ok(
        get(
            example_api,
            "/entities/by-query",
            ("cursor", back["pageInfo"]["prevCursor"]),
            ("limit", "5"),
        )
    )
    assert back["items"] == pages[0]["items"]
    assert "prevCursor" not in back["pageInfo"]
    assert "nextCursor" in back["pageInfo"]
    # the cursor does not carry the page size: without `limit` the default (200) applies
    rest = ok(
        get(example_api, "/entities/by-query", ("cursor", pages[0]["pageInfo"]["nextCursor"]))
    )
    assert [i["metadata"]["name"] for i in rest["items"]] == USER_NAMES[5:]
    assert "nextCursor" not in rest["pageInfo"]


def test_by_query_cursor_is_base64_json_with_a_query_and_works_on_post(
    example_api: TestClient,
) -> None:
    first = ok(
        get(
            example_api,
            "/entities/by-query",
            ("filter", "kind=user"),
            ("orderField", "metadata.name,desc"),
            ("limit", "4"),
            ("fields", "metadata.name"),
        )
    )
    assert [i["metadata"]["name"] for i in first["items"]] == USER_NAMES[::-1][:4]
    cursor = first["pageInfo"]["nextCursor"]
    assert "query" in decode(cursor)
    via_get = ok(
        get(
            example_api,
            "/entities/by-query",
            ("cursor", cursor),
            ("fields", "metadata.name"),
            ("limit", "4"),
        )
    )
    via_post = ok(
        post(
            example_api,
            "/entities/by-query",
            {"cursor": cursor, "fields": ["metadata.name"], "limit": 4},
        )
    )
    assert via_get == via_post
    assert [i["metadata"]["name"] for i in via_get["items"]] == USER_NAMES[::-1][4:8]
    assert via_get["totalItems"] == KIND_COUNTS["User"]
    # the limit of the request still applies to a cursor
    short = ok(post(example_api, "/entities/by-query", {"cursor": cursor, "limit": 2}))
    assert [i["metadata"]["name"] for i in short["items"]] == USER_NAMES[::-1][4:6]
    # a cursor carries the filter and order: those of the request are ignored
    ignored = ok(
        get(
            example_api,
            "/entities/by-query",
            ("cursor", cursor),
            ("filter", "kind=group"),
            ("orderField", "metadata.name,asc"),
            ("fields", "metadata.name"),
            ("limit", "4"),
        )
    )
    assert ignored["items"] == via_get["items"]
    # the prevCursor of a POST-issued page works on GET too
    prev = via_post["pageInfo"]["prevCursor"]
    assert "query" in decode(prev)
    back = ok(
        get(
            example_api,
            "/entities/by-query",
            ("cursor", prev),
            ("fields", "metadata.name"),
            ("limit", "4"),
        )
    )
    assert back["items"] == first["items"]


def test_by_query_cursor_from_a_post_predicate_query(example_api: TestClient) -> None:
    body = {
        "query": {"$any": [{"kind": "group"}, {"kind": "domain"}]},
        "orderBy": [{"field": "metadata.name", "order": "asc"}],
        "limit": 5,
        "fields": ["kind", "metadata.name"],
    }
    first = ok(post(example_api, "/entities/by-query", body))
    assert first["totalItems"] == 11
    cursor = first["pageInfo"]["nextCursor"]
    assert "query" in decode(cursor)
    seen = refs(first["items"])
    page = first
    while "nextCursor" in page["pageInfo"]:
        page = ok(
            post(
                example_api,
                "/entities/by-query",
                {
                    "cursor": page["pageInfo"]["nextCursor"],
                    "fields": ["kind", "metadata.name"],
                    "limit": 5,
                },
            )
        )
        seen += refs(page["items"])
    assert len(seen) == 11 == len(set(seen))
    assert [r.split("/")[1] for r in seen] == sorted(r.split("/")[1] for r in seen)
    # and the GET route accepts the POST cursor
    again = ok(
        get(
            example_api,
            "/entities/by-query",
            ("cursor", cursor),
            ("fields", "kind,metadata.name"),
            ("limit", "5"),
        )
    )
    assert refs(again["items"]) == seen[5:10]


def test_by_query_bad_cursor_is_400(example_api: TestClient) -> None:
    for cursor in ("nope!", base64.b64encode(b"[1, 2]").decode(), base64.b64encode(b"{").decode()):
        assert_error(get(example_api, "/entities/by-query", ("cursor", cursor)), 400, "InputError")
        assert_error(post(example_api, "/entities/by-query", {"cursor": cursor}), 400, "InputError")


def test_by_query_order_field_excludes_entities_lacking_it(example_api: TestClient) -> None:
    page = ok(
        get(
            example_api,
            "/entities/by-query",
            ("orderField", "spec.profile.displayName,asc"),
            ("fields", "kind,metadata.name,metadata.namespace,spec.profile.displayName"),
        )
    )
    # 16 users (breanna.davison has no displayName) and 6 groups (not team-a, infrastructure)
    assert page["totalItems"] == 22
    assert len(page["items"]) == 22
    found = set(refs(page["items"]))
    assert "user:default/breanna.davison" not in found
    assert "group:default/team-a" not in found
    assert "group:default/infrastructure" not in found
    names = [i["spec"]["profile"]["displayName"] for i in page["items"]]
    # ordered by the lowercased value
    assert names == sorted(names, key=str.lower)
    assert names[:3] == ["ACME Corp", "Amelia Park", "Backstage"]
    # the direction may be omitted (asc)
    plain = ok(
        get(
            example_api,
            "/entities/by-query",
            ("orderField", "spec.profile.displayName"),
            ("fields", "kind,metadata.name,metadata.namespace,spec.profile.displayName"),
        )
    )
    assert plain["items"] == page["items"]
    # ... and its cursors work (catalog-backend 4.0.0 rejects them: do better)
    first = ok(
        get(
            example_api,
            "/entities/by-query",
            ("orderField", "spec.profile.displayName"),
            ("limit", "20"),
            ("fields", "kind,metadata.name,metadata.namespace,spec.profile.displayName"),
        )
    )
    assert first["items"] == page["items"][:20]
    rest = ok(
        get(
            example_api,
            "/entities/by-query",
            ("cursor", first["pageInfo"]["nextCursor"]),
            ("fields", "kind,metadata.name,metadata.namespace,spec.profile.displayName"),
        )
    )
    assert rest["items"] == page["items"][20:]
    assert rest["totalItems"] == 22


def test_by_query_only_the_first_order_field_counts(example_api: TestClient) -> None:
    page = ok(
        get(
            example_api,
            "/entities/by-query",
            ("filter", "kind=user"),
            ("orderField", "metadata.name,desc"),
            ("orderField", "spec.profile.displayName,asc"),
            ("fields", "metadata.name"),
        )
    )
    # breanna.davison has no displayName: the second field excludes nothing
    assert page["totalItems"] == KIND_COUNTS["User"]
    assert [i["metadata"]["name"] for i in page["items"]] == USER_NAMES[::-1]


@pytest.mark.parametrize("order", ["metadata.name,up", "metadata.name,ascending"])
def test_by_query_bad_order_field_is_400(example_api: TestClient, order: str) -> None:
    assert_error(get(example_api, "/entities/by-query", ("orderField", order)), 400, "InputError")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # case-insensitive substring over the given fields
        (
            [("fullTextFilterTerm", "MAC"), ("fullTextFilterFields", "metadata.name")],
            {
                "user:default/eva.macdowell",
                "user:default/peadar.macmahon",
                "user:default/tara.macgovern",
            },
        ),
        (
            [
                ("fullTextFilterTerm", " Park "),
                ("fullTextFilterFields", "metadata.name,spec.profile.displayName"),
            ],
            {"user:default/amelia.park"},
        ),
        (
            [
                ("fullTextFilterTerm", "box office"),
                ("fullTextFilterFields", "metadata.name,spec.profile.displayName"),
            ],
            {"group:default/boxoffice"},
        ),
        # the default field is the order field
        ([("fullTextFilterTerm", "TEAM"), ("orderField", "metadata.name,asc")], TEAMS),
        # ... or metadata.uid without an order field: a name matches nothing
        ([("fullTextFilterTerm", "team")], set()),
        # combined with a filter
        (
            [
                ("filter", "kind=user"),
                ("fullTextFilterTerm", "example.com"),
                ("fullTextFilterFields", "spec.profile.email"),
            ],
            ALL_USERS,
        ),
        (
            [
                ("filter", "kind=group,spec.type=team"),
                ("fullTextFilterTerm", "-b"),
                ("fullTextFilterFields", "metadata.name"),
            ],
            {"group:default/team-b"},
        ),
    ],
)
def test_by_query_full_text(
    example_api: TestClient, params: list[tuple[str, str]], expected: set[str]
) -> None:
    page = ok(
        get(
            example_api,
            "/entities/by-query",
            *params,
            ("fields", "kind,metadata.name,metadata.namespace"),
        )
    )
    assert set(refs(page["items"])) == expected
    assert page["totalItems"] == len(expected)


def test_by_query_full_text_default_field_is_the_uid(
    example_api: TestClient, uids: dict[str, str]
) -> None:
    uid = uids["component:default/artist-lookup"]
    page = ok(
        get(
            example_api,
            "/entities/by-query",
            ("fullTextFilterTerm", uid.upper()),
            ("fields", "kind,metadata.name"),
        )
    )
    assert refs(page["items"]) == ["component:default/artist-lookup"]


def test_by_query_full_text_then_cursor_keeps_the_term(example_api: TestClient) -> None:
    first = ok(
        get(
            example_api,
            "/entities/by-query",
            ("fullTextFilterTerm", "team"),
            ("fullTextFilterFields", "metadata.name"),
            ("orderField", "metadata.name,asc"),
            ("limit", "3"),
            ("fields", "metadata.name"),
        )
    )
    assert first["totalItems"] == 4
    second = ok(
        get(
            example_api,
            "/entities/by-query",
            ("cursor", first["pageInfo"]["nextCursor"]),
            ("fields", "metadata.name"),
        )
    )
    assert [i["metadata"]["name"] for i in first["items"] + second["items"]] == [
        "team-a",
        "team-b",
        "team-c",
        "team-d",
    ]
    assert second["totalItems"] == 4
    assert "nextCursor" not in second["pageInfo"]


# ==========================================================================================
# POST /entities/by-query
# ==========================================================================================


PREDICATE_CASES: list[tuple[Any, set[str]]] = [
    ({"kind": "Component", "spec.lifecycle": "EXPERIMENTAL"}, EXPERIMENTAL_COMPONENTS),
    (
        {"$all": [{"kind": "component"}, {"metadata.tags": {"$contains": "java"}}]},
        JAVA_TAGGED - {"template:default/springboot-template"},
    ),
    ({"$any": [{"kind": "domain"}, {"kind": "system"}]}, DOMAINS_AND_SYSTEMS),
    (
        {"$all": [{"kind": "component"}, {"$not": {"spec.lifecycle": "production"}}]},
        EXPERIMENTAL_COMPONENTS,
    ),
    (
        {
            "$not": {
                "$any": [
                    {"kind": "user"},
                    {"kind": "group"},
                    {"kind": "location"},
                    {"kind": "template"},
                    {"kind": "api"},
                    {"kind": "component"},
                    {"kind": "resource"},
                ]
            }
        },
        DOMAINS_AND_SYSTEMS,
    ),
    (
        {"kind": "group", "spec.profile.displayName": {"$exists": False}},
        {"group:default/team-a", "group:default/infrastructure"},
    ),
    ({"kind": "component", "spec.system": {"$exists": True}}, COMPONENTS_WITH_SYSTEM),
    ({"kind": {"$in": ["Domain", "SYSTEM"]}}, DOMAINS_AND_SYSTEMS),
    ({"kind": {"$in": []}}, set()),
    ({"metadata.name": {"$hasPrefix": "TEAM-"}}, TEAMS),
    ({"metadata.name": {"$hasPrefix": "team_"}}, set()),
    ({"metadata.name": {"$hasPrefix": "wayback%"}}, set()),
    (
        {"kind": "component", "metadata.name": {"$hasPrefix": "wayback"}},
        {
            "component:default/wayback-archive",
            "component:default/wayback-archive-ingestion",
            "component:default/wayback-archive-storage",
            "component:default/wayback-search",
        },
    ),
    ({"metadata.tags": {"$contains": "JAVA"}}, JAVA_TAGGED),
    ({"metadata.tags": "java"}, JAVA_TAGGED),
    (
        {"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/team-a"}}},
        OWNED_BY_TEAM_A,
    ),
    ({"relations": {"$contains": {"type": "hasMember"}}}, TEAMS),
    (
        {
            "relations": {
                "$contains": {
                    "type": "ownedBy",
                    "targetRef": {"$in": ["group:default/team-b", "group:default/team-d"]},
                }
            }
        },
        {
            "component:default/podcast-api",
            "component:default/queue-proxy",
            "system:default/podcast",
            "api:default/starwars-graphql",
            "component:default/wayback-archive-ingestion",
        },
    ),
    ({"relations.ownedBy": "group:default/team-a"}, OWNED_BY_TEAM_A),
    ({"spec.profile.picture": ACME_PICTURE}, {"group:default/acme-corp"}),
    ({"$any": []}, set()),
    (
        {"$all": [{"kind": "domain"}, {"$all": []}]},
        {"domain:default/artists", "domain:default/audio", "domain:default/playback"},
    ),
    ({"$all": [{"kind": "domain"}, {"$any": []}]}, set()),
]


@pytest.mark.parametrize(
    ("query", "expected"), PREDICATE_CASES, ids=[case_id(case) for case, _ in PREDICATE_CASES]
)
def test_by_query_post_predicates(
    example_api: TestClient, query: dict[str, Any], expected: set[str]
) -> None:
    found, total = queried(example_api, query)
    assert found == expected
    assert total == len(expected)


def test_by_query_post_empty_all_and_no_query_match_everything(example_api: TestClient) -> None:
    assert queried(example_api, {"$all": []})[1] == TOTAL
    page = ok(post(example_api, "/entities/by-query", {}))
    assert page["totalItems"] == TOTAL
    assert len(page["items"]) == TOTAL
    assert page["pageInfo"] == {}


def test_by_query_post_order_full_text_limit_offset(example_api: TestClient) -> None:
    page = ok(
        post(
            example_api,
            "/entities/by-query",
            {
                "query": {"kind": "user"},
                "orderBy": [{"field": "metadata.name", "order": "desc"}],
                "fullTextFilter": {"term": "A", "fields": ["metadata.name"]},
                "limit": 3,
                "offset": 1,
                "fields": ["metadata.name"],
            },
        )
    )
    with_a = [n for n in USER_NAMES[::-1] if "a" in n]
    assert page["totalItems"] == len(with_a)
    assert [i["metadata"]["name"] for i in page["items"]] == with_a[1:4]
    assert "nextCursor" in page["pageInfo"]
    exclude = ok(
        post(
            example_api,
            "/entities/by-query",
            {"query": {"kind": "user"}, "totalItems": "exclude", "limit": 1},
        )
    )
    assert exclude["totalItems"] == 0
    assert len(exclude["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"query": 5},
        {"query": "kind=component"},
        {"query": True},
        {"query": {"$foo": [{"kind": "component"}]}},
        {"query": {"$all": [{"kind": "component"}, {"$nope": {}}]}},
        {"query": {"$not": {"kind": "user"}, "metadata.namespace": "default"}},
        {"query": {"$all": {"kind": "user"}}},
        {"query": {"$any": "kind"}},
        {"query": {"kind": {"$in": "user"}}},
        {"query": {"kind": {"$exists": "yes"}}},
        {"fields": ["metadata.tags[0]"]},
        {"orderBy": [{"field": "metadata.name", "order": "sideways"}]},
        {"limit": -1},
    ],
)
def test_by_query_post_bad_bodies_are_400(example_api: TestClient, body: dict[str, Any]) -> None:
    assert_error(
        post(example_api, "/entities/by-query", body),
        400,
        "InputError",
        method="POST",
        url="/entities/by-query",
    )


# ==========================================================================================
# single entities, ancestry
# ==========================================================================================


def test_by_uid(example_api: TestClient, uids: dict[str, str]) -> None:
    uid = uids["component:default/artist-lookup"]
    entity = ok(get(example_api, f"/entities/by-uid/{uid}"))
    assert entity == by_name(example_api, "component:default/artist-lookup")
    assert entity["metadata"]["uid"] == uid
    assert entity["metadata"]["etag"]
    annotations = entity["metadata"]["annotations"]
    examples = "/".join(["packages", "catalog-model", "examples"])
    assert annotations["backstage.io/managed-by-location"].startswith("file:")
    assert annotations["backstage.io/managed-by-location"].endswith(
        f"{examples}/components/artist-lookup-component.yaml"
    )
    assert annotations["backstage.io/managed-by-origin-location"].endswith(f"{examples}/all.yaml")
    relations = [(r["type"], r["targetRef"]) for r in entity["relations"]]
    assert relations == sorted(relations)
    assert ("partOf", "system:default/artist-engagement-portal") in relations
    assert "status" not in entity


def test_by_uid_unknown_is_404(example_api: TestClient) -> None:
    uid = str(uuid.uuid4())
    assert_error(
        get(example_api, f"/entities/by-uid/{uid}"),
        404,
        "NotFoundError",
        f"No entity with uid {uid}",
        url=f"/entities/by-uid/{uid}",
    )


def test_by_name_is_case_insensitive(example_api: TestClient, uids: dict[str, str]) -> None:
    for path in (
        "/entities/by-name/component/default/artist-lookup",
        "/entities/by-name/Component/Default/Artist-Lookup",
        "/entities/by-name/COMPONENT/DEFAULT/ARTIST-LOOKUP",
    ):
        entity = ok(get(example_api, path))
        assert entity["metadata"]["uid"] == uids["component:default/artist-lookup"]
        assert entity["kind"] == "Component"
    guest = ok(get(example_api, "/entities/by-name/user/development/guest"))
    assert guest["metadata"]["namespace"] == "development"
    assert guest["metadata"]["uid"] != uids["user:default/guest"]
    assert guest["spec"]["memberOf"] == ["group:default/team-a"]
    assert (
        ok(get(example_api, "/entities/by-name/user/default/breanna.davison"))["spec"]["profile"][
            "email"
        ]
        == "breanna-davison@example.com"
    )


def test_by_name_unknown_is_404(example_api: TestClient) -> None:
    assert_error(
        get(example_api, "/entities/by-name/component/default/no-such-thing"),
        404,
        "NotFoundError",
        "No entity named 'no-such-thing' found, with kind 'component' in namespace 'default'",
        url="/entities/by-name/component/default/no-such-thing",
    )
    # the user lives in namespace development only under this name
    assert_error(
        get(example_api, "/entities/by-name/user/development/breanna.davison"),
        404,
        "NotFoundError",
        "No entity named 'breanna.davison' found, with kind 'user' in namespace 'development'",
    )


def test_ancestry(example_catalog: ExampleCatalog, example_api: TestClient) -> None:
    body = ok(get(example_api, "/entities/by-name/component/default/artist-lookup/ancestry"))
    assert set(body) == {"rootEntityRef", "items"}
    assert body["rootEntityRef"] == "component:default/artist-lookup"
    generated = location_ref(example_catalog.examples / "all.yaml")
    assert [(ref(i["entity"]), i["parentEntityRefs"]) for i in body["items"]] == [
        ("component:default/artist-lookup", ["location:default/example-components"]),
        ("location:default/example-components", ["location:default/example-all"]),
        ("location:default/example-all", [generated]),
        (generated, []),
    ]
    assert body["items"][0]["entity"] == by_name(example_api, "component:default/artist-lookup")
    # groups come from acme-corp.yaml through acme/org.yaml
    body = ok(get(example_api, "/entities/by-name/Group/default/Team-A/ancestry"))
    assert body["rootEntityRef"] == "group:default/team-a"
    chain = [ref(i["entity"]) for i in body["items"]]
    assert chain[0] == "group:default/team-a"
    assert chain[1:] == [
        "location:default/example-groups",
        "location:default/acme-corp",
        location_ref(example_catalog.examples / "acme-corp.yaml"),
    ]
    assert all(i["entity"]["kind"] == "Location" for i in body["items"][1:])


def test_ancestry_unknown_is_404(example_api: TestClient) -> None:
    assert_error(
        get(example_api, "/entities/by-name/component/default/nope/ancestry"),
        404,
        "NotFoundError",
        "No such entity component:default/nope",
        url="/entities/by-name/component/default/nope/ancestry",
    )


# ==========================================================================================
# POST /entities/by-refs
# ==========================================================================================


def test_by_refs_order_and_null_holes(example_api: TestClient) -> None:
    wanted = [
        "group:default/team-a",
        "component:default/nope",
        "component:default/artist-lookup",
        "Component:default/artist-lookup",  # mixed case: upstream matches exactly
        "artist-lookup",  # not a full ref
        "",
        "group:default/team-a",
        "user:development/guest",
    ]
    body = ok(post(example_api, "/entities/by-refs", {"entityRefs": wanted}))
    assert set(body) == {"items"}
    items = body["items"]
    assert len(items) == len(wanted)
    assert [None if i is None else ref(i) for i in items] == [
        "group:default/team-a",
        None,
        "component:default/artist-lookup",
        None,
        None,
        None,
        "group:default/team-a",
        "user:development/guest",
    ]
    assert items[2] == by_name(example_api, "component:default/artist-lookup")
    assert ok(post(example_api, "/entities/by-refs", {"entityRefs": []})) == {"items": []}


def test_by_refs_fields_filter_and_query(example_api: TestClient) -> None:
    wanted = ["component:default/artist-lookup", "group:default/team-a", "api:default/petstore"]
    body = ok(
        post(
            example_api,
            "/entities/by-refs",
            {"entityRefs": wanted, "fields": ["kind", "metadata.name"]},
        )
    )
    assert body["items"] == [
        {"kind": "Component", "metadata": {"name": "artist-lookup"}},
        {"kind": "Group", "metadata": {"name": "team-a"}},
        {"kind": "API", "metadata": {"name": "petstore"}},
    ]
    filtered = ok(
        post(example_api, "/entities/by-refs", {"entityRefs": wanted}, ("filter", "kind=group"))
    )
    assert [None if i is None else ref(i) for i in filtered["items"]] == [
        None,
        "group:default/team-a",
        None,
    ]
    # several filter params are OR'ed
    filtered = ok(
        post(
            example_api,
            "/entities/by-refs",
            {"entityRefs": wanted},
            ("filter", "kind=group"),
            ("filter", "kind=api"),
        )
    )
    assert [None if i is None else ref(i) for i in filtered["items"]] == [
        None,
        "group:default/team-a",
        "api:default/petstore",
    ]
    queried_ = ok(
        post(
            example_api,
            "/entities/by-refs",
            {"entityRefs": wanted, "query": {"metadata.tags": {"$contains": "java"}}},
        )
    )
    assert [None if i is None else ref(i) for i in queried_["items"]] == [
        "component:default/artist-lookup",
        None,
        None,
    ]
    # filter and query are AND'ed
    both = ok(
        post(
            example_api,
            "/entities/by-refs",
            {"entityRefs": wanted, "query": {"$any": [{"kind": "group"}, {"kind": "api"}]}},
            ("filter", "kind=component,kind=group"),
        )
    )
    assert [None if i is None else ref(i) for i in both["items"]] == [
        None,
        "group:default/team-a",
        None,
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"entityRefs": [1]},
        {"entityRefs": ["component:default/artist-lookup", {"kind": "component"}]},
        {"entityRefs": [None]},
        {"entityRefs": "component:default/artist-lookup"},
        {},
        {"entityRefs": ["component:default/artist-lookup"], "query": 3},
        {"entityRefs": ["component:default/artist-lookup"], "fields": ["spec.x[1]"]},
    ],
)
def test_by_refs_bad_bodies_are_400(example_api: TestClient, body: dict[str, Any]) -> None:
    assert_error(
        post(example_api, "/entities/by-refs", body), 400, "InputError", url="/entities/by-refs"
    )


def test_by_refs_without_json_is_400(example_api: TestClient) -> None:
    response = example_api.post(
        BASE + "/entities/by-refs",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_error(response, 400, "InputError")


# ==========================================================================================
# facets
# ==========================================================================================


def test_facets_kind(example_api: TestClient) -> None:
    response = get(example_api, "/entity-facets", ("facet", "kind"))
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert ok(response) == {
        "facets": {"kind": [{"value": k, "count": n} for k, n in sorted(KIND_COUNTS.items())]}
    }


def test_facets_are_keyed_as_requested_with_original_case_values(example_api: TestClient) -> None:
    body = ok(
        get(
            example_api,
            "/entity-facets",
            ("facet", "Kind"),
            ("facet", "metadata.tags"),
            ("facet", "relations.ownedBy"),
            ("facet", "spec.profile.displayName"),
            ("facet", "metadata.namespace"),
            ("facet", "spec.nothing"),
        )
    )
    facets = body["facets"]
    assert set(facets) == {
        "Kind",
        "metadata.tags",
        "relations.ownedBy",
        "spec.profile.displayName",
        "metadata.namespace",
        "spec.nothing",
    }
    assert facets["Kind"] == [{"value": k, "count": n} for k, n in sorted(KIND_COUNTS.items())]
    assert facets["metadata.tags"] == TAGS_FACET
    assert facets["relations.ownedBy"] == OWNED_BY_FACET
    names = facets["spec.profile.displayName"]
    assert [v["value"] for v in names] == sorted(v["value"] for v in names)
    assert {"value": "ACME Corp", "count": 1} in names
    assert {"value": "Guest User", "count": 2} in names
    assert {"value": "Box Office", "count": 1} in names
    assert facets["metadata.namespace"] == [
        {"value": "default", "count": TOTAL - 1},
        {"value": "development", "count": 1},
    ]
    assert facets["spec.nothing"] == []
    annotation = "metadata.annotations.backstage.io/source-template"
    body = ok(get(example_api, "/entity-facets", ("facet", annotation)))
    assert body == {
        "facets": {
            annotation: [
                {"value": "template:default/react-ssr-template", "count": 1},
                {"value": "template:default/springboot-template", "count": 1},
            ]
        }
    }


def test_facets_with_filter(example_api: TestClient) -> None:
    body = ok(
        get(
            example_api,
            "/entity-facets",
            ("facet", "spec.lifecycle"),
            ("facet", "spec.type"),
            ("filter", "kind=component"),
        )
    )
    assert body["facets"]["spec.lifecycle"] == [
        {"value": "experimental", "count": 4},
        {"value": "production", "count": 9},
    ]
    assert body["facets"]["spec.type"] == [
        {"value": "library", "count": 1},
        {"value": "service", "count": 10},
        {"value": "website", "count": 2},
    ]
    body = ok(
        get(
            example_api,
            "/entity-facets",
            ("facet", "kind"),
            ("filter", "relations.ownedBy=group:default/team-a"),
            ("filter", "kind=user,metadata.namespace=development"),
        )
    )
    assert body["facets"]["kind"] == [
        {"value": "Component", "count": 5},
        {"value": "Domain", "count": 1},
        {"value": "Resource", "count": 1},
        {"value": "System", "count": 1},
        {"value": "User", "count": 1},
    ]


def test_facets_post(example_api: TestClient) -> None:
    body = ok(
        post(
            example_api,
            "/entity-facets",
            {"facets": ["spec.type", "Kind"], "query": {"kind": "API"}},
        )
    )
    assert body == {
        "facets": {
            "spec.type": [
                {"value": "asyncapi", "count": 1},
                {"value": "graphql", "count": 1},
                {"value": "grpc", "count": 1},
                {"value": "openapi", "count": 2},
                {"value": "trpc", "count": 1},
            ],
            "Kind": [{"value": "API", "count": 6}],
        }
    }
    body = ok(post(example_api, "/entity-facets", {"facets": ["kind"]}))
    assert sum(v["count"] for v in body["facets"]["kind"]) == TOTAL


def test_facets_errors(example_api: TestClient) -> None:
    assert_error(
        get(example_api, "/entity-facets"),
        400,
        "InputError",
        "Missing facet parameter",
        url="/entity-facets",
    )
    assert_error(
        get(example_api, "/entity-facets", ("filter", "kind=user")),
        400,
        "InputError",
        "Missing facet parameter",
    )
    assert_error(post(example_api, "/entity-facets", {"facets": []}), 400, "InputError")
    assert_error(post(example_api, "/entity-facets", {}), 400, "InputError")
    assert_error(
        post(example_api, "/entity-facets", {"facets": ["kind"], "query": {"$nope": 1}}),
        400,
        "InputError",
    )


# ==========================================================================================
# POST /refresh
# ==========================================================================================


def test_refresh(example_api: TestClient) -> None:
    for entity_ref in ("component:default/artist-lookup", "Component:Default/Artist-Lookup"):
        response = post(example_api, "/refresh", {"entityRef": entity_ref})
        assert response.status_code == 200, response.text
        assert response.content == b""
    response = post(
        example_api, "/refresh", {"entityRef": "group:default/team-a", "authorizationToken": "x"}
    )
    assert response.status_code == 200
    assert_error(
        post(example_api, "/refresh", {"entityRef": "component:default/nope"}),
        404,
        "NotFoundError",
        "Entity component:default/nope not found",
        url="/refresh",
    )
    # partial refs are not resolved
    assert_error(
        post(example_api, "/refresh", {"entityRef": "artist-lookup"}), 404, "NotFoundError"
    )
    assert_error(post(example_api, "/refresh", {}), 400, "InputError")


# ==========================================================================================
# POST /validate-entity, POST /analyze-location
# ==========================================================================================

VALID = {
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Component",
    "metadata": {"name": "checked"},
    "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
}


def test_validate_entity_valid(example_api: TestClient) -> None:
    response = post(
        example_api,
        "/validate-entity",
        {
            "entity": VALID,
            "location": "url:https://github.com/acme/repo/blob/main/catalog-info.yaml",
        },
    )
    assert response.status_code == 200, response.text
    assert response.content == b""
    # nothing is stored
    assert_error(
        get(example_api, "/entities/by-name/component/default/checked"), 404, "NotFoundError"
    )


@pytest.mark.parametrize(
    "entity",
    [
        {**VALID, "metadata": {"name": "not valid!"}},
        {**VALID, "spec": {"type": "service"}},
        {**VALID, "kind": "Nonsense"},
        {**VALID, "metadata": {"name": "x", "tags": ["UPPER"]}},
        {**VALID, "relations": []},
    ],
)
def test_validate_entity_invalid(example_api: TestClient, entity: dict[str, Any]) -> None:
    response = post(
        example_api,
        "/validate-entity",
        {"entity": entity, "location": "url:https://example.com/x.yaml"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"errors"}, body
    assert body["errors"]
    for error in body["errors"]:
        assert isinstance(error["name"], str) and error["name"]
        assert isinstance(error["message"], str) and error["message"]


@pytest.mark.parametrize(
    "location", ["file:/tmp/catalog-info.yaml", "https://example.com/x.yaml", "dir:./x"]
)
def test_validate_entity_location_must_be_a_url_ref(example_api: TestClient, location: str) -> None:
    response = post(example_api, "/validate-entity", {"entity": VALID, "location": location})
    assert response.status_code == 400, response.text
    errors = response.json()
    assert set(errors) == {"errors"}, errors
    assert errors["errors"] and all(e["name"] and e["message"] for e in errors["errors"])


def test_validate_entity_without_an_entity_uses_the_error_envelope(
    example_api: TestClient,
) -> None:
    assert_error(
        post(example_api, "/validate-entity", {"location": "url:https://example.com/x.yaml"}),
        400,
        "InputError",
        url="/validate-entity",
    )


def test_analyze_location(example_api: TestClient) -> None:
    body = ok(
        post(
            example_api,
            "/analyze-location",
            {"location": {"type": "url", "target": "https://github.com/acme/my-repo"}},
        )
    )
    assert set(body) == {"existingEntityFiles", "generateEntities"}
    assert body["existingEntityFiles"] == []
    [generated] = body["generateEntities"]
    entity = generated["entity"]
    assert entity["apiVersion"] == "backstage.io/v1alpha1"
    assert entity["kind"] == "Component"
    assert entity["metadata"]["name"] == "my-repo"
    assert entity["metadata"]["annotations"] == {"github.com/project-slug": "acme/my-repo"}
    assert entity["spec"] == {"type": "other", "lifecycle": "unknown"}
    for field in generated["fields"]:
        assert set(field) >= {"field", "state", "description"}
    # a gitlab repository gets a gitlab.com slug
    gitlab = ok(
        post(
            example_api,
            "/analyze-location",
            {
                "location": {"type": "url", "target": "https://gitlab.com/group/other-repo"},
                "catalogFilename": "catalog-info.yaml",
            },
        )
    )
    meta = gitlab["generateEntities"][0]["entity"]["metadata"]
    assert meta["name"] == "other-repo"
    assert meta["annotations"] == {"gitlab.com/project-slug": "group/other-repo"}


@pytest.mark.parametrize("target", ["not a url", "/srv/repo", "github.com/acme/repo"])
def test_analyze_location_needs_a_url(example_api: TestClient, target: str) -> None:
    assert_error(
        post(example_api, "/analyze-location", {"location": {"type": "url", "target": target}}),
        400,
        "InputError",
        "The given location.target is not a URL",
        url="/analyze-location",
    )


# ==========================================================================================
# errors, unknown routes, OpenAPI
# ==========================================================================================


def test_error_envelope_everywhere(example_api: TestClient) -> None:
    cases = [
        (get(example_api, "/entities/by-uid/nope"), 404, "NotFoundError", "/entities/by-uid/nope"),
        (get(example_api, "/entities", ("filter", "=x")), 400, "InputError", None),
        (get(example_api, "/entities/by-query", ("limit", "x")), 400, "InputError", None),
        (
            post(example_api, "/entities/by-refs", {"entityRefs": [1]}),
            400,
            "InputError",
            "/entities/by-refs",
        ),
        (get(example_api, "/locations/nope"), 404, "NotFoundError", "/locations/nope"),
        (call(example_api, "DELETE", "/locations/nope"), 404, "NotFoundError", "/locations/nope"),
        (post(example_api, "/locations", {"type": "url"}), 400, "InputError", "/locations"),
    ]
    for response, status, name, url in cases:
        body = assert_error(response, status, name, url=url)
        if url is None:
            path = urllib.parse.urlsplit(body["request"]["url"]).path
            assert path in ("/entities", "/entities/by-query")


def test_error_content_type(example_api: TestClient) -> None:
    response = get(example_api, "/entities/by-uid/nope")
    assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/entities/by-uid"),
        ("POST", "/entities/nope"),
        ("GET", "/entities/by-name/component/default"),
    ],
)
def test_unknown_route_is_an_empty_404(example_api: TestClient, method: str, path: str) -> None:
    response = call(example_api, method, path)
    assert response.status_code == 404
    assert response.content == b""


def test_openapi_lists_every_route_with_a_permission(example_api: TestClient) -> None:
    document = ok(example_api.get(BASE + "/openapi.json"))
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "delete", "patch")
    }
    assert set(operations) >= ROUTES, sorted(ROUTES - set(operations))
    for key, operation in operations.items():
        permission = operation.get("x-greenroom-permission")
        assert isinstance(permission, str) and permission, key


# ==========================================================================================
# catalogs of their own: changes, locations, events
# ==========================================================================================


@pytest.fixture
def web(tmp_path: Path) -> Iterator[LocalServer]:
    root = tmp_path / "www"
    root.mkdir()
    server = LocalServer(root)
    yield server
    server.close()


def serve(portal: Portal) -> TestClient:
    return TestClient(create_app(portal, run_workers=False))


def url_location_ref(target: str) -> str:
    return f"location:default/{location_entity_name('url', target)}"


@pytest.fixture
def remote(
    database_url: str, tmp_path: Path, web: LocalServer
) -> Iterator[tuple[Portal, TestClient, LocalServer]]:
    """An empty catalog that may read from `web`, which serves two catalog files."""
    write(web.root / "one" / "catalog-info.yaml", component("remote-one"))
    write(
        web.root / "two" / "catalog-info.yaml",
        component("remote-two") + "---\n" + component("remote-three"),
    )
    portal = make_portal(database_url, tmp_path, reading={"allow": [{"host": web.host}]})
    with serve(portal) as client:
        yield portal, client, web
    portal.close()


def test_locations_register_list_get_update_delete(
    remote: tuple[Portal, TestClient, LocalServer],
) -> None:
    portal, client, web = remote
    assert ok(get(client, "/locations")) == []
    target = web.url("/one/catalog-info.yaml")
    created = ok(post(client, "/locations", {"type": "url", "target": target}), 201)
    assert set(created) == {"location", "entities"}
    assert created["entities"] == []
    location = created["location"]
    assert set(location) == {"id", "type", "target", "entityRef"}
    assert uuid.UUID(location["id"])
    assert location["type"] == "url"
    assert location["target"] == target
    assert location["entityRef"] == url_location_ref(target)

    assert ok(get(client, "/locations")) == [{"data": location}]
    assert ok(get(client, f"/locations/{location['id']}")) == location

    # processing is asynchronous: the entities come with the workers
    portal.catalog.process_until_idle()
    entity = by_name(client, "component:default/remote-one")
    annotations = entity["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"] == f"url:{target}"
    assert annotations["backstage.io/managed-by-origin-location"] == f"url:{target}"
    by_name(client, location["entityRef"])

    other = web.url("/two/catalog-info.yaml")
    updated = ok(
        call(client, "PUT", f"/locations/{location['id']}", body={"type": "url", "target": other})
    )
    assert updated["id"] == location["id"]
    assert updated["type"] == "url"
    assert updated["target"] == other
    assert ok(get(client, f"/locations/{location['id']}")) == updated

    response = call(client, "DELETE", f"/locations/{location['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert ok(get(client, "/locations")) == []
    assert_error(
        get(client, f"/locations/{location['id']}"),
        404,
        "NotFoundError",
        f"Found no location with ID {location['id']}",
        url=f"/locations/{location['id']}",
    )
    assert_error(
        call(client, "DELETE", f"/locations/{location['id']}"),
        404,
        "NotFoundError",
        f"Found no location with ID {location['id']}",
        method="DELETE",
    )
    assert_error(
        call(client, "PUT", f"/locations/{location['id']}", body={"type": "url", "target": target}),
        404,
        "NotFoundError",
    )


def test_locations_delete_removes_what_they_brought_in_at_once(
    remote: tuple[Portal, TestClient, LocalServer],
) -> None:
    portal, client, web = remote
    target = web.url("/two/catalog-info.yaml")
    location = ok(post(client, "/locations", {"type": "url", "target": target}), 201)["location"]
    portal.catalog.process_until_idle()
    by_name(client, "component:default/remote-two")
    by_name(client, "component:default/remote-three")
    by_name(client, location["entityRef"])
    response = call(client, "DELETE", f"/locations/{location['id']}")
    assert response.status_code == 204
    # eagerly: no processing run in between
    for entity_ref in (
        "component:default/remote-two",
        "component:default/remote-three",
        location["entityRef"],
    ):
        kind, _, rest = entity_ref.partition(":")
        assert_error(get(client, f"/entities/by-name/{kind}/{rest}"), 404, "NotFoundError")


def test_refresh_reprocesses_the_entity_and_its_locations(
    remote: tuple[Portal, TestClient, LocalServer],
) -> None:
    portal, client, web = remote
    target = web.url("/one/catalog-info.yaml")
    ok(post(client, "/locations", {"type": "url", "target": target}), 201)
    portal.catalog.process_until_idle()
    assert by_name(client, "component:default/remote-one")["spec"]["owner"] == "team-a"
    write(web.root / "one" / "catalog-info.yaml", component("remote-one", owner="team-b"))
    # nothing is due yet: the change waits for the next refresh
    portal.catalog.process_until_idle()
    assert by_name(client, "component:default/remote-one")["spec"]["owner"] == "team-a"
    response = post(client, "/refresh", {"entityRef": "component:default/remote-one"})
    assert response.status_code == 200
    assert response.content == b""
    portal.catalog.process_until_idle()
    entity = by_name(client, "component:default/remote-one")
    assert entity["spec"]["owner"] == "team-b"
    assert {"type": "ownedBy", "targetRef": "group:default/team-b"} in entity["relations"]


def test_locations_conflicts(remote: tuple[Portal, TestClient, LocalServer]) -> None:
    _portal, client, web = remote
    target = web.url("/one/catalog-info.yaml")
    first = ok(post(client, "/locations", {"type": "url", "target": target}), 201)["location"]
    assert_error(
        post(client, "/locations", {"type": "url", "target": target}),
        409,
        "ConflictError",
        f"Location url:{target} already exists",
        url="/locations",
    )
    assert_error(
        post(client, "/locations", {"type": "url", "target": target}, ("onConflict", "reject")),
        409,
        "ConflictError",
    )
    again = ok(
        post(client, "/locations", {"type": "url", "target": target}, ("onConflict", "refresh")),
        201,
    )
    assert again == {"location": first, "entities": []}
    assert ok(get(client, "/locations")) == [{"data": first}]
    # PUT onto another row's type and target is a conflict
    other = ok(
        post(client, "/locations", {"type": "url", "target": web.url("/two/catalog-info.yaml")}),
        201,
    )
    assert_error(
        call(
            client,
            "PUT",
            f"/locations/{other['location']['id']}",
            body={"type": "url", "target": target},
        ),
        409,
        "ConflictError",
    )


@pytest.mark.parametrize(
    ("body", "params", "message"),
    [
        (
            {"type": "file", "target": "/etc/catalog-info.yaml"},
            [],
            'Registered locations must be of an allowed type ["url"]',
        ),
        (
            {"type": "git", "target": "https://example.com/x"},
            [],
            'Registered locations must be of an allowed type ["url"]',
        ),
        ({"type": "url", "target": "https://example.com/x.yaml", "surprise": 1}, [], None),
        ({"type": "url"}, [], None),
        ({"target": "https://example.com/x.yaml"}, [], None),
        ({"type": "url", "target": ""}, [], None),
        (
            {"type": "url", "target": "https://example.com/x.yaml", "presence": "sometimes"},
            [],
            None,
        ),
        ({"type": "url", "target": "https://example.com/x.yaml"}, [("onConflict", "merge")], None),
    ],
)
def test_locations_bad_registrations_are_400(
    remote: tuple[Portal, TestClient, LocalServer],
    body: dict[str, Any],
    params: list[tuple[str, str]],
    message: str | None,
) -> None:
    _portal, client, _web = remote
    assert_error(
        post(client, "/locations", body, *params), 400, "InputError", message, url="/locations"
    )
    assert ok(get(client, "/locations")) == []


def test_locations_dry_run(remote: tuple[Portal, TestClient, LocalServer]) -> None:
    portal, client, web = remote
    target = web.url("/two/catalog-info.yaml")
    response = post(client, "/locations", {"type": "url", "target": target}, ("dryRun", "true"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["exists"] is False
    assert body["location"]["type"] == "url"
    assert body["location"]["target"] == target
    assert body["location"]["id"] == f"url:{target}"
    served = set(refs(body["entities"]))
    assert {"component:default/remote-two", "component:default/remote-three"} <= served
    assert {e["kind"] for e in body["entities"]} <= {"Component", "Location"}
    # nothing is stored, even after processing
    assert ok(get(client, "/locations")) == []
    portal.catalog.process_until_idle()
    assert ok(get(client, "/entities")) == []
    # a registered location exists
    ok(post(client, "/locations", {"type": "url", "target": target}), 201)
    again = ok(
        post(client, "/locations", {"type": "url", "target": target}, ("dryRun", "true")), 201
    )
    assert again["exists"] is True
    # a location that cannot be read is a 400
    assert_error(
        post(
            client,
            "/locations",
            {"type": "url", "target": web.url("/missing.yaml")},
            ("dryRun", "true"),
        ),
        400,
        "InputError",
    )


def test_locations_by_query(remote: tuple[Portal, TestClient, LocalServer]) -> None:
    _portal, client, web = remote
    one = ok(
        post(client, "/locations", {"type": "url", "target": web.url("/one/catalog-info.yaml")}),
        201,
    )["location"]
    two = ok(
        post(client, "/locations", {"type": "url", "target": web.url("/two/catalog-info.yaml")}),
        201,
    )["location"]
    by_id = sorted([one, two], key=lambda loc: loc["id"])
    page = ok(post(client, "/locations/by-query", {}))
    assert page == {"items": by_id, "totalItems": 2, "pageInfo": {}}
    page = ok(post(client, "/locations/by-query", {"query": {"Target": two["target"].upper()}}))
    assert page["items"] == [two]
    assert page["totalItems"] == 1
    page = ok(post(client, "/locations/by-query", {"query": {"entityRef": one["entityRef"]}}))
    assert page["items"] == [one]
    page = ok(
        post(client, "/locations/by-query", {"query": {"type": {"$in": ["URL"]}}, "limit": 1})
    )
    assert page["items"] == by_id[:1]
    assert page["totalItems"] == 2
    rest = ok(
        post(client, "/locations/by-query", {"cursor": page["pageInfo"]["nextCursor"], "limit": 1})
    )
    assert rest["items"] == by_id[1:]
    assert "nextCursor" not in rest["pageInfo"]
    assert ok(post(client, "/locations/by-query", {"query": {"type": "file"}}))["items"] == []
    assert_error(post(client, "/locations/by-query", {"limit": 0}), 400, "InputError")


def test_locations_by_entity(
    remote: tuple[Portal, TestClient, LocalServer], tmp_path: Path
) -> None:
    portal, client, web = remote
    location = ok(
        post(client, "/locations", {"type": "url", "target": web.url("/two/catalog-info.yaml")}),
        201,
    )["location"]
    portal.catalog.process_until_idle()
    for path in (
        "/locations/by-entity/component/default/remote-three",
        "/locations/by-entity/Component/Default/Remote-Two",
    ):
        assert ok(get(client, path)) == location
    assert_error(get(client, "/locations/by-entity/component/default/nope"), 404, "NotFoundError")


def test_locations_by_entity_of_a_config_location_is_404(example_api: TestClient) -> None:
    # config locations are not rows of the locations table
    assert ok(get(example_api, "/locations")) == []
    assert_error(
        get(example_api, "/locations/by-entity/component/default/artist-lookup"),
        404,
        "NotFoundError",
        url="/locations/by-entity/component/default/artist-lookup",
    )


SMALL = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: upper
  description: {long}
  labels:
    tier: ""
  annotations:
    example.com/count: "42"
    example.com/enabled: "true"
spec:
  type: Service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: lower
  labels:
    tier: gold
spec:
  type: service
  lifecycle: production
  owner: team-a
"""


@pytest.fixture
def small(database_url: str, tmp_path: Path) -> Iterator[tuple[Portal, TestClient, Path]]:
    """Two components from a file location, for rules the example data cannot show."""
    path = write(tmp_path / "catalog" / "catalog-info.yaml", SMALL.format(long="d" * 250))
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(path)}]}
    )
    portal.catalog.process_until_idle()
    with serve(portal) as client:
        yield portal, client, path
    portal.close()


def test_empty_values_case_variants_and_long_values(small: tuple[Portal, TestClient, Path]) -> None:
    _portal, client, _path = small
    # `key=` is the empty string, `key` is existence
    assert listed(client, "metadata.labels.tier=") == {"component:default/upper"}
    assert listed(client, "metadata.labels.tier") == {
        "component:default/upper",
        "component:default/lower",
    }
    # values match case-insensitively; facets keep each original case apart
    assert listed(client, "spec.type=SERVICE") == {
        "component:default/upper",
        "component:default/lower",
    }
    facets = ok(
        get(client, "/entity-facets", ("facet", "spec.type"), ("filter", "kind=component"))
    )["facets"]["spec.type"]
    assert facets == [{"value": "Service", "count": 1}, {"value": "service", "count": 1}]
    # numbers and booleans in predicates compare as strings
    found, _ = queried(client, {"metadata.annotations.example.com/count": 42})
    assert found == {"component:default/upper"}
    found, _ = queried(client, {"metadata.annotations.example.com/enabled": True})
    assert found == {"component:default/upper"}
    # a value over 200 characters: the key exists, but equality and facets cannot see it
    assert listed(client, "metadata.description") == {"component:default/upper"}
    assert listed(client, "metadata.description=" + "d" * 250) == set()
    assert ok(get(client, "/entity-facets", ("facet", "metadata.description")))["facets"] == {
        "metadata.description": []
    }


def test_default_page_size_is_200(database_url: str, tmp_path: Path) -> None:
    docs = "---\n".join(component(f"c{i:03d}") for i in range(205))
    path = write(tmp_path / "many.yaml", docs)
    portal = make_portal(
        database_url, tmp_path, {"locations": [{"type": "file", "target": str(path)}]}
    )
    portal.catalog.process_until_idle()
    with serve(portal) as client:
        page = ok(
            get(
                client,
                "/entities/by-query",
                ("filter", "kind=component"),
                ("fields", "metadata.name"),
            )
        )
        assert page["totalItems"] == 205
        assert len(page["items"]) == 200
        assert "nextCursor" in page["pageInfo"]
        rest = ok(
            get(
                client,
                "/entities/by-query",
                ("cursor", page["pageInfo"]["nextCursor"]),
                ("fields", "metadata.name"),
            )
        )
        assert len(rest["items"]) == 5
        names = {i["metadata"]["name"] for i in page["items"] + rest["items"]}
        assert len(names) == 205
        # GET /entities without paging returns everything
        assert len(ok(get(client, "/entities", ("filter", "kind=component")))) == 205
    portal.close()


def events(portal: Portal) -> list[tuple[int, str, str, str]]:
    with portal.db.connect() as conn:
        rows = conn.execute(
            text("SELECT generation, action, entity_ref, uid FROM entity_events ORDER BY id")
        ).all()
    return [tuple(r) for r in rows]


def generation(portal: Portal) -> int:
    with portal.db.connect() as conn:
        return conn.execute(text("SELECT generation FROM catalog_generation")).scalar_one()


def actions(rows: list[tuple[int, str, str, str]]) -> list[tuple[str, str, str]]:
    return [(action, ref_, uid) for _, action, ref_, uid in rows]


def test_change_events(small: tuple[Portal, TestClient, Path]) -> None:
    portal, client, path = small
    first = events(portal)
    assert first, "processing records events"
    generations = [g for g, *_ in first]
    assert generations == sorted(generations)
    assert generation(portal) == max(generations)
    upper = by_name(client, "component:default/upper")
    lower = by_name(client, "component:default/lower")
    assert ("added", "component:default/upper", upper["metadata"]["uid"]) in actions(first)
    assert ("added", "component:default/lower", lower["metadata"]["uid"]) in actions(first)
    assert {action for _, action, *_ in first} <= {"added", "updated", "removed"}

    # an edit is an update, under a later generation
    before = generation(portal)
    path.write_text(path.read_text().replace("spec:\n  type: Service", "spec:\n  type: website"))
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    assert by_name(client, "component:default/upper")["spec"]["type"] == "website"
    new = events(portal)[len(first) :]
    assert ("updated", "component:default/upper", upper["metadata"]["uid"]) in actions(new)
    assert "component:default/lower" not in {r for _, r, _ in actions(new)}
    assert all(g > before for g, *_ in new)

    # removed from its file: orphaned and deleted, with a `removed` event
    before = generation(portal)
    seen = len(events(portal))
    path.write_text(SMALL.split("---\n")[0].format(long="short"))
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    assert_error(get(client, "/entities/by-name/component/default/lower"), 404, "NotFoundError")
    new = events(portal)[seen:]
    assert ("removed", "component:default/lower", lower["metadata"]["uid"]) in actions(new)
    assert all(g > before for g, *_ in new)
    all_generations = [g for g, *_ in events(portal)]
    assert all_generations == sorted(all_generations)
    assert generation(portal) == max(all_generations)


def test_delete_by_uid(small: tuple[Portal, TestClient, Path]) -> None:
    portal, client, _path = small
    lower = by_name(client, "component:default/lower")
    uid = lower["metadata"]["uid"]
    before = generation(portal)
    seen = len(events(portal))
    response = call(client, "DELETE", f"/entities/by-uid/{uid}")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(get(client, f"/entities/by-uid/{uid}"), 404, "NotFoundError")
    assert_error(get(client, "/entities/by-name/component/default/lower"), 404, "NotFoundError")
    removed = events(portal)[seen:]
    assert actions(removed) == [("removed", "component:default/lower", uid)]
    assert removed[0][0] > before
    assert generation(portal) == removed[0][0]
    # unknown (and already deleted) uids are 204 too
    for unknown in (str(uuid.uuid4()), uid, "not-a-uid"):
        response = call(client, "DELETE", f"/entities/by-uid/{unknown}")
        assert response.status_code == 204
        assert response.content == b""
    assert len(events(portal)) == seen + 1

    # its location still emits it: on the next run it comes back, with a new uid
    portal.catalog.refresh_all()
    portal.catalog.process_until_idle()
    back = by_name(client, "component:default/lower")
    assert back["metadata"]["uid"] != uid
    assert ("added", "component:default/lower", back["metadata"]["uid"]) in actions(events(portal))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/entities?filtr=kind=component", None),
        ("GET", "/entities/by-query?limt=5", None),
        ("POST", "/entities/by-refs?extra=1", {"entityRefs": []}),
    ],
)
def test_unknown_query_parameter_is_refused(
    example_api: TestClient, method: str, path: str, body: dict | None
) -> None:
    """As upstream: a misspelt parameter is an error, not an unfiltered answer."""
    response = example_api.request(method, "/api/catalog" + path, json=body)
    assert response.status_code == 400
    name = path.split("?")[1].split("=")[0]
    assert response.json()["error"]["message"] == f"Unknown query parameter '{name}'"
