"""Page weight: what a browser downloads to show a page, by type, cold and warm.

    python bench/page_weight.py --url http://127.0.0.1:7007 [--path /org --path /api-docs ...]
        [--out results.jsonl] [--allow-remote]

It opens the Catalog page and an Entity page (the first entity of the catalog table,
found through `/catalog?format=json`), plus every --path, in Debian's chromium
(/usr/bin/chromium, or --chromium) through Playwright; no browser is downloaded.
Each page is loaded first in a fresh browser context (an empty cache), then once
more in the same context (a warm cache: static files carry content-hashed URLs and
`Cache-Control: immutable`, so only the document should travel again).

The sizes come from the browser's Resource Timing entries: the navigation entry
(`performance.getEntriesByType("navigation")`) plus every resource entry
(`performance.getEntriesByType("resource")`), summed by type: document, css, script
and other (images, fonts, fetches). One JSON line per page:

    {"page": "catalog", "url": "/catalog",
     "cold": {"transfer": 13211, "encoded": 12350, "decoded": 61520, "requests": 4,
              "document": {"transfer": ..., "encoded": ..., "decoded": ..., "requests": 1},
              "css": {...}, "script": {...}, "other": {...}},
     "warm": {...}}

transfer: bytes on the wire (chromium counts the headers as a flat 300 bytes, and 0 for a
file served from the cache);
encoded: bodies as sent (gzip); decoded: bodies after decompression.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.pages import is_loopback

CHROMIUM = "/usr/bin/chromium"
TYPES = ("document", "css", "script", "other")
FIELDS = {"transfer": "transferSize", "encoded": "encodedBodySize", "decoded": "decodedBodySize"}
# Every entry the page loaded, after its load event (and a quiet network).
ENTRIES_JS = """() => [
  ...performance.getEntriesByType("navigation").map(e => ({kind: "navigation", e})),
  ...performance.getEntriesByType("resource").map(e => ({kind: "resource", e})),
].map(({kind, e}) => ({
  kind, name: e.name, initiatorType: e.initiatorType,
  transferSize: e.transferSize, encodedBodySize: e.encodedBodySize,
  decodedBodySize: e.decodedBodySize,
}))"""


def entry_type(entry: dict[str, Any]) -> str:
    """document, css, script or other."""
    if entry["kind"] == "navigation":
        return "document"
    path = urlsplit(entry["name"]).path.lower()
    if path.endswith(".css"):
        return "css"
    if path.endswith((".js", ".mjs")) or entry.get("initiatorType") == "script":
        return "script"
    return "other"


def summarize(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals, and totals per type, of the timing entries of one page load."""
    empty = {name: 0 for name in FIELDS} | {"requests": 0}
    by_type: dict[str, dict[str, int]] = {t: dict(empty) for t in TYPES}
    for entry in entries:
        bucket = by_type[entry_type(entry)]
        for name, field in FIELDS.items():
            bucket[name] += int(entry.get(field) or 0)
        bucket["requests"] += 1
    total = {name: sum(b[name] for b in by_type.values()) for name in empty}
    return total | by_type


def load(page: Any, url: str) -> dict[str, Any]:
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        status = response.status if response is not None else "no response"
        raise RuntimeError(f"{url}: HTTP {status}")
    page.wait_for_load_state("networkidle")
    return summarize(page.evaluate(ENTRIES_JS))


def weigh(browser: Any, base: str, page_type: str, path: str) -> dict[str, Any]:
    """The page's weight with an empty cache, then with the cache that first load filled."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cold = load(page, base + path)
        warm = load(page, base + path)
    finally:
        context.close()
    return {"page": page_type, "url": path, "cold": cold, "warm": warm}


def entity_path(base: str) -> str:
    """The first entity of the catalog table, through the page's JSON twin."""
    response = httpx.get(base + "/catalog?format=json", timeout=60)
    response.raise_for_status()
    items = response.json().get("items") or []
    if not items:
        raise RuntimeError("the catalog table is empty: no entity page to weigh")
    return str(items[0]["url"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="the portal's base URL")
    parser.add_argument(
        "--path", action="append", default=[], help="another page to weigh (repeatable)"
    )
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default {CHROMIUM})")
    parser.add_argument("--out", help="also append the JSON lines to this file")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a host that is not a loopback address"
    )
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    host = urlsplit(base).hostname or ""
    if not args.allow_remote and not is_loopback(host):
        parser.error(f"{host or base!r} is not a loopback address (add --allow-remote)")
    if not os.access(args.chromium, os.X_OK):
        parser.error(f"no browser at {args.chromium} (apt-get install chromium)")

    from playwright.sync_api import sync_playwright

    pages = [("catalog", "/catalog"), ("entity", entity_path(base))]
    pages += [(path, path if path.startswith("/") else "/" + path) for path in args.path]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium)
        try:
            with (
                open(args.out, "a", encoding="utf-8") if args.out else open(os.devnull, "w") as out
            ):
                for page_type, path in pages:
                    line = json.dumps(weigh(browser, base, page_type, path))
                    print(line, flush=True)
                    out.write(line + "\n")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
