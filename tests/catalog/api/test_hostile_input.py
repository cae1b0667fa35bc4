"""Hostile input to the catalog REST API, on SQLite and on PostgreSQL.

Floods of filters, huge and deeply nested predicates, forged cursors, odd refs, oversized
and malformed bodies, bad paging numbers and SQL metacharacters. Each request must get a
4xx with Backstage's error body (`{error: {name, message}, request: {method, url},
response: {statusCode}}`, reference §9.1) or, where refusing is not required, a correct
200; never a 5xx, and always within `REASONABLE_SECONDS`. After every test a normal query
must still be answered with the catalog's data (the `api` fixture checks it on teardown).

One portal per database serves the whole module. On PostgreSQL the connections carry a
`statement_timeout`, so a query that would run for minutes fails its test in seconds
instead of holding up the suite (and the schema drop at the end).

Some requests cannot go through TestClient: httpx refuses URLs with a query over 64 KiB
and always sends a Content-Length. `Api.raw` drives the ASGI app directly for those.
"""

from __future__ import annotations

import asyncio
import base64
import json
import textwrap
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from greenroom.app import create_app
from tests.conftest import fresh_database

from ..helpers import make_portal

PREFIX = "/api/catalog"
REASONABLE_SECONDS = 10.0
STATEMENT_TIMEOUT_MS = 15_000
MAX_BODY_BYTES = 5 * 1024 * 1024  # server.maxBodyBytes default
ERROR_NAMES = {400: "InputError", 404: "NotFoundError", 413: "PayloadTooLargeError"}

# Two components that differ only where SQL wildcards would blur them: a LIKE or an
# equality that does not escape `%`, `_` or `\` matches `svc-b` as well as `svc-a`.
SVC_A_DESCRIPTION = "100% under_score back\\slash it's"
SVC_A_WEIRD = "50%_off\\x'y"
CATALOG = textwrap.dedent(
    """\
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: svc-a
      description: "100% under_score back\\\\slash it's"
      annotations:
        example.com/weird: "50%_off\\\\x'y"
    spec:
      type: service
      lifecycle: production
      owner: team-a
    ---
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: svc-b
      description: "100x underXscore backXslash itXs"
      annotations:
        example.com/weird: "50xXoffXxXy"
    spec:
      type: service
      lifecycle: production
      owner: team-a
    """
)
COMPONENTS = ["svc-a", "svc-b"]
REGISTERED_TARGET = "https://example.com/catalog-info.yaml"


# --- requests and answers -----------------------------------------------------------------


@dataclass
class Answer:
    method: str
    path: str  # below PREFIX, percent-decoded, without the query
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"{self.method} {self.path[:200]!r} -> {self.status}: {self.body[:300]!r}"


@dataclass
class Api:
    """The catalog API of one portal, through TestClient or straight through ASGI."""

    client: TestClient
    app: FastAPI

    def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        start = time.monotonic()
        response = self.client.request(method, PREFIX + path, **kwargs)
        return Answer(
            method,
            urllib.parse.unquote(path.partition("?")[0]),
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
            time.monotonic() - start,
        )

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Answer:
        return self.call("POST", path, **kwargs)

    def raw(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        headers: Sequence[tuple[str, str]] = (),
        chunks: Sequence[bytes] = (b"",),
    ) -> Answer:
        """One request through ASGI: the raw path as given, any query length, and the body
        in `chunks` (one `http.request` message each, no Content-Length unless in `headers`)."""
        start = time.monotonic()
        status, response_headers, body = asyncio.run(
            _asgi_request(
                self.app,
                method,
                PREFIX + path,
                urllib.parse.urlencode(list(query)).encode(),
                headers,
                chunks,
            )
        )
        return Answer(
            method,
            urllib.parse.unquote(path),
            status,
            response_headers,
            body,
            time.monotonic() - start,
        )


async def _asgi_request(
    app: FastAPI,
    method: str,
    raw_path: str,
    query: bytes,
    headers: Sequence[tuple[str, str]],
    chunks: Sequence[bytes],
) -> tuple[int, dict[str, str], bytes]:
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    finished = asyncio.Event()
    status = 0
    response_headers: dict[str, str] = {}
    body = bytearray()

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await finished.wait()  # the client stays connected until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers.update(
                (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in message["headers"]
            )
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": urllib.parse.unquote(raw_path),
        "raw_path": raw_path.encode("ascii"),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    try:
        await app(scope, receive, send)
    except Exception:
        if not status:  # the error handler answers before Starlette re-raises
            raise
    return status, response_headers, bytes(body)


# --- what every answer must look like ----------------------------------------------------


def assert_timely(answer: Answer) -> None:
    assert answer.seconds < REASONABLE_SECONDS, f"took {answer.seconds:.1f} s: {answer}"


def assert_error(answer: Answer, status: int, *, message_starts: str | None = None) -> None:
    """A `status` answer with Backstage's error body, in reasonable time."""
    assert answer.status == status, str(answer)
    assert_timely(answer)
    assert answer.headers.get("content-type", "").startswith("application/json"), str(answer)
    body = answer.json()
    assert set(body) == {"error", "request", "response"}, str(answer)
    error = body["error"]
    assert error["name"] == ERROR_NAMES[status], str(answer)
    assert isinstance(error["message"], str) and error["message"], str(answer)
    if message_starts is not None:
        assert error["message"].startswith(message_starts), str(answer)
    assert body["response"] == {"statusCode": status}, str(answer)
    assert body["request"]["method"] == answer.method, str(answer)
    # Relative to the mount point, like Backstage (skipped where the path holds control
    # characters, which URL parsing drops).
    if answer.path.isprintable():
        assert body["request"]["url"] == answer.path, str(answer)


def assert_refused_or_answered(answer: Answer) -> Any:
    """400 with the error body, or a 200 whose body is complete JSON; never anything else."""
    if answer.status == 400:
        assert_error(answer, 400)
        return None
    assert answer.status == 200, str(answer)
    assert_timely(answer)
    return answer.json()  # a response cut short mid-stream fails here


def names(payload: Any) -> list[str]:
    """Entity names of a by-query page or a bare array, sorted."""
    items = payload["items"] if isinstance(payload, dict) else payload
    return sorted(item["metadata"]["name"] for item in items if item is not None)


def b64(data: Any) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode("ascii")


def json_body(raw: bytes) -> dict[str, Any]:
    return {"content": raw, "headers": {"content-type": "application/json"}}


# --- the portal ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hostile_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like `database_url`, for a whole module, with a statement timeout on PostgreSQL."""
    folder = tmp_path_factory.mktemp("hostile-db")
    with fresh_database(request.param, folder, statement_timeout=STATEMENT_TIMEOUT_MS) as url:
        yield url


@pytest.fixture(scope="module")
def hostile_app(
    hostile_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, FastAPI]]:
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "catalog-info.yaml").write_text(CATALOG)
    portal = make_portal(
        hostile_database_url,
        tmp,
        {"locations": [{"type": "file", "target": str(tmp / "catalog-info.yaml")}]},
    )
    portal.catalog.add_location("url", REGISTERED_TARGET)  # never read: no reading.allow
    portal.catalog.process_until_idle()
    app = create_app(portal, run_workers=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app
    portal.close()


@pytest.fixture
def api(hostile_app: tuple[TestClient, FastAPI]) -> Iterator[Api]:
    """The API; on teardown, proof that the catalog is still served after the test."""
    client, app = hostile_app
    api = Api(client, app)
    yield api
    listed = api.get("/entities", params={"filter": "kind=component", "fields": "metadata.name"})
    assert listed.status == 200 and names(listed.json()) == COMPONENTS, str(listed)
    page = api.post("/entities/by-query", json={"query": {"kind": "component"}})
    assert page.status == 200 and names(page.json()) == COMPONENTS, str(page)
    assert page.json()["totalItems"] == 2, str(page)


# --- filter parameters --------------------------------------------------------------------

FILTERED_GETS = [
    pytest.param("/entities", [], id="entities"),
    pytest.param("/entities/by-query", [], id="by-query"),
    pytest.param("/entity-facets", [("facet", "kind")], id="facets"),
]


@pytest.mark.parametrize(("path", "extra"), FILTERED_GETS)
@pytest.mark.parametrize("count", [1000, 5000])
def test_thousands_of_filter_params(
    api: Api, path: str, extra: list[tuple[str, str]], count: int
) -> None:
    query = [*extra, *(("filter", f"kind=k{i}") for i in range(count))]
    assert_refused_or_answered(api.raw("GET", path, query=query))


@pytest.mark.parametrize("count", [1000, 5000])
def test_thousands_of_filter_params_on_by_refs(api: Api, count: int) -> None:
    answer = api.raw(
        "POST",
        "/entities/by-refs",
        query=[("filter", f"kind=k{i}") for i in range(count)],
        headers=[("content-type", "application/json")],
        chunks=[b'{"entityRefs": ["component:default/svc-a"]}'],
    )
    payload = assert_refused_or_answered(answer)
    if payload is not None:
        assert payload == {"items": [None]}


@pytest.mark.parametrize("path", ["/entities", "/entities/by-query"])
@pytest.mark.parametrize(
    "filter_",
    [
        pytest.param("kind=" + "a" * 100_000, id="long-value"),
        pytest.param("a" * 100_000 + "=component", id="long-key"),
        pytest.param("metadata.annotations." + "a." * 50_000 + "=x", id="long-dotted-key"),
    ],
)
def test_filter_of_100k_characters(api: Api, path: str, filter_: str) -> None:
    payload = assert_refused_or_answered(api.raw("GET", path, query=[("filter", filter_)]))
    if payload is not None:
        assert names(payload) == []


@pytest.mark.parametrize("path", ["/entities", "/entities/by-query"])
@pytest.mark.parametrize(
    "conditions",
    [
        # distinct keys, AND'ed: the most expensive shape, at and above the limit
        pytest.param([f"metadata.annotations.k{i}=v" for i in range(1000)], id="1000-keys"),
        pytest.param([f"metadata.annotations.k{i}=v" for i in range(5000)], id="5000-keys"),
        # one key repeated, OR'ed into one IN list
        pytest.param([f"metadata.name=n{i}" for i in range(5000)], id="5000-values"),
        pytest.param(["kind"] * 5000, id="5000-exists"),
    ],
)
def test_thousands_of_conditions_in_one_param(api: Api, path: str, conditions: list[str]) -> None:
    answer = api.raw("GET", path, query=[("filter", ",".join(conditions))])
    assert_refused_or_answered(answer)


def test_filter_with_empty_key_is_refused(api: Api) -> None:
    assert_error(api.get("/entities", params={"filter": "=component"}), 400)


# --- predicate JSON -----------------------------------------------------------------------


def nested(operator: str, depth: int) -> bytes:
    """`{"query": {op: {op: ... {"kind": "component"} ...}}}` as bytes (too deep for json.dumps)."""
    open_, close = (b'{"$not": ', b"}") if operator == "$not" else (b'{"$all": [', b"]}")
    return b'{"query": ' + open_ * depth + b'{"kind": "component"}' + close * depth + b"}"


@pytest.mark.parametrize("operator", ["$not", "$all"])
@pytest.mark.parametrize("depth", [1000, 10_000])
def test_deeply_nested_predicate_is_refused(api: Api, operator: str, depth: int) -> None:
    raw = nested(operator, depth)
    assert_error(api.post("/entities/by-query", **json_body(raw)), 400)
    raw = raw[:-1] + b', "facets": ["kind"]}'
    assert_error(api.post("/entity-facets", **json_body(raw)), 400)


@pytest.mark.parametrize(
    ("operator", "depth", "expected"),
    [
        ("$not", 10, COMPONENTS),  # an even number of `$not`s cancels out
        ("$not", 11, []),
        ("$all", 10, COMPONENTS),
        ("$not", 40, COMPONENTS),  # refusing these is fine too
        ("$all", 40, COMPONENTS),
    ],
)
def test_nested_predicate_is_answered_or_refused(
    api: Api, operator: str, depth: int, expected: list[str]
) -> None:
    answer = api.post("/entities/by-query", **json_body(nested(operator, depth)))
    if depth <= 10:
        assert answer.status == 200, str(answer)
    payload = assert_refused_or_answered(answer)
    if payload is not None:
        assert [n for n in names(payload) if n.startswith("svc-")] == expected


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"$any": [{"metadata.name": f"n{i}"} for i in range(999)]}, id="any-999"),
        pytest.param(
            {"$all": [{f"metadata.annotations.k{i}": {"$exists": False}} for i in range(999)]},
            id="all-999",
        ),
        pytest.param({"$any": [{"metadata.name": f"n{i}"} for i in range(5000)]}, id="any-5000"),
        # empty parts cost no condition each, but are still parts
        pytest.param({"$any": [{} for _ in range(5000)]}, id="any-of-5000-empty"),
        pytest.param(
            {"$all": [{"$any": []} for _ in range(100_000)]}, id="all-of-100000-empty-any"
        ),
        pytest.param(
            {"$all": [{"$all": [{"$not": {}} for _ in range(100)]} for _ in range(100)]},
            id="all-100x100",
        ),
    ],
)
def test_wide_predicate(api: Api, query: dict[str, Any]) -> None:
    for path, extra in (("/entities/by-query", {}), ("/entity-facets", {"facets": ["kind"]})):
        assert_refused_or_answered(api.post(path, json={"query": query, **extra}))
    answer = api.post(
        "/entities/by-refs", json={"entityRefs": ["component:default/svc-a"], "query": query}
    )
    assert_refused_or_answered(answer)


@pytest.mark.parametrize("count", [100_000, 20_000])
def test_huge_in_list(api: Api, count: int) -> None:
    values = [f"n{i}" for i in range(count)]
    for query in (
        {"metadata.name": {"$in": values}},
        {"relations": {"$contains": {"type": "ownedBy", "targetRef": {"$in": values}}}},
    ):
        assert_refused_or_answered(api.post("/entities/by-query", json={"query": query}))
    answer = api.post("/locations/by-query", json={"query": {"target": {"$in": values}}})
    assert_refused_or_answered(answer)


def test_in_list_below_the_limit_finds_its_match(api: Api) -> None:
    values = [f"n{i}" for i in range(998)] + ["SVC-A"]
    answer = api.post("/entities/by-query", json={"query": {"metadata.name": {"$in": values}}})
    assert answer.status == 200, str(answer)
    assert names(answer.json()) == ["svc-a"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"$nope": []}, id="unknown-operator"),
        pytest.param({"kind": "component", "$any": []}, id="operator-beside-a-field"),
        pytest.param({"kind": {"$in": "component"}}, id="in-not-a-list"),
        pytest.param({"kind": {"$exists": "yes"}}, id="exists-not-bool"),
        pytest.param({"kind": {"$in": [{"a": 1}]}}, id="in-of-objects"),
        pytest.param({"kind": ["component"]}, id="list-value"),
        pytest.param({"relations": {"$contains": {"targetRef": "x"}}}, id="relation-without-type"),
        pytest.param({"$any": {"kind": "component"}}, id="any-not-a-list"),
        pytest.param({"$not": [1]}, id="not-of-a-list"),
    ],
)
def test_malformed_predicate_is_refused(api: Api, query: dict[str, Any]) -> None:
    assert_error(api.post("/entities/by-query", json={"query": query}), 400)


# --- cursors ------------------------------------------------------------------------------

MALFORMED_CURSORS = {
    "not-base64": "!!! not base64 !!!",
    "base64-of-text": base64.b64encode(b"hello, world").decode("ascii"),
    "base64-of-invalid-utf8": base64.b64encode(b"\xff\xfe{").decode("ascii"),
    "base64-json-array": b64([1, 2, 3]),
    "base64-json-string": b64("cursor"),
    "base64-json-number": b64(42),
    "base64-json-null": b64(None),
    "wrong-types": b64({"query": 5, "totalItems": "many", "after": 3, "limit": [], "offset": {}}),
    "total-is-bool": b64({"query": {}, "totalItems": True, "after": [None, "x"]}),
    "position-not-a-list": b64({"query": {}, "totalItems": 1, "after": "x", "offset": "x"}),
    "position-of-numbers": b64({"query": {}, "totalItems": 1, "after": [1, 2], "offset": -1}),
    "order-fields-not-objects": b64(
        {"query": {}, "totalItems": 1, "orderFields": ["x"], "after": [None, "x"], "offset": 1.5}
    ),
    "query-with-bad-operator": b64(
        {"query": {"$drop": "table"}, "totalItems": 1, "after": [None, "x"], "offset": 0}
    ),
    "one-megabyte": "A" * 1_000_000,
    "one-megabyte-of-json": b64(
        {"query": {}, "totalItems": 1, "after": [None, "x"], "pad": "x" * 750_000}
    ),
}
# (method, path, how the cursor is sent)
CURSOR_ROUTES = [
    pytest.param("GET", "/entities/by-query", "cursor", id="GET-by-query"),
    pytest.param("POST", "/entities/by-query", "cursor", id="POST-by-query"),
    pytest.param("GET", "/entities", "after", id="GET-entities-after"),
    pytest.param("POST", "/locations/by-query", "cursor", id="POST-locations-by-query"),
]


def send_cursor(api: Api, method: str, path: str, name: str, cursor: str) -> Answer:
    if method == "GET":
        return api.raw("GET", path, query=[(name, cursor)])
    return api.post(path, json={name: cursor})


@pytest.mark.parametrize(("method", "path", "name"), CURSOR_ROUTES)
@pytest.mark.parametrize("cursor", list(MALFORMED_CURSORS))
def test_malformed_cursor_is_refused(
    api: Api, method: str, path: str, name: str, cursor: str
) -> None:
    assert_error(send_cursor(api, method, path, name, MALFORMED_CURSORS[cursor]), 400)


@pytest.mark.parametrize(
    "position",
    [
        pytest.param({"limit": 10**30, "offset": 10**30}, id="huge"),
        pytest.param({"limit": 1, "offset": 2**63}, id="offset-2^63"),
        pytest.param({"limit": 1e300, "offset": 1e300}, id="float-1e300"),
        pytest.param({"limit": "1; DROP TABLE search", "offset": "0"}, id="sql-in-numbers"),
    ],
)
def test_legacy_cursor_with_hostile_numbers(api: Api, position: dict[str, Any]) -> None:
    answer = api.get("/entities", params={"after": b64(position)})
    assert_refused_or_answered(answer)


INJECTION = "x' OR '1'='1' --"
# Well-formed cursors carrying SQL: served as literal values, they match nothing.
FORGED_CURSORS = {
    "in-query-key": {"query": {f"kind{INJECTION}": "x"}, "totalItems": 2, "after": [None, "0"]},
    "in-query-value": {"query": {"kind": INJECTION}, "totalItems": 2, "after": [None, "0"]},
    "in-position-uid": {"query": {}, "totalItems": 2, "after": [None, f"z{INJECTION}"]},
    # nothing sorts before "" in any collation
    "in-previous-position": {
        "query": {},
        "totalItems": 2,
        "orderFields": [{"field": "metadata.name", "order": "asc"}],
        "isPrevious": True,
        "before": ["", f"0{INJECTION}"],
    },
    "in-position-value": {
        "query": {},
        "totalItems": 2,
        "orderFields": [{"field": "metadata.name", "order": "asc"}],
        "after": [f"zz{INJECTION}", "0"],
    },
    "in-order-field": {
        "query": {},
        "totalItems": 2,
        "orderFields": [{"field": f"metadata.name{INJECTION}", "order": "asc"}],
        "after": ["", "0"],
    },
    "in-full-text": {
        "query": {},
        "totalItems": 2,
        "fullTextFilter": {"term": INJECTION, "fields": [f"metadata.name{INJECTION}"]},
        "after": [None, "0"],
    },
}


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("forged", list(FORGED_CURSORS))
def test_forged_cursor_with_sql_matches_nothing(api: Api, method: str, forged: str) -> None:
    cursor = b64(FORGED_CURSORS[forged])
    payload = assert_refused_or_answered(
        send_cursor(api, method, "/entities/by-query", "cursor", cursor)
    )
    if payload is not None:
        assert payload["items"] == [], "a cursor's SQL text changed the query"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"type": INJECTION}, id="in-value"),
        pytest.param({f"target{INJECTION}": "x"}, id="in-key"),
        pytest.param({"target": {"$hasPrefix": "%"}}, id="wildcard-prefix"),
    ],
)
def test_forged_locations_cursor_with_sql_matches_nothing(api: Api, query: dict[str, Any]) -> None:
    assert names_of_locations(api.post("/locations/by-query", json={})) == [REGISTERED_TARGET]
    cursor = b64({"offset": 0, "query": query})
    answer = api.post("/locations/by-query", json={"cursor": cursor})
    payload = assert_refused_or_answered(answer)
    if payload is not None:
        assert payload["items"] == []


def names_of_locations(answer: Answer) -> list[str]:
    assert answer.status == 200, str(answer)
    return [item["target"] for item in answer.json()["items"]]


# --- refs and paths -----------------------------------------------------------------------

ODD_NAMES = {
    "nul": "a%00b",
    "newline": "a%0Ab",
    "carriage-return": "a%0Db",
    "control-chars": "%01%02%1F%7F",
    "encoded-slashes": "..%2F..%2Fetc%2Fpasswd",
    "quote": "a'%20OR%20'1'%3D'1",
    "percent-and-underscore": "svc%25_",
    "unicode": urllib.parse.quote("ñäme-✓"),
    "emoji": urllib.parse.quote("😀"),
    "lone-surrogate-bytes": "%ED%A0%80",
    "invalid-utf8": "%FF%FE",
    "ten-thousand-chars": "a" * 10_000,
    "hundred-thousand-chars": "a" * 100_000,
}
REF_ROUTES = [
    "/entities/by-name/component/default/{}",
    "/entities/by-name/component/default/{}/ancestry",
    "/entities/by-name/{}/default/svc-a",
    "/entities/by-name/component/{}/svc-a",
    "/locations/by-entity/component/default/{}",
]
ID_ROUTES = [
    ("GET", "/entities/by-uid/{}"),
    ("GET", "/locations/{}"),
    ("DELETE", "/locations/{}"),
]


def assert_odd_path_refused(answer: Answer, name: str, status: int = 404) -> None:
    """Not found, except: a NUL anywhere in a request is refused as bad input (400), and
    `%2F` inside a segment makes a path of more segments, which no route has (an
    empty 404, as for any unknown route under /api/catalog)."""
    if name == "nul":
        assert_error(answer, 400)
    elif name == "encoded-slashes":
        assert answer.status == 404 and answer.body == b"", str(answer)
    else:
        assert_error(answer, status)


@pytest.mark.parametrize("route", REF_ROUTES)
@pytest.mark.parametrize("name", list(ODD_NAMES))
def test_odd_ref_in_path_is_not_found(api: Api, route: str, name: str) -> None:
    assert_odd_path_refused(api.raw("GET", route.format(ODD_NAMES[name])), name)


@pytest.mark.parametrize(("method", "route"), ID_ROUTES)
@pytest.mark.parametrize("name", list(ODD_NAMES))
def test_odd_id_in_path_is_not_found(api: Api, method: str, route: str, name: str) -> None:
    assert_odd_path_refused(api.raw(method, route.format(ODD_NAMES[name])), name)


@pytest.mark.parametrize("name", list(ODD_NAMES))
def test_odd_uid_delete_is_harmless(api: Api, name: str) -> None:
    answer = api.raw("DELETE", f"/entities/by-uid/{ODD_NAMES[name]}")
    if name in ("nul", "encoded-slashes"):
        assert_odd_path_refused(answer, name)
        return
    assert answer.status == 204, str(answer)  # also for an unknown uid (reference §9.9)
    assert_timely(answer)


@pytest.mark.parametrize(
    "refs",
    [
        pytest.param([1, 2], id="numbers"),
        pytest.param([None], id="null"),
        pytest.param([{"kind": "component"}], id="object"),
        pytest.param([["component:default/svc-a"]], id="nested-list"),
        pytest.param([True], id="bool"),
        pytest.param("component:default/svc-a", id="string-not-list"),
        pytest.param({"0": "component:default/svc-a"}, id="object-not-list"),
    ],
)
def test_by_refs_with_non_string_refs_is_refused(api: Api, refs: Any) -> None:
    assert_error(api.post("/entities/by-refs", json={"entityRefs": refs}), 400)


def test_by_refs_without_refs_is_refused(api: Api) -> None:
    assert_error(api.post("/entities/by-refs", json={"fields": ["kind"]}), 400)


def test_by_refs_with_a_nul_is_refused(api: Api) -> None:
    """A NUL character anywhere in a body is bad input: no database can store it."""
    body = {"entityRefs": ["component:default/a\x00b", "component:default/svc-a"]}
    assert_error(api.post("/entities/by-refs", json=body), 400)


@pytest.mark.parametrize(
    "ref",
    [
        pytest.param("component:default/" + "a" * 100_000, id="long"),
        pytest.param("", id="empty"),
        pytest.param("component:default/svc-%", id="percent"),
        pytest.param("component:default/svc-_", id="underscore"),
        pytest.param("component:default/svc-a' OR '1'='1", id="quote"),
        pytest.param("component:default/😀", id="emoji"),
    ],
)
def test_by_refs_with_odd_refs_gives_null(api: Api, ref: str) -> None:
    answer = api.post("/entities/by-refs", json={"entityRefs": [ref, "component:default/svc-a"]})
    assert answer.status == 200, str(answer)
    items = answer.json()["items"]
    assert items[0] is None and items[1]["metadata"]["name"] == "svc-a"


def test_by_refs_with_20000_refs(api: Api) -> None:
    refs = [f"component:default/n{i}" for i in range(20_000)]
    payload = assert_refused_or_answered(api.post("/entities/by-refs", json={"entityRefs": refs}))
    if payload is not None:
        assert payload["items"] == [None] * len(refs)


def test_by_refs_with_10000_refs_keeps_order(api: Api) -> None:
    refs = [f"component:default/n{i}" for i in range(9_999)]
    refs.insert(5_000, "component:default/svc-b")
    answer = api.post("/entities/by-refs", json={"entityRefs": refs})
    assert answer.status == 200, str(answer)
    assert_timely(answer)
    items = answer.json()["items"]
    assert len(items) == len(refs)
    assert [i for i, item in enumerate(items) if item is not None] == [5_000]
    assert items[5_000]["metadata"]["name"] == "svc-b"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"entityRef": "component:default/" + "a" * 100_000}, id="long"),
        pytest.param({"entityRef": "x' OR '1'='1"}, id="quote"),
    ],
)
def test_refresh_of_an_odd_ref_is_not_found(api: Api, body: dict[str, Any]) -> None:
    assert_error(api.post("/refresh", json=body), 404)


@pytest.mark.parametrize("ref", [5, None, ["component:default/svc-a"]])
def test_refresh_of_a_non_string_ref_is_refused(api: Api, ref: Any) -> None:
    assert_error(api.post("/refresh", json={"entityRef": ref}), 400)


# --- bodies -------------------------------------------------------------------------------

# Every route with a JSON body, and a body it accepts.
BODY_ROUTES = [
    pytest.param("POST", "/entities/by-query", {}, id="by-query"),
    pytest.param("POST", "/entities/by-refs", {"entityRefs": []}, id="by-refs"),
    pytest.param("POST", "/entity-facets", {"facets": ["kind"]}, id="facets"),
    pytest.param("POST", "/refresh", {"entityRef": "component:default/svc-a"}, id="refresh"),
    pytest.param(
        "POST",
        "/validate-entity",
        {"entity": {}, "location": "url:https://example.com/x.yaml"},
        id="validate-entity",
    ),
    pytest.param("POST", "/locations/by-query", {}, id="locations-by-query"),
    pytest.param(
        "POST", "/locations?dryRun=true", {"type": "url", "target": "x"}, id="locations-dry-run"
    ),
    pytest.param(
        "PUT",
        "/locations/00000000-0000-0000-0000-000000000000",
        {"type": "url", "target": "x"},
        id="put-location",
    ),
    pytest.param(
        "POST",
        "/analyze-location",
        {"location": {"type": "url", "target": "https://github.com/a/b"}},
        id="analyze-location",
    ),
]


@pytest.mark.parametrize(("method", "path", "good"), BODY_ROUTES)
def test_body_over_the_limit_is_refused(api: Api, method: str, path: str, good: Any) -> None:
    raw = b'{"pad": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    answer = api.call(method, path, **json_body(raw))
    assert_error(answer, 413)


@pytest.mark.parametrize("chunk_size", [1024 * 1024, 64 * 1024])
def test_chunked_body_over_the_limit_is_refused(api: Api, chunk_size: int) -> None:
    count = MAX_BODY_BYTES // chunk_size + 2
    answer = api.raw(
        "POST",
        "/entities/by-refs",
        headers=[("content-type", "application/json")],
        chunks=[b'{"entityRefs": ["'] + [b"a" * chunk_size] * count + [b'"]}'],
    )
    assert_error(answer, 413)


def test_chunked_body_under_the_limit_is_read(api: Api) -> None:
    answer = api.raw(
        "POST",
        "/entities/by-refs",
        headers=[("content-type", "application/json")],
        chunks=[b'{"entityRefs": ', b'["component:default/svc-a"', b"]}"],
    )
    assert answer.status == 200, str(answer)
    assert names(answer.json()) == ["svc-a"]


def test_understated_content_length_is_refused(api: Api) -> None:
    """Content-Length says 20 bytes; the body goes on past the limit."""
    answer = api.raw(
        "POST",
        "/entities/by-refs",
        headers=[("content-type", "application/json"), ("content-length", "20")],
        chunks=[b'{"entityRefs": ["'] + [b"a" * 1024 * 1024] * 6 + [b'"]}'],
    )
    assert_error(answer, 413)


NOT_JSON = [
    pytest.param(b"not json", id="text"),
    pytest.param(b"{'entityRefs': []}", id="single-quotes"),
    pytest.param(b'{"entityRefs": [', id="truncated"),
    pytest.param(b"\xff\xfe\x00{", id="binary"),
    pytest.param(b'{"limit": NaN}', id="nan"),
    pytest.param(b'{"limit": 1' + b"0" * 5000 + b"}", id="5000-digit-number"),
    pytest.param(b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="deep-arrays"),
]


@pytest.mark.parametrize(("method", "path", "good"), BODY_ROUTES)
@pytest.mark.parametrize("raw", NOT_JSON)
def test_non_json_body_is_refused(api: Api, method: str, path: str, good: Any, raw: bytes) -> None:
    for headers in ({"content-type": "application/json"}, {}):
        assert_error(api.call(method, path, content=raw, headers=headers), 400)


@pytest.mark.parametrize(("method", "path", "good"), BODY_ROUTES)
def test_json_without_content_type_is_refused(api: Api, method: str, path: str, good: Any) -> None:
    """Like upstream's express.json(): without the content type, the body is not read."""
    answer = api.call(method, path, content=json.dumps(good).encode())
    assert_error(answer, 400, message_starts="Malformed request body")


@pytest.mark.parametrize(("method", "path", "good"), BODY_ROUTES)
@pytest.mark.parametrize(
    "value",
    [
        pytest.param([], id="empty-array"),
        pytest.param([{"entityRefs": []}], id="array-of-object"),
        pytest.param("body", id="string"),
        pytest.param(42, id="number"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="null"),
    ],
)
def test_non_object_json_is_refused(
    api: Api, method: str, path: str, good: Any, value: Any
) -> None:
    assert_error(api.call(method, path, **json_body(json.dumps(value).encode())), 400)


# `"\ud800"` is valid JSON text, but not a character any database (or UTF-8) can hold.
LONE = "\\ud800"


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        pytest.param("POST", "/entities/by-refs", f'{{"entityRefs": ["c:d/{LONE}"]}}', id="ref"),
        pytest.param(
            "POST", "/entities/by-query", f'{{"query": {{"metadata.name": "{LONE}"}}}}', id="value"
        ),
        pytest.param("POST", "/entities/by-query", f'{{"query": {{"{LONE}": "x"}}}}', id="key"),
        pytest.param(
            "POST",
            "/entities/by-query",
            f'{{"fullTextFilter": {{"term": "{LONE}", "fields": ["metadata.name"]}}}}',
            id="full-text",
        ),
        pytest.param(
            "POST", "/entities/by-query", f'{{"orderBy": [{{"field": "{LONE}"}}]}}', id="order"
        ),
        pytest.param("POST", "/entity-facets", f'{{"facets": ["{LONE}"]}}', id="facet"),
        pytest.param("POST", "/refresh", f'{{"entityRef": "c:d/{LONE}"}}', id="refresh"),
        pytest.param(
            "POST", "/locations/by-query", f'{{"query": {{"target": "{LONE}"}}}}', id="locations"
        ),
        pytest.param(
            "POST", "/locations", f'{{"type": "url", "target": "https://x/{LONE}"}}', id="register"
        ),
        pytest.param(
            "POST",
            "/validate-entity",
            '{"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",'
            f' "metadata": {{"name": "{LONE}"}}}}, "location": "url:https://example.com/x"}}',
            id="validate",
        ),
        pytest.param(
            "POST",
            "/analyze-location",
            f'{{"location": {{"type": "url", "target": "https://github.com/a/{LONE}"}}}}',
            id="analyze",
        ),
    ],
)
def test_lone_surrogate_in_json_body(api: Api, method: str, path: str, raw: str) -> None:
    """Refused, or treated as a string that matches nothing; never a 5xx."""
    answer = api.call(method, path, **json_body(raw.encode()))
    assert answer.status < 500, str(answer)
    assert_timely(answer)
    if answer.status in ERROR_NAMES and path != "/validate-entity":
        assert_error(answer, answer.status)
    elif answer.status == 200:
        payload = answer.json()
        assert not any(payload.get("items") or []), str(answer)


def test_empty_body_is_refused(api: Api) -> None:
    for method, path, _good in (p.values for p in BODY_ROUTES):
        assert_error(api.call(method, path, **json_body(b"")), 400)


# --- paging and other query parameters ----------------------------------------------------

BAD_PAGING = [
    "limit=-1",
    "limit=abc",
    "limit=1.5",
    "limit=1e99",
    "limit=",
    "offset=-1",
    "offset=1e99",
    "offset=abc",
    "offset=0x10",
]


@pytest.mark.parametrize("path", ["/entities", "/entities/by-query"])
@pytest.mark.parametrize("query", BAD_PAGING)
def test_bad_paging_number_is_refused(api: Api, path: str, query: str) -> None:
    assert_error(api.get(f"{path}?{query}"), 400)


def test_legacy_limit_zero_is_refused(api: Api) -> None:
    assert_error(api.get("/entities?limit=0"), 400)  # limit > 0 (reference §9.6)


@pytest.mark.parametrize("body", [{"limit": -1}, {"offset": -1}, {"limit": "x"}, {"limit": 1.5}])
def test_bad_paging_in_body_is_refused(api: Api, body: dict[str, Any]) -> None:
    assert_error(api.post("/entities/by-query", json=body), 400)
    if "offset" not in body:
        assert_error(api.post("/locations/by-query", json=body), 400)


@pytest.mark.parametrize(
    ("query", "empty"),
    [
        ("limit=1&offset=9223372036854775807", True),
        ("limit=1&offset=9223372036854775808", True),
        (f"limit=1&offset={10**30}", True),
        ("offset=9999999", True),
        ("offset=1", False),
        (f"limit={2**63}", False),
        (f"limit={10**30}", False),
    ],
)
@pytest.mark.parametrize("path", ["/entities", "/entities/by-query"])
def test_extreme_paging_numbers(api: Api, path: str, query: str, empty: bool) -> None:
    payload = assert_refused_or_answered(api.get(f"{path}?{query}"))
    if payload is not None:
        assert (names(payload) == []) == empty


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"offset": 2**63}, id="offset-2^63"),
        pytest.param({"offset": 10**30}, id="offset-10^30"),
        pytest.param({"limit": 2**63}, id="limit-2^63"),
        pytest.param({"limit": 10**30, "offset": 1}, id="limit-10^30"),
    ],
)
def test_extreme_paging_numbers_in_body(api: Api, body: dict[str, Any]) -> None:
    assert_refused_or_answered(api.post("/entities/by-query", json=body))
    assert_refused_or_answered(
        api.post("/locations/by-query", json={"limit": body.get("limit", 1)})
    )


@pytest.mark.parametrize("path", ["/entities", "/entities/by-query", "/locations"])
def test_unknown_query_params(api: Api, path: str) -> None:
    """Upstream refuses them (400); ignoring them is fine too, but nothing else."""
    plain = api.get(path)
    answer = api.raw(
        "GET",
        path,
        query=[
            ("bogus", "1"),
            ("filter[kind]", "x"),
            ("__proto__", "x"),
            *[(f"p{i}", "x") for i in range(2000)],
        ],
    )
    payload = assert_refused_or_answered(answer)
    if payload is not None:
        assert payload == plain.json()


@pytest.mark.parametrize(
    ("path", "name", "make"),
    [
        pytest.param("/entities", "order", lambda i: f"asc:k{i}", id="order"),
        pytest.param("/entities", "fields", lambda i: f"f{i}", id="fields"),
        pytest.param("/entities/by-query", "orderField", lambda i: f"k{i},asc", id="orderField"),
        pytest.param("/entity-facets", "facet", lambda i: f"f{i}", id="facet"),
    ],
)
@pytest.mark.parametrize("paged", [True, False], ids=["paged", "unpaged"])
def test_thousands_of_other_params(api: Api, path: str, name: str, make: Any, paged: bool) -> None:
    query = [(name, make(i)) for i in range(3000)]
    if paged:
        query.append(("limit", "2"))
    assert_refused_or_answered(api.raw("GET", path, query=query))


def test_thousands_of_full_text_fields(api: Api) -> None:
    fields = [f"metadata.f{i}" for i in range(40_000)]
    answer = api.post(
        "/entities/by-query", json={"fullTextFilter": {"term": "svc", "fields": fields}}
    )
    assert_refused_or_answered(answer)
    query = [("fullTextFilterTerm", "svc"), ("fullTextFilterFields", ",".join(fields))]
    assert_refused_or_answered(api.raw("GET", "/entities/by-query", query=query))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"orderBy": [{"field": f"k{i}"} for i in range(20_000)]}, id="orderBy"),
        pytest.param({"fields": [f"f{i}" for i in range(100_000)]}, id="fields"),
    ],
)
def test_thousands_of_body_entries(api: Api, body: dict[str, Any]) -> None:
    assert_refused_or_answered(api.post("/entities/by-query", json=body))


def test_long_full_text_term(api: Api) -> None:
    query = [("fullTextFilterTerm", "%_" * 50_000), ("fullTextFilterFields", "metadata.name")]
    payload = assert_refused_or_answered(api.raw("GET", "/entities/by-query", query=query))
    if payload is not None:
        assert payload["items"] == []


@pytest.mark.parametrize(
    "fields",
    ["metadata.tags[0]", "spec[owner]", "kind,metadata.name[", "[", "metadata.annotations[x]"],
)
def test_fields_with_brackets_are_refused(api: Api, fields: str) -> None:
    assert_error(api.get("/entities", params={"fields": fields}), 400)
    assert_error(api.get("/entities", params={"fields": fields, "limit": 1}), 400)
    assert_error(api.get("/entities/by-query", params={"fields": fields}), 400)
    assert_error(api.post("/entities/by-query", json={"fields": fields.split(",")}), 400)
    answer = api.post("/entities/by-refs", json={"entityRefs": [], "fields": [fields]})
    assert_error(answer, 400)
    answer = api.post("/entities/by-refs", params={"fields": fields}, json={"entityRefs": []})
    assert_error(answer, 400)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/entities", {"order": "sideways:metadata.name"}),
        ("/entities", {"order": "metadata.name"}),
        ("/entities/by-query", {"orderField": "metadata.name,sideways"}),
        ("/entities/by-query", {"totalItems": "some"}),
        ("/entity-facets", {}),
        ("/entities", {"after": ""}),
        ("/entities/by-query", {"cursor": ""}),
    ],
)
def test_bad_parameter_value_is_refused(api: Api, path: str, params: dict[str, str]) -> None:
    assert_error(api.get(path, params=params), 400)


# --- SQL metacharacters match literally ---------------------------------------------------

WEIRD = "metadata.annotations.example.com/weird"


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (f"{WEIRD}={SVC_A_WEIRD}", ["svc-a"]),
        (f"{WEIRD}={SVC_A_WEIRD.upper()}", ["svc-a"]),
        (f"metadata.description={SVC_A_DESCRIPTION}", ["svc-a"]),
        (f"{WEIRD}=%", []),
        (f"{WEIRD}=_", []),
        (f"{WEIRD}=50%", []),
        (f"{WEIRD}=50__off\\x'y", []),
        (f"{WEIRD}=50%_off%", []),
        (f"{WEIRD}=\\", []),
        (f"{WEIRD}='", []),
        (f"{WEIRD}=' OR '1'='1", []),
        ("metadata.description=100% under_score back\\slash it%", []),
    ],
)
def test_filter_value_with_sql_metacharacters_matches_literally(
    api: Api, filter_: str, expected: list[str]
) -> None:
    listed = api.get("/entities", params={"filter": filter_, "fields": "metadata.name"})
    assert listed.status == 200, str(listed)
    assert names(listed.json()) == expected
    page = api.get("/entities/by-query", params={"filter": filter_})
    assert page.status == 200, str(page)
    assert names(page.json()) == expected
    facets = api.get("/entity-facets", params={"facet": "metadata.name", "filter": filter_})
    assert facets.status == 200, str(facets)
    assert [f["value"] for f in facets.json()["facets"]["metadata.name"]] == expected
    refs = api.post(
        "/entities/by-refs",
        params={"filter": filter_},
        json={"entityRefs": [f"component:default/{n}" for n in COMPONENTS]},
    )
    assert refs.status == 200, str(refs)
    assert names(refs.json()) == expected


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("50%_", ["svc-a"]),
        ("50%_off\\x'", ["svc-a"]),
        ("50%", ["svc-a"]),
        ("50_", []),
        ("50%x", []),
        ("%", []),
        ("_", []),
        ("\\", []),
        ("'", []),
        ("5", ["svc-a", "svc-b"]),
    ],
)
def test_has_prefix_with_sql_metacharacters_matches_literally(
    api: Api, prefix: str, expected: list[str]
) -> None:
    query = {WEIRD: {"$hasPrefix": prefix}}
    answer = api.post("/entities/by-query", json={"query": query})
    assert answer.status == 200, str(answer)
    assert names(answer.json()) == expected
    answer = api.post("/entity-facets", json={"facets": ["metadata.name"], "query": query})
    assert answer.status == 200, str(answer)
    assert [f["value"] for f in answer.json()["facets"]["metadata.name"]] == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("r_s", ["svc-a"]),
        ("0%", ["svc-a"]),
        ("%", ["svc-a"]),
        ("_", ["svc-a"]),
        ("k\\s", ["svc-a"]),
        ("\\", ["svc-a"]),
        ("'s", ["svc-a"]),
        ("%%", []),
        ("__", []),
        ("\\\\", []),
        ("r%s", []),
        ("UNDER_", ["svc-a"]),
        ("100", ["svc-a", "svc-b"]),
    ],
)
def test_full_text_term_with_sql_metacharacters_matches_literally(
    api: Api, term: str, expected: list[str]
) -> None:
    answer = api.get(
        "/entities/by-query",
        params={"fullTextFilterTerm": term, "fullTextFilterFields": "metadata.description"},
    )
    assert answer.status == 200, str(answer)
    assert names(answer.json()) == expected
    body = {"fullTextFilter": {"term": term, "fields": ["metadata.description"]}}
    answer = api.post("/entities/by-query", json=body)
    assert answer.status == 200, str(answer)
    assert names(answer.json()) == expected


def test_metacharacters_in_facet_names_and_order_fields(api: Api) -> None:
    for facet in ("%", "_", "metadata.%", "kind' OR '1'='1", "\\"):
        answer = api.get("/entity-facets", params={"facet": facet})
        assert answer.status == 200, str(answer)
        assert answer.json() == {"facets": {facet: []}}
    for field_ in ("%", "metadata._ame", "kind' OR '1'='1"):
        answer = api.get("/entities/by-query", params={"orderField": f"{field_},asc"})
        assert answer.status == 200, str(answer)
        assert answer.json()["items"] == [] and answer.json()["totalItems"] == 0
