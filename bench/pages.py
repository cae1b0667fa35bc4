"""Web page benchmark: server time, client time and size of each kind of page of a running portal.

    python bench/pages.py --url http://127.0.0.1:7007 [--requests 50] [--warmup 3]
        [--pages home,catalog,...] [--out results.jsonl] [--timeout 60] [--allow-remote]

It finds real URLs through the pages' JSON twins (`?format=json`), so it runs on any
catalog: a kind, a production lifecycle and a tag from the facets of
`/catalog?format=json`, entities from its table, a cursor page from its `next_url`,
one entity of every kind and the tabs each lists (`tabs` of the entity page's JSON),
and the pages other features add when they answer 200 (`/org`, `/api-docs`,
`/catalog-graph?rootEntityRefs[]=<ref>`, `/catalog-import`, `/admin`, `/settings`).

Then it requests each page --requests times, one after the other on one keep-alive
connection (after --warmup unmeasured requests), asking for gzip like a browser, and
prints one JSON line per page type:

    {"page": "catalog_filtered", "url": "/catalog?...", "requests": 50, "errors": 0,
     "server_p50_ms": 4.1, "server_p95_ms": 5.3, "client_p50_ms": 5.0, "client_p95_ms": 6.4,
     "bytes": 6120, "html_bytes": 41210}

server_*: the `Server-Timing: app;dur=<ms>` header (null when the server sends none);
client_*: sending the request to reading the whole body; bytes: the body as sent
(gzip); html_bytes: after decompression.  Percentiles by linear interpolation.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import re
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

HEADERS = {"accept": "text/html", "accept-encoding": "gzip"}
# Pages of features that may or may not be there: page type -> path.
OPTIONAL_PAGES = {
    "org": "/org",
    "api_docs": "/api-docs",
    "catalog_import": "/catalog-import",
    "admin": "/admin",
    "settings": "/settings",
}
_DURATION = re.compile(r"(?:^|,)\s*app\s*;(?:[^,]*;)?\s*dur=([0-9.]+)")


class DiscoveryError(Exception):
    """The portal does not answer what the benchmark needs to find its pages."""


def log(message: str) -> None:
    print(message, file=sys.stderr)


# ----------------------------------------------------------------------------
# discovery
# ----------------------------------------------------------------------------
def with_params(path: str, params: Iterable[tuple[str, str]]) -> str:
    """`path?params`, keeping Backstage's brackets readable."""
    query = urlencode(list(params), safe="[]:/")
    return f"{path}?{query}" if query else path


def json_twin(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "format=json"


def fetch_json(client: httpx.Client, url: str) -> tuple[int, Any]:
    response = client.get(json_twin(url))
    if response.status_code != 200:
        return response.status_code, None
    return 200, response.json()


def need_json(client: httpx.Client, url: str) -> Any:
    status, data = fetch_json(client, url)
    if data is None:
        raise DiscoveryError(f"GET {json_twin(url)} answered HTTP {status}")
    return data


def facet_values(data: dict[str, Any], param: str) -> list[str]:
    """The values of one sidebar facet of a catalog page's JSON, most common first."""
    for facet in data.get("facets", []):
        if facet.get("param") == param:
            options = sorted(facet.get("options", []), key=lambda o: -int(o.get("count", 0)))
            return [str(o["value"]) for o in options if o.get("count")]
    return []


def text_term(items: list[dict[str, Any]]) -> str | None:
    """The most common piece of the names on a page (3 letters or more, no numbers)."""
    pieces = Counter(
        piece
        for item in items
        for piece in set(re.split(r"[-_.]", str(item.get("name", "")).lower()))
        if len(piece) >= 3 and not piece.isdigit()
    )
    return pieces.most_common(1)[0][0] if pieces else None


def find_urls(data: Any, prefix: str) -> Iterator[str]:
    """Every `url` value under `data` that starts with `prefix`, in document order."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "url" and isinstance(value, str) and value.startswith(prefix):
                yield value
            else:
                yield from find_urls(value, prefix)
    elif isinstance(data, list):
        for value in data:
            yield from find_urls(value, prefix)


def answers(client: httpx.Client, url: str) -> bool:
    return client.get(url, headers=HEADERS).status_code == 200


def discover(client: httpx.Client) -> list[tuple[str, str]]:
    """(page type, URL) of every kind of page this portal serves, in a fixed order."""
    pages: list[tuple[str, str]] = [("home", "/"), ("catalog", "/catalog")]
    catalog = need_json(client, "/catalog")
    kinds = [str(o["value"]) for o in catalog.get("kinds", []) if o.get("count")]
    kind = catalog.get("state", {}).get("kind") or (kinds[0] if kinds else None)
    if kind is None:
        raise DiscoveryError("the catalog is empty: no kind has entities")

    kind_page = need_json(client, with_params("/catalog", [("filters[kind]", kind)]))
    lifecycles = facet_values(kind_page, "lifecycles")
    filters = [("filters[kind]", kind)]
    if lifecycles:
        lifecycle = "production" if "production" in lifecycles else lifecycles[0]
        filters.append(("filters[lifecycles]", lifecycle))
        narrowed = need_json(client, with_params("/catalog", filters))
        tags = facet_values(narrowed, "tags")
    else:
        narrowed, tags = kind_page, facet_values(kind_page, "tags")
    if tags:
        filters.append(("filters[tags]", tags[0]))
    else:
        log(f"catalog_filtered: no {kind} has a tag; filtering without one")
    filtered_url = with_params("/catalog", filters)
    pages.append(("catalog_filtered", filtered_url))
    filtered = need_json(client, filtered_url)

    term = text_term(kind_page.get("items", []))
    if term:
        pages.append(
            (
                "catalog_text",
                with_params("/catalog", [("filters[kind]", kind), ("filters[text]", term)]),
            )
        )
    else:
        log("catalog_text: no name to take a term from; skipped")
    if catalog.get("next_url"):
        pages.append(("catalog_next_page", catalog["next_url"]))
    else:
        log("catalog_next_page: the catalog fits on one page; skipped")

    # One entity of every kind (the main kind's first), and every tab they list.
    main_items = filtered.get("items") or kind_page.get("items") or []
    if not main_items:
        raise DiscoveryError(f"no {kind} entity to open")
    main_entity = main_items[0]
    entities: list[tuple[str, dict[str, Any]]] = [("entity", main_entity)]
    for other in kinds:
        if other == kind:
            continue
        items = need_json(client, with_params("/catalog", [("filters[kind]", other)])).get(
            "items", []
        )
        if items:
            entities.append((f"entity_{re.sub(r'[^a-z0-9]+', '_', other.lower())}", items[0]))
    tab_pages: dict[str, str] = {}
    for page_type, item in entities:
        pages.append((page_type, item["url"]))
        entity = need_json(client, item["url"])
        for tab in entity.get("tabs", []):
            url = str(tab.get("url", ""))
            if url.rstrip("/") == item["url"].rstrip("/"):
                continue  # the overview is the entity page itself
            path = url.rstrip("/").rsplit("/", 1)[-1]
            tab_pages.setdefault(f"entity_tab_{re.sub(r'[^a-z0-9]+', '_', path.lower())}", url)
    pages += tab_pages.items()

    graph = with_params("/catalog-graph", [("rootEntityRefs[]", main_entity["ref"])])
    if answers(client, graph):
        pages.append(("graph", graph))
    for page_type, path in OPTIONAL_PAGES.items():
        if not answers(client, path):
            continue
        pages.append((page_type, path))
        if page_type == "org":
            _status, org = fetch_json(client, path)
            group = next(find_urls(org, "/org/"), None) if org is not None else None
            if group:
                pages.append(("org_group", group))
    return pages


# ----------------------------------------------------------------------------
# measuring
# ----------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def server_ms(header: str | None) -> float | None:
    """The `app` duration of a Server-Timing header."""
    match = _DURATION.search(header or "")
    return float(match.group(1)) if match else None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def measure(
    client: httpx.Client, page: str, url: str, *, requests: int, warmup: int
) -> dict[str, Any]:
    """Request `url` warmup + requests times, one after the other; the figures of the latter."""
    for _ in range(warmup):
        client.get(url, headers=HEADERS).read()
    server: list[float] = []
    elapsed: list[float] = []
    errors, first_error = 0, None
    sent = html = None
    for _ in range(requests):
        start = time.perf_counter()
        try:
            response = client.get(url, headers=HEADERS)
        except httpx.HTTPError as exc:
            errors += 1
            first_error = first_error or type(exc).__name__
            continue
        took = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            errors += 1
            first_error = first_error or f"HTTP {response.status_code}"
            continue
        elapsed.append(took)
        duration = server_ms(response.headers.get("server-timing"))
        if duration is not None:
            server.append(duration)
        sent, html = response.num_bytes_downloaded, len(response.content)
    line: dict[str, Any] = {
        "page": page,
        "url": url,
        "requests": len(elapsed),
        "errors": errors,
        "server_p50_ms": _ms(percentile(server, 50)),
        "server_p95_ms": _ms(percentile(server, 95)),
        "client_p50_ms": _ms(percentile(elapsed, 50)),
        "client_p95_ms": _ms(percentile(elapsed, 95)),
        "bytes": sent,
        "html_bytes": html,
    }
    if first_error:
        line["first_error"] = first_error
    return line


def run(
    client: httpx.Client, *, requests: int, warmup: int, only: Sequence[str] = ()
) -> Iterator[dict[str, Any]]:
    """Discover the pages, then measure each page type in turn (only those named, if any)."""
    pages = discover(client)
    found = {page for page, _ in pages}
    for name in only:
        if name not in found:
            log(f"{name}: no such page type here (found: {', '.join(sorted(found))})")
    for page, url in pages:
        if not only or page in only:
            yield measure(client, page, url, requests=requests, warmup=warmup)


# ----------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(
        ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="the portal's base URL")
    parser.add_argument("--requests", type=int, default=50, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per page")
    parser.add_argument("--pages", default="", help="comma-separated page types (default all)")
    parser.add_argument("--out", help="also append the JSON lines to this file")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per request")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a host that is not a loopback address"
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests must be at least 1 and --warmup at least 0")
    host = urlsplit(args.url).hostname or ""
    if not args.allow_remote and not is_loopback(host):
        parser.error(f"{host or args.url!r} is not a loopback address (add --allow-remote)")
    only = [p.strip() for p in args.pages.split(",") if p.strip()]
    out = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115
    try:
        with httpx.Client(base_url=args.url.rstrip("/"), timeout=args.timeout) as client:
            for line in run(client, requests=args.requests, warmup=args.warmup, only=only):
                text = json.dumps(line)
                print(text, flush=True)
                if out:
                    out.write(text + "\n")
                    out.flush()
    except (DiscoveryError, httpx.HTTPError) as exc:
        log(f"error: {exc}")
        return 1
    finally:
        if out:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
