"""`Server-Timing: app;dur=<ms>` on every response, and bench/pages.py, which reads it."""

from __future__ import annotations

import re
import time

import pytest
from bench import pages as bench_pages

from .conftest import Demo

TIMING = re.compile(r"^app;dur=\d+(\.\d+)?$")


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/catalog?filters[kind]=all",
        "/catalog?format=json",
        "/catalog/default/component/accounts-service",
        "/catalog/default/component/no-such-thing",
        "/api/catalog/entities?limit=1",
        "/api/catalog/nope",
        "/healthz",
        "/static/greenroom.css",
    ],
)
def test_every_response_says_how_long_the_app_took(demo: Demo, url: str) -> None:
    start = time.perf_counter()
    response = demo.client.get(url)
    took_ms = (time.perf_counter() - start) * 1000
    header = response.headers.get("server-timing", "")
    assert TIMING.match(header), (url, response.status_code, header)
    assert 0 <= bench_pages.server_ms(header) <= took_ms
    assert response.headers.get_list("server-timing") == [header]  # once, not per layer


def test_compressed_pages_keep_the_header(demo: Demo) -> None:
    response = demo.client.get("/catalog?filters[kind]=all", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert TIMING.match(response.headers["server-timing"])


def test_server_ms_reads_the_app_metric_among_others() -> None:
    assert bench_pages.server_ms("app;dur=12.5") == 12.5
    assert bench_pages.server_ms('db;dur=3, app;desc="App";dur=7') == 7
    assert bench_pages.server_ms("cache;desc=hit") is None
    assert bench_pages.server_ms(None) is None


def test_the_page_benchmark_finds_and_measures_every_page_type(demo: Demo) -> None:
    lines = list(bench_pages.run(demo.client, requests=2, warmup=1))
    by_page = {line["page"]: line for line in lines}
    assert len(by_page) == len(lines), "page types are unique"
    expected = {
        "home",
        "catalog",
        "catalog_filtered",
        "catalog_text",
        "catalog_next_page",
        "entity",
        "entity_api",
        "entity_group",
        "entity_tab_dependencies",
        "entity_tab_definition",
        "graph",
        "api_docs",
    }
    assert expected <= set(by_page), sorted(by_page)
    filtered = by_page["catalog_filtered"]["url"]
    for part in ("filters[kind]=component", "filters[lifecycles]=production", "filters[tags]="):
        assert part in filtered
    assert "cursor=" in by_page["catalog_next_page"]["url"]
    assert "filters[text]=" in by_page["catalog_text"]["url"]
    assert by_page["graph"]["url"].startswith("/catalog-graph?rootEntityRefs[]=component:")
    for line in lines:
        assert line["requests"] == 2 and line["errors"] == 0, line
        assert 0 < line["server_p50_ms"] <= line["server_p95_ms"], line
        assert line["client_p50_ms"] >= line["server_p50_ms"], line
        assert 0 < line["bytes"] < line["html_bytes"], line  # sent gzipped


def test_the_page_benchmark_runs_only_the_pages_asked_for(demo: Demo) -> None:
    lines = list(bench_pages.run(demo.client, requests=1, warmup=0, only=["home", "entity"]))
    assert [line["page"] for line in lines] == ["home", "entity"]
