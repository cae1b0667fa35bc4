"""The API benchmark (bench/api.py) against a tiny canned Backstage-shaped server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import api  # noqa: E402

SCRIPT = ROOT / "bench" / "api.py"
PREFIX = "/api/catalog"
COMPONENTS = ["payments-service", "billing-service", "checkout-web"]
TEAMS = ["team-amber-badgers-0", "team-bold-cranes-1"]
CURSOR = "eyJwYWdlIjogMn0=+/"  # opaque; '=', '+' and '/' must survive url-encoding
REQUIRED = {"call", "clients", "requests", "errors", "p50_ms", "p95_ms", "mean_ms", "max_ms", "rps"}

pytestmark = pytest.mark.network


def entity(kind: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
        "spec": {"type": "service", "lifecycle": "production", "owner": TEAMS[0]},
    }


def page(kind: str, names: list[str], total: int, **page_info: str) -> dict[str, Any]:
    return {
        "items": [entity(kind, n) for n in names],
        "totalItems": total,
        "pageInfo": page_info,
    }


class CannedCatalog(BaseHTTPRequestHandler):
    """Answers the calls of bench/api.py; 400 when a request is not shaped as expected."""

    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        path = url.path.removeprefix(PREFIX)
        self.server.seen.append(("GET", path, params))  # type: ignore[attr-defined]
        if path.startswith("/entities/by-name/component/default/"):
            name = unquote(path.rsplit("/", 1)[1])
            self.reply(*((entity("Component", name), 200) if name in COMPONENTS else ({}, 404)))
        elif path == "/entities/by-query":
            self.reply(*self.by_query(params))
        elif path == "/entity-facets" and params.get("facet"):
            facets = {f: [{"value": "service", "count": 2}] for f in params["facet"]}
            self.reply({"facets": facets})
        else:
            self.reply({}, 404)

    def by_query(self, params: dict[str, list[str]]) -> tuple[dict[str, Any], int]:
        if "cursor" in params:  # the second and last page
            if params["cursor"] != [CURSOR] or params.get("limit") != ["200"]:
                return {}, 400
            return page("Component", COMPONENTS[2:], 3, prevCursor="back"), 200
        if params.get("filter", [""])[0].startswith("kind=group"):
            return page("Group", TEAMS, len(TEAMS)), 200
        return page("Component", COMPONENTS[:2], 3, nextCursor=CURSOR), 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = urlsplit(self.path).path.removeprefix(PREFIX)
        self.server.seen.append(("POST", path, body))  # type: ignore[attr-defined]
        try:
            refs = json.loads(body)["entityRefs"]
        except (ValueError, KeyError, TypeError):
            refs = None
        if path != "/entities/by-refs" or self.headers.get("Content-Type") != "application/json":
            self.reply({}, 404)
        elif not isinstance(refs, list) or len(refs) != 20:
            self.reply({}, 400)
        else:
            self.reply({"items": [None for _ in refs]})

    def reply(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), CannedCatalog)
    httpd.daemon_threads = True
    httpd.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def run_bench(httpd: ThreadingHTTPServer, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    host, port = httpd.server_address[:2]
    url = f"http://{host}:{port}{PREFIX}"
    limits = ["--duration", "1", "--requests", "5", "--warmup", "1"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", url, *limits, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def test_every_call_type_against_a_canned_server(server, tmp_path):
    out = tmp_path / "results.jsonl"
    code, lines, stderr = run_bench(server, "--clients", "1,2", "--out", str(out))
    assert code == 0, stderr
    expected = {(call, 1) for call in api.CALLS}
    expected |= {(call, 2) for call in api.CALLS if call != "paging_last_page"}
    assert {(line["call"], line["clients"]) for line in lines} == expected
    assert len(lines) == len(expected)
    for line in lines:
        assert line.keys() >= REQUIRED, line
        assert line["errors"] == 0, line
        assert line["requests"] > 0, line
    (paging,) = [line for line in lines if line["call"] == "paging_last_page"]
    assert paging["pages"] == 2 and paging["items"] == 3
    assert paging["total_seconds"] >= 0 and paging["last_page_ms"] is not None
    assert [json.loads(row) for row in out.read_text().splitlines()] == lines

    seen = server.seen
    cursor_pages = [p for m, path, p in seen if m == "GET" and "cursor" in p]
    assert cursor_pages and all(p["cursor"] == [CURSOR] for p in cursor_pages)
    filters = {p["filter"][0] for m, path, p in seen if m == "GET" and "filter" in p}
    assert "kind=component,spec.lifecycle=production" in filters
    assert f"relations.ownedBy=group:default/{TEAMS[0]}" in filters
    terms = [
        p["fullTextFilterTerm"][0]
        for m, path, p in seen
        if m == "GET" and "fullTextFilterTerm" in p
    ]
    assert terms[0] == "service"  # pieces of the discovered names, the most common first
    assert set(terms) <= {"service", "payments", "billing"}
    refs = json.loads(next(body for m, path, body in seen if m == "POST"))["entityRefs"]
    assert refs[:2] == [f"component:default/{n}" for n in COMPONENTS[:2]]


def test_samples_from_a_manifest(server, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "sample_components": ["checkout-web"],
                "sample_teams": TEAMS,
                "fulltext_terms": ["web"],
            }
        )
    )
    code, lines, stderr = run_bench(
        server,
        "--clients",
        "1",
        "--calls",
        "by_name,owned_by,fulltext",
        "--manifest",
        str(manifest),
    )
    assert code == 0, stderr
    assert [line["call"] for line in lines] == ["by_name", "owned_by", "fulltext"]
    assert all(line["errors"] == 0 for line in lines)
    paths = {path for m, path, p in server.seen}
    assert paths == {"/entities/by-name/component/default/checkout-web", "/entities/by-query"}
    owners = {p["filter"][0] for m, path, p in server.seen if path == "/entities/by-query"}
    assert owners == {f"relations.ownedBy=group:default/{team}" for team in TEAMS} | {
        "kind=component"
    }


def test_a_non_200_answer_is_an_error(server, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"sample_components": ["no-such-component"]}))
    code, lines, stderr = run_bench(
        server, "--clients", "1", "--calls", "by_name", "--manifest", str(manifest)
    )
    assert code == 0, stderr
    (line,) = lines
    assert line["requests"] == 0 and line["errors"] == 5 and line["p50_ms"] is None
    assert line["first_error"] == "HTTP 404"


def test_only_loopback_targets():
    api.require_loopback("127.0.0.1")
    api.require_loopback("::1")
    with pytest.raises(ValueError, match="allow-remote"):
        api.require_loopback("192.0.2.1")  # an address literal: nothing is resolved or sent


def test_percentiles_interpolate_linearly():
    assert api.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert api.percentile([float(v) for v in range(101)], 95) == 95.0
    assert api.percentile([0.0, 10.0], 95) == pytest.approx(9.5)
    assert api.percentile([7.0], 95) == 7.0
