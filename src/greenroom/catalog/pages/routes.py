"""The catalog's pages: home, the catalog table, entity pages, stars, the header search.

Each handler makes the same service calls as the catalog API and renders their
results; `?format=json` on any of these URLs returns the data the page shows.
"""

from __future__ import annotations

import heapq
from dataclasses import replace
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.model.refs import RefError, parse_entity_ref
from greenroom.catalog.pages import views
from greenroom.catalog.pages.filters import (
    FACETS,
    ORPHAN_KEY,
    PAGE_SIZES,
    SORTS,
    CatalogState,
)
from greenroom.catalog.pages.tabs import EntityTab
from greenroom.catalog.query.predicates import (
    EVERYTHING,
    Equals,
    HasErrors,
    Predicate,
    both,
)
from greenroom.catalog.query.service import QueryRequest
from greenroom.catalog.service import CatalogService
from greenroom.errors import NotFoundError
from greenroom.permissions import CATALOG_ENTITY_READ, Identity, Permission
from greenroom.plugins import collect
from greenroom.web.guard import require
from greenroom.web.pages import check_same_origin, pages_of, query_url, wants_json

# Stars are the user's own data, not the catalog's; reading entities is what they need.
STAR_WRITE = Permission("catalog.entity.star", "update")
STARRED_SHOWN = 20  # starred entities listed on home
FACET_OPTIONS = 20  # values listed per facet, by count (chosen ones are always listed)


def catalog_pages(portal: Any) -> APIRouter:
    router = APIRouter()
    catalog: CatalogService = portal.catalog
    queries = catalog.queries
    read = require(CATALOG_ENTITY_READ)

    def tabs() -> list[EntityTab]:
        found = collect(portal.pm.hook.entity_tabs(portal=portal))
        return sorted(found, key=lambda tab: (tab.order, tab.title))

    def entities(refs: list[str]) -> list[dict[str, Any]]:
        return [orjson.loads(body) for body in queries.by_refs(refs) if body is not None]

    # --- home ---------------------------------------------------------------------------

    @router.get("/")
    def home(request: Request, identity: Identity = Depends(read)) -> Response:
        kinds = queries.facets(["kind"], EVERYTHING)["kind"]
        starred_refs = catalog.stars.starred(identity.user_entity_ref)
        errors = catalog.processing_errors(limit=10)
        data = {
            "kinds": [
                {
                    "kind": item["value"],
                    "count": item["count"],
                    "url": query_url("/catalog", [("filters[kind]", item["value"].lower())]),
                }
                for item in sorted(kinds, key=lambda item: -item["count"])
            ],
            "total": sum(item["count"] for item in kinds),
            "starred": [views.summary(e) for e in entities(starred_refs[:STARRED_SHOWN])],
            "recent": [views.summary(e) for e in catalog.recently_changed(10)],
            "errors": [
                {
                    **views.ref_link(ref),
                    "messages": [str(e.get("message", "")) for e in errs[:3]],
                }
                for ref, errs in errors
            ],
            "error_count": queries.page(
                QueryRequest(predicate=HasErrors(), limit=0, include_total=True)
            ).total,
        }
        return pages_of(request).render(request, "catalog/home.html", data, title="Home")

    # --- the header search, until full-text search lands ------------------------------------

    @router.get("/go")
    def go(request: Request, q: str = "", identity: Identity = Depends(read)) -> Response:
        """One match by name (or a ref): its page; otherwise the catalog filtered by the text."""
        term = q.strip()
        if not term:
            return RedirectResponse("/catalog", status_code=303)
        target = _single_match(catalog, term)
        url = (
            views.entity_url(target)
            if target
            else query_url("/catalog", [("filters[kind]", "all"), ("filters[text]", term[:256])])
        )
        if wants_json(request):
            return Response(orjson.dumps({"url": url}), media_type="application/json")
        return RedirectResponse(url, status_code=303)

    # --- the catalog table ----------------------------------------------------------------

    def table_page(
        request: Request, identity: Identity, *, path: str, locked_kind: str | None = None
    ) -> Response:
        """The entity table with its facets, at `path`; `locked_kind` fixes the kind."""
        state = CatalogState.from_params(request.query_params.multi_items())
        if locked_kind is not None:
            state = replace(state, kind=locked_kind)
        starred = catalog.stars.starred(identity.user_entity_ref) if state.user == "starred" else []

        def predicate(without: str | None = None) -> Predicate:
            return state.predicate(
                without=without, owned_by=identity.ownership_entity_refs, starred=starred
            )

        cursor = request.query_params.get("cursor")
        if cursor:
            query = queries.request_from_cursor(cursor)
            query.limit = state.limit
        else:
            query = QueryRequest(
                predicate=predicate(),
                order=state.order(),
                full_text=state.full_text(),
                limit=state.limit,
            )
        page = queries.page(query)
        rows = [views.summary(orjson.loads(body)) for body in page.items]
        data = {
            "state": {
                "kind": state.kind,
                "filters": {k: list(v) for k, v in state.values.items()},
                "user": state.user,
                "text": state.text,
                "orphan": state.orphan,
                "error": state.error,
                "sort": state.sort,
                "descending": state.descending,
                "limit": state.limit,
            },
            "base_path": path,
            "kind_locked": locked_kind is not None,
            "total": page.total,
            "items": rows,
            "columns": _columns(state.kind),
            "sort_urls": {
                column: query_url(path, state.sorted_by(column).params()) for column in SORTS
            },
            "next_url": _page_url(path, state, page.next_cursor),
            "prev_url": _page_url(path, state, page.prev_cursor),
            **_sidebar(queries, state, predicate, with_kinds=locked_kind is None),
            "with_errors": _flag_count(queries, predicate("error"), HasErrors()),
            "page_sizes": PAGE_SIZES,
            "clear_url": query_url(path, [("filters[kind]", state.kind or "all")]),
        }
        if locked_kind == "api":
            title = "APIs"
        else:
            title = f"{state.kind.capitalize()} catalog" if state.kind else "Catalog"
        return pages_of(request).render(request, "catalog/index.html", data, title=title)

    @router.get("/catalog")
    def catalog_index(request: Request, identity: Identity = Depends(read)) -> Response:
        return table_page(request, identity, path="/catalog")

    @router.get("/api-docs")
    def api_index(request: Request, identity: Identity = Depends(read)) -> Response:
        """Backstage's API explorer: every API, with its type, lifecycle and owner."""
        return table_page(request, identity, path="/api-docs", locked_kind="api")

    # --- entity pages --------------------------------------------------------------------

    def entity_page(
        request: Request, namespace: str, kind: str, name: str, tab_path: str, identity: Identity
    ) -> Response:
        ref = f"{kind}:{namespace}/{name}".lower()
        body = queries.by_ref(ref)
        if body is None:
            raise NotFoundError(f"No {kind} named {name} in namespace {namespace}")
        entity = orjson.loads(body)
        available = [tab for tab in tabs() if tab.applies.matches(entity)]
        current = next((tab for tab in available if tab.path == tab_path), None)
        if current is None:
            raise NotFoundError(f"{views.display_ref(ref)} has no tab {tab_path!r}")
        base = views.entity_url(ref)
        data = {
            "summary": views.summary(entity),
            "errors": views.status_errors(entity),
            "starred": catalog.stars.is_starred(identity.user_entity_ref, ref),
            "tabs": [
                {
                    "title": tab.title,
                    "url": base + (f"/{tab.path}" if tab.path else ""),
                    "current": tab is current,
                }
                for tab in available
            ],
            "tab": current.build(portal, request, entity),
            "tab_template": current.template,
            "entity": entity,
        }
        title = data["summary"]["title"] or data["summary"]["name"]
        if current.path:
            title = f"{current.title} · {title}"
        return pages_of(request).render(request, "catalog/entity.html", data, title=title)

    @router.get("/catalog/{namespace}/{kind}/{name}")
    def entity_overview(
        request: Request, namespace: str, kind: str, name: str, identity: Identity = Depends(read)
    ) -> Response:
        return entity_page(request, namespace, kind, name, "", identity)

    @router.get("/catalog/{namespace}/{kind}/{name}/{tab}")
    def entity_tab(
        request: Request,
        namespace: str,
        kind: str,
        name: str,
        tab: str,
        identity: Identity = Depends(read),
    ) -> Response:
        return entity_page(request, namespace, kind, name, tab, identity)

    @router.post("/catalog/{namespace}/{kind}/{name}/star")
    def star(
        request: Request,
        namespace: str,
        kind: str,
        name: str,
        starred: str = Form("1"),
        identity: Identity = Depends(require(STAR_WRITE)),
    ) -> Response:
        check_same_origin(request)
        ref = f"{kind}:{namespace}/{name}".lower()
        if queries.by_ref(ref) is None:
            raise NotFoundError(f"No {kind} named {name} in namespace {namespace}")
        on = starred == "1"
        catalog.stars.set(identity.user_entity_ref, ref, on)
        if "application/json" in request.headers.get("accept", ""):
            return Response(orjson.dumps({"starred": on}), media_type="application/json")
        return RedirectResponse(views.entity_url(ref), status_code=303)

    return router


def _single_match(catalog: CatalogService, term: str) -> str | None:
    """The ref of the one entity the term names (a ref, or a name unique across kinds)."""
    if ":" in term or "/" in term:
        try:
            ref = str(parse_entity_ref(term, default_kind="component"))
        except RefError:
            return None
        return ref if catalog.queries.by_ref(ref) is not None else None
    page = catalog.queries.page(
        QueryRequest(
            predicate=Equals("metadata.name", (term.lower(),)), limit=2, include_total=False
        )
    )
    if len(page.items) != 1:
        return None
    return entity_ref_of(orjson.loads(page.items[0]))


def _columns(kind: str | None) -> list[str]:
    if kind == "user":
        return ["name", "title", "description"]
    if kind == "group":
        return ["name", "title", "type", "description"]
    if kind is None:
        return ["name", "kind", "owner", "type", "lifecycle", "description"]
    return ["name", "system", "owner", "type", "lifecycle", "description"]


def _page_url(path: str, state: CatalogState, cursor: str | None) -> str | None:
    return query_url(path, [*state.params(), ("cursor", cursor)]) if cursor else None


def _facet_options(
    counts: list[dict[str, Any]], chosen: list[str], *, lower: bool = False
) -> list[dict[str, Any]]:
    """The most common values, plus every chosen one (even at zero), for a facet's list."""
    wanted = {c.lower() for c in chosen}
    # Linear in the number of values, which may be many thousands (owners, tags).
    top = heapq.nsmallest(FACET_OPTIONS, counts, key=lambda item: (-item["count"], item["value"]))
    top += [item for item in counts if item["value"].lower() in wanted]
    options: dict[str, dict[str, Any]] = {}
    for item in top:
        key = item["value"].lower()
        value = key if lower else item["value"]
        options.setdefault(key, {"value": value, "count": item["count"], "chosen": key in wanted})
    for value in chosen:
        options.setdefault(value.lower(), {"value": value, "count": 0, "chosen": True})
    return sorted(options.values(), key=lambda o: (not o["chosen"], -o["count"], o["value"]))


def _sidebar(
    queries: Any, state: CatalogState, predicate: Any, *, with_kinds: bool
) -> dict[str, Any]:
    """The counts beside the table: each facet counted under the other facets' filters,
    all on one connection."""
    requests = [(facet.key, predicate(facet.param)) for facet in FACETS]
    requests.append((ORPHAN_KEY, predicate("orphan")))
    if with_kinds:
        requests.append(("kind", predicate("kind")))
    answers = queries.facet_counts(requests, recent=True)
    facets = []
    for facet, counts in zip(FACETS, answers, strict=False):
        options = _facet_options(counts, list(state.values.get(facet.param, ())))
        if facet.param == "owners":
            for option in options:
                option["label"] = views.display_ref(option["value"], context_kind="group")
        facets.append(
            {
                "param": facet.param,
                "title": facet.title,
                "options": options,
                "more": max(0, len(counts) - len(options)),
            }
        )
    orphans = answers[len(FACETS)]
    kinds = answers[len(FACETS) + 1] if with_kinds else []
    return {
        "kinds": _facet_options(kinds, [state.kind] if state.kind else [], lower=True)
        if with_kinds
        else [],
        "facets": facets,
        "orphans": sum(item["count"] for item in orphans if item["value"].lower() == "true"),
    }


def _flag_count(queries: Any, base: Predicate, flag: Predicate) -> int:
    return queries.page(QueryRequest(predicate=both(base, flag), limit=0)).total
