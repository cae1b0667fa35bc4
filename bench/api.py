"""Catalog REST API benchmark: latency and throughput of a running server over HTTP.

    python bench/api.py --url http://127.0.0.1:7007/api/catalog [--manifest DIR/manifest.json]
        [--clients 1,8] [--duration 10] [--requests 2000] [--warmup 5]
        [--calls by_name,fulltext,...] [--out results.jsonl]

Works against Greenroom or any Backstage-compatible catalog API; --url is the
base of the catalog routes.  For each client count, then each call type, it runs
one phase: every client (a thread with its own keep-alive connection) sends
--warmup unmeasured requests, then together they send requests until --duration
seconds have passed or --requests have been sent.  One JSON line per phase:
call, clients, requests (answered 200), errors (any other status or a network
error), p50_ms, p95_ms, mean_ms, max_ms (over the successful requests;
percentiles by linear interpolation), rps (successful requests per second of
wall time), seconds (wall time), and first_error when there were errors.

Call types (names for --calls):
  by_name           GET /entities/by-name/component/default/<name>
  query_filtered    GET /entities/by-query, kind=component,spec.lifecycle=production, limit 50
  owned_by          GET /entities/by-query, relations.ownedBy=group:default/<team>, limit 50
  fulltext          GET /entities/by-query, components whose metadata.name or
                    metadata.title contains <term>, ordered by name, limit 50
  paging_last_page  one pass through every component, 200 a page, following
                    pageInfo.nextCursor to the end; latencies are per page; adds
                    pages, items, total_seconds and last_page_ms (1 client only)
  cursor_last_page  the request of that pass's last page, repeated
  facets_spec_type  GET /entity-facets?facet=spec.type
  facets_tags       GET /entity-facets?facet=metadata.tags
  by_refs_20        POST /entities/by-refs with 20 component refs

Names, teams and terms rotate through samples: those of --manifest (the
manifest.json of bench/gen_catalog.py), else found through the API.  Only
loopback targets unless --allow-remote.  Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import math
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, urlencode, urlsplit

PAGE_SIZE = 200  # paging_last_page
QUERY_LIMIT = 50  # query_filtered, owned_by, fulltext
REFS_PER_CALL = 20  # by_refs_20
SAMPLE_LIMIT = 200  # names discovered through the API
LATENCY_KEYS = ("p50_ms", "p95_ms", "mean_ms", "max_ms")


class ApiError(Exception):
    """The server did not answer what the benchmark needs to go on."""


# ----------------------------------------------------------------------------
# requests
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """One API call; `path` is relative to the API base and includes the query string."""

    method: str
    path: str
    body: bytes | None = None


def get(path: str, **params: str | int) -> Request:
    """A GET of `path` with `params` url-encoded (filters and cursors are opaque text)."""
    return Request("GET", f"{path}?{urlencode(params)}" if params else path)


@dataclass(frozen=True)
class Samples:
    """Existing names that the calls rotate through."""

    components: Sequence[str]
    teams: Sequence[str]
    terms: Sequence[str]


def _nth(values: Sequence[str], i: int) -> str:
    return values[i % len(values)]


def by_name(samples: Samples, i: int) -> Request:
    name = quote(_nth(samples.components, i), safe="")
    return get(f"/entities/by-name/component/default/{name}")


def query_filtered(samples: Samples, i: int) -> Request:
    return get(
        "/entities/by-query", filter="kind=component,spec.lifecycle=production", limit=QUERY_LIMIT
    )


def owned_by(samples: Samples, i: int) -> Request:
    team = _nth(samples.teams, i)
    return get(
        "/entities/by-query", filter=f"relations.ownedBy=group:default/{team}", limit=QUERY_LIMIT
    )


def fulltext(samples: Samples, i: int) -> Request:
    return get(
        "/entities/by-query",
        filter="kind=component",
        fullTextFilterTerm=_nth(samples.terms, i),
        fullTextFilterFields="metadata.name,metadata.title",
        orderField="metadata.name,asc",
        limit=QUERY_LIMIT,
    )


def facets_spec_type(samples: Samples, i: int) -> Request:
    return get("/entity-facets", facet="spec.type")


def facets_tags(samples: Samples, i: int) -> Request:
    return get("/entity-facets", facet="metadata.tags")


def by_refs_20(samples: Samples, i: int) -> Request:
    # by-refs matches canonical refs exactly, so they are lower case.
    refs = [
        f"component:default/{_nth(samples.components, i * REFS_PER_CALL + k).lower()}"
        for k in range(REFS_PER_CALL)
    ]
    return Request("POST", "/entities/by-refs", json.dumps({"entityRefs": refs}).encode())


FIRST_PAGE = get("/entities/by-query", filter="kind=component", limit=PAGE_SIZE)

# Call types that send independent requests: call type -> request number -> request.
SIMPLE_CALLS: dict[str, Callable[[Samples, int], Request]] = {
    "by_name": by_name,
    "query_filtered": query_filtered,
    "owned_by": owned_by,
    "fulltext": fulltext,
    "facets_spec_type": facets_spec_type,
    "facets_tags": facets_tags,
    "by_refs_20": by_refs_20,
}
CALLS = (
    "by_name",
    "query_filtered",
    "owned_by",
    "fulltext",
    "paging_last_page",
    "cursor_last_page",
    "facets_spec_type",
    "facets_tags",
    "by_refs_20",
)
# The Samples field a call type cannot run without.
NEEDS = {
    "by_name": "components",
    "by_refs_20": "components",
    "owned_by": "teams",
    "fulltext": "terms",
}


# ----------------------------------------------------------------------------
# HTTP
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Api:
    """Where the catalog API is."""

    scheme: str
    host: str
    port: int
    prefix: str
    timeout: float


def parse_url(url: str, timeout: float) -> Api:
    """The Api at `url` (http or https, no query string); raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(f"expected http(s)://HOST[:PORT]/PATH, got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Api(parts.scheme, parts.hostname, port, parts.path.rstrip("/"), timeout)


def require_loopback(host: str) -> None:
    """Raise ValueError unless every address `host` resolves to is a loopback address."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise ValueError(f"cannot resolve {host}: {exc}") from exc
    remote = sorted(a for a in addresses if not ipaddress.ip_address(a).is_loopback)
    if remote:
        raise ValueError(
            f"{host} is not a loopback address ({', '.join(remote)}); "
            "pass --allow-remote to benchmark it anyway"
        )


@dataclass(frozen=True)
class Answer:
    """What one request got: latency in seconds, body, and why it failed (None if 200)."""

    seconds: float
    body: bytes
    error: str | None


class Client:
    """One keep-alive HTTP connection to the API; one request at a time."""

    def __init__(self, api: Api) -> None:
        connection = (
            http.client.HTTPSConnection if api.scheme == "https" else http.client.HTTPConnection
        )
        self._conn = connection(api.host, api.port, timeout=api.timeout)
        self._prefix = api.prefix

    def fetch(self, request: Request) -> Answer:
        """Send `request` and read the whole answer, timing both."""
        headers = {"Accept": "application/json"}
        if request.body is not None:
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        try:
            self._conn.request(request.method, self._prefix + request.path, request.body, headers)
            response = self._conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._conn.close()  # the next request opens a new connection
            return Answer(time.perf_counter() - start, b"", f"{type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - start
        return Answer(seconds, body, None if response.status == 200 else f"HTTP {response.status}")

    def close(self) -> None:
        self._conn.close()


def by_query_page(answer: Answer) -> dict[str, Any] | None:
    """The decoded /entities/by-query page, or None when the answer is not one."""
    if answer.error is not None:
        return None
    try:
        page = json.loads(answer.body)
    except ValueError:
        return None
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        return None
    return page if isinstance(page.get("pageInfo", {}), dict) else None


# ----------------------------------------------------------------------------
# samples
# ----------------------------------------------------------------------------
def load_manifest(path: Path) -> Samples:
    """Samples from the manifest.json of bench/gen_catalog.py (or the folder holding it)."""
    if path.is_dir():
        path = path / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return Samples(
        data.get("sample_components", []),
        data.get("sample_teams", []),
        data.get("fulltext_terms", []),
    )


def discover(api: Api) -> Samples:
    """Samples through the API: the first components, teams (else any groups), name pieces."""
    client = Client(api)
    try:
        components = _names(client, "kind=component")
        teams = _names(client, "kind=group,spec.type=team") or _names(client, "kind=group")
    finally:
        client.close()
    return Samples(components, teams, name_terms(components))


def _names(client: Client, filter_: str) -> list[str]:
    request = get("/entities/by-query", filter=filter_, limit=SAMPLE_LIMIT, fields="metadata.name")
    answer = client.fetch(request)
    page = by_query_page(answer)
    if page is None:
        raise ApiError(f"GET {request.path}: {answer.error or 'not a by-query page'}")
    return [item["metadata"]["name"] for item in page["items"]]


def name_terms(names: Iterable[str], count: int = 5) -> list[str]:
    """The most common pieces of `names` split on '-', leaving out numbers and pieces under 3 letters."""
    pieces = Counter(
        piece
        for name in names
        for piece in name.lower().split("-")
        if len(piece) >= 3 and not piece.isdigit()
    )
    return [piece for piece, _ in pieces.most_common(count)]


# ----------------------------------------------------------------------------
# measuring
# ----------------------------------------------------------------------------
@dataclass
class Tally:
    """Latencies (seconds) of the successful requests, and the failures."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    def add(self, answer: Answer) -> None:
        if answer.error is None:
            self.latencies.append(answer.seconds)
        else:
            self.fail(answer.error)

    def fail(self, reason: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or reason

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between the closest ranks."""
    rank = (len(sorted_values) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def summary(call: str, clients: int, tally: Tally, seconds: float) -> dict[str, Any]:
    """The JSON line of one phase; the latency fields are null when nothing succeeded."""
    lat = sorted(tally.latencies)
    if lat:
        values = (percentile(lat, 50), percentile(lat, 95), statistics.fmean(lat), lat[-1])
        latency = {key: round(v * 1000, 3) for key, v in zip(LATENCY_KEYS, values, strict=True)}
    else:
        latency = dict.fromkeys(LATENCY_KEYS)
    line = {
        "call": call,
        "clients": clients,
        "requests": len(lat),
        "errors": tally.errors,
        **latency,
        "rps": round(len(lat) / seconds, 1) if seconds > 0 else 0.0,
        "seconds": round(seconds, 3),
    }
    if tally.first_error:
        line["first_error"] = tally.first_error
    return line


@dataclass(frozen=True)
class Limits:
    """A phase ends after `duration` seconds or `requests` requests; `warmup` is per client."""

    duration: float
    requests: int
    warmup: int


class _Schedule:
    """Hands out request numbers to a phase's clients until its time or request budget is spent."""

    def __init__(self, clients: int, limits: Limits) -> None:
        self._limits = limits
        self._lock = threading.Lock()
        self._sent = 0
        self.started = self.deadline = 0.0
        self.barrier = threading.Barrier(clients, action=self._start)

    def _start(self) -> None:
        self.started = time.perf_counter()
        self.deadline = self.started + self._limits.duration

    def next(self) -> int | None:
        with self._lock:
            if self._sent >= self._limits.requests or time.perf_counter() >= self.deadline:
                return None
            self._sent += 1
            return self._sent - 1


def run_phase(
    api: Api, make: Callable[[int], Request], clients: int, limits: Limits
) -> tuple[Tally, float]:
    """Run `clients` threads, each with its own connection; their tally and the wall seconds."""
    schedule = _Schedule(clients, limits)
    tallies = [Tally() for _ in range(clients)]
    threads = [
        threading.Thread(target=_client_loop, args=(api, make, schedule, tally, limits.warmup))
        for tally in tallies
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - schedule.started
    if schedule.barrier.broken:
        raise RuntimeError("a client thread failed (traceback above)")
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total, seconds


def _client_loop(
    api: Api, make: Callable[[int], Request], schedule: _Schedule, tally: Tally, warmup: int
) -> None:
    client = Client(api)
    try:
        for i in range(warmup):
            client.fetch(make(i))
        schedule.barrier.wait()
        while (i := schedule.next()) is not None:
            tally.add(client.fetch(make(i)))
    except threading.BrokenBarrierError:
        pass  # another client failed and says so
    except BaseException:
        schedule.barrier.abort()  # release the others instead of leaving them waiting
        raise
    finally:
        client.close()


@dataclass(frozen=True)
class Pass:
    """One paging pass; `last_page` is the request of its last page, None if it failed."""

    tally: Tally
    items: int
    seconds: float
    last_page: Request | None


def paging_pass(client: Client) -> Pass:
    """Page through every component from FIRST_PAGE, timing each page."""
    tally = Tally()
    start = time.perf_counter()
    items, last_page = _follow_cursors(client, tally)
    return Pass(tally, items, time.perf_counter() - start, last_page)


def _follow_cursors(client: Client, tally: Tally) -> tuple[int, Request | None]:
    request, items, seen = FIRST_PAGE, 0, set()
    while True:
        answer = client.fetch(request)
        page = by_query_page(answer)
        if page is None:
            tally.fail(answer.error or "not a by-query page")
            return items, None
        tally.add(answer)
        items += len(page["items"])
        cursor = page.get("pageInfo", {}).get("nextCursor")
        if cursor is None:
            return items, request
        if cursor in seen:
            tally.fail(f"nextCursor repeated after {len(tally.latencies)} pages")
            return items, None
        seen.add(cursor)
        request = get("/entities/by-query", cursor=cursor, limit=PAGE_SIZE)


def _always(request: Request) -> Callable[[int], Request]:
    return lambda _i: request


class Bench:
    """Runs the phases against one API with one set of samples."""

    def __init__(self, api: Api, samples: Samples, limits: Limits) -> None:
        self.api = api
        self.samples = samples
        self.limits = limits
        self._last_page: Request | None = None  # found by the first successful paging pass

    def run(self, call: str, clients: int) -> dict[str, Any] | None:
        """One phase's JSON line; None for paging_last_page with more than one client."""
        if call == "paging_last_page":
            return self._paging() if clients == 1 else None
        if call == "cursor_last_page":
            make = _always(self._last_page_request())
        else:
            make = partial(SIMPLE_CALLS[call], self.samples)
        tally, seconds = run_phase(self.api, make, clients, self.limits)
        return summary(call, clients, tally, seconds)

    def _paging(self) -> dict[str, Any]:
        result = self._pass(self.limits.warmup)
        line = summary("paging_last_page", 1, result.tally, result.seconds)
        line["pages"] = len(result.tally.latencies)
        line["items"] = result.items
        line["total_seconds"] = round(result.seconds, 3)
        last = result.tally.latencies[-1] if result.last_page else None
        line["last_page_ms"] = None if last is None else round(last * 1000, 3)
        return line

    def _last_page_request(self) -> Request:
        if self._last_page is None:
            result = self._pass(warmup=0)
            if self._last_page is None:
                raise ApiError(f"cannot find the last page: {result.tally.first_error}")
        return self._last_page

    def _pass(self, warmup: int) -> Pass:
        client = Client(self.api)
        try:
            for _ in range(warmup):
                client.fetch(FIRST_PAGE)
            result = paging_pass(client)
        finally:
            client.close()
        self._last_page = self._last_page or result.last_page
        return result


# ----------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------
def _positive_ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas: {text!r}"
        )
    return values


def _call_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in CALLS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown call type(s) {', '.join(unknown) or text!r}; known: {', '.join(CALLS)}"
        )
    return names


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Api]:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--url",
        required=True,
        help="base of the catalog API, e.g. http://127.0.0.1:7007/api/catalog",
    )
    ap.add_argument("--manifest", type=Path, help="manifest.json of bench/gen_catalog.py")
    ap.add_argument("--clients", type=_positive_ints, default=[1, 8], help="default 1,8")
    ap.add_argument("--duration", type=float, default=10.0, help="max seconds per phase")
    ap.add_argument("--requests", type=int, default=2000, help="max requests per phase")
    ap.add_argument("--warmup", type=int, default=5, help="unmeasured requests per client")
    ap.add_argument("--calls", type=_call_names, default=list(CALLS), help=", ".join(CALLS))
    ap.add_argument("--out", type=Path, help="append the JSON lines to this file too")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    ap.add_argument("--allow-remote", action="store_true", help="allow a non-loopback host")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.requests < 1 or args.warmup < 0 or args.timeout <= 0:
        ap.error("--duration and --timeout must be > 0, --requests >= 1, --warmup >= 0")
    try:
        api = parse_url(args.url, args.timeout)
        if not args.allow_remote:
            require_loopback(api.host)
    except ValueError as exc:
        ap.error(str(exc))
    return args, api


def runnable(calls: Sequence[str], samples: Samples) -> list[str]:
    """`calls` less those whose samples are empty (said on stderr)."""
    kept = []
    for call in calls:
        needed = NEEDS.get(call)
        if needed and not getattr(samples, needed):
            print(f"skipping {call}: no sample {needed}", file=sys.stderr)
        else:
            kept.append(call)
    return kept


def emit(line: dict[str, Any], out: TextIO | None) -> None:
    text = json.dumps(line)
    print(text, flush=True)
    if out is not None:
        out.write(text + "\n")
        out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args, api = parse_args(argv)
    try:
        samples = load_manifest(args.manifest) if args.manifest else discover(api)
    except (OSError, ValueError, ApiError) as exc:
        print(f"no samples: {exc}", file=sys.stderr)
        return 1
    bench = Bench(api, samples, Limits(args.duration, args.requests, args.warmup))
    calls = runnable(args.calls, samples)
    failed = False
    with args.out.open("a", encoding="utf-8") if args.out else nullcontext() as out:
        for clients in args.clients:
            for call in calls:
                try:
                    line = bench.run(call, clients)
                except ApiError as exc:
                    print(f"{call} with {clients} client(s): {exc}", file=sys.stderr)
                    failed = True
                    continue
                if line is not None:
                    emit(line, out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
