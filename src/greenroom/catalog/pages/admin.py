"""The catalog's admin pages at /admin: registered locations, processing errors, orphans.

Every action is a same-origin form post that needs the permission of the API endpoint
doing the same thing, and answers with a redirect (303) back to its tab, carrying what
was done in the query string (`?done=<code>&what=<ref>`; the sentence itself is
written here, so a crafted link cannot make the page say anything else). Deletions
ask first, on a page of their own, so they work without JavaScript.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import orjson
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.pages import views
from greenroom.catalog.pages.filters import ORPHAN_KEY
from greenroom.catalog.pages.register import error_json_data
from greenroom.catalog.providers import StoredLocation
from greenroom.catalog.query.predicates import Equals
from greenroom.catalog.query.service import QueryRequest
from greenroom.catalog.registration import check_writable
from greenroom.catalog.service import CatalogService
from greenroom.errors import InputError, NotFoundError
from greenroom.permissions import (
    CATALOG_ENTITY_DELETE,
    CATALOG_ENTITY_READ,
    CATALOG_ENTITY_REFRESH,
    CATALOG_LOCATION_DELETE,
    CATALOG_LOCATION_READ,
    Identity,
)
from greenroom.web.guard import require
from greenroom.web.pages import check_same_origin, pages_of, query_url, wants_json
from greenroom.web.settings import local_path

PATH = "/admin"
ORPHAN_ANNOTATION = ORPHAN_KEY.removeprefix("metadata.annotations.")
PAGE_SIZE = 50
TABS = (
    ("locations", "Locations", PATH),
    ("errors", "Processing errors", f"{PATH}/errors"),
    ("orphans", "Orphans", f"{PATH}/orphans"),
)
# What `?done=` may say; `{what}` is the location or entity it was done to.
DONE = {
    "refreshed": "Refresh of {what} scheduled: it is processed again in the background.",
    "location-deleted": "Location {what} removed, with the entities only it brought in.",
    "entity-deleted": "{what} deleted. If a location still emits it, it comes back.",
}


def admin_pages(portal: Any) -> APIRouter:
    router = APIRouter()
    catalog: CatalogService = portal.catalog
    config = portal.config
    queries = catalog.queries

    def render(
        request: Request, tab: str, data: dict[str, Any], *, title: str | None = None
    ) -> Response:
        done = request.query_params.get("done", "")
        what = request.query_params.get("what", "")[:500]
        page = {
            "tab": tab,
            "tabs": [
                {"key": key, "title": name, "url": url, "current": key == tab}
                for key, name, url in TABS
            ],
            "done": DONE[done].format(what=what) if done in DONE and what else None,
            "readonly": config.catalog.readonly,
            **data,
        }
        name = next(name for key, name, _ in TABS if key == tab)
        return pages_of(request).render(
            request, "catalog/admin.html", page, title=title or f"{name} · Admin"
        )

    def back(request: Request, default: str, done: str, what: str, back_to: str) -> Response:
        """Where an action returns to: the page it was sent from (a local /admin path)."""
        target = local_path(back_to)
        path = urlsplit(target).path if target else ""
        if not (path == PATH or path.startswith(PATH + "/")):
            target = default
        parts = urlsplit(target or default)
        params = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("done", "what", "format")]
        url = query_url(parts.path, [*params, ("done", done), ("what", what)])
        if wants_json(request):
            message = DONE[done].format(what=what)
            body = {"done": done, "what": what, "message": message, "url": url}
            return Response(orjson.dumps(body), media_type="application/json")
        return RedirectResponse(url, status_code=303)

    def location_or_404(location_id: str) -> StoredLocation:
        location = catalog.locations.get(location_id)
        if location is None:
            raise NotFoundError(f"Found no location with ID {location_id}")
        return location

    # --- locations -------------------------------------------------------------------------

    @router.get(PATH)
    def locations(
        request: Request,
        page: int = 1,
        identity: Identity = Depends(require(CATALOG_LOCATION_READ)),
    ) -> Response:
        found = sorted(catalog.locations.list(), key=lambda loc: (loc.type, loc.target, loc.id))
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = min(max(page, 1), pages)
        shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        refs = [loc.entity_ref for loc in shown]
        served = dict(zip(refs, queries.by_refs(refs), strict=True))
        errors = dict(catalog.processing_errors(refs))
        items = []
        for loc in shown:
            ref = loc.entity_ref
            errs = [error_json_data(e) for e in errors.get(ref, [])]
            status = "error" if errs else ("ok" if served[ref] is not None else "pending")
            items.append(
                {
                    "id": loc.id,
                    "type": loc.type,
                    "target": loc.target,
                    "entity": views.ref_link(ref),
                    "status": status,
                    "errors": errs,
                    "refresh_url": f"{PATH}/locations/{quote(loc.id, safe='')}/refresh",
                    "delete_url": f"{PATH}/locations/{quote(loc.id, safe='')}/delete",
                    "result_url": f"/catalog-import/locations/{quote(loc.id, safe='')}",
                }
            )
        data = {
            "locations": items,
            "total": len(found),
            "page": page,
            "pages": pages,
            "prev_url": query_url(PATH, [("page", str(page - 1))]) if page > 1 else None,
            "next_url": query_url(PATH, [("page", str(page + 1))]) if page < pages else None,
            "config_locations": len(config.catalog.locations),
        }
        return render(request, "locations", data)

    @router.post(PATH + "/locations/{location_id}/refresh")
    def refresh_location(
        request: Request,
        location_id: str,
        back_to: str = Form("", alias="back"),
        identity: Identity = Depends(require(CATALOG_ENTITY_REFRESH)),
    ) -> Response:
        check_same_origin(request)
        location = location_or_404(location_id)
        if not catalog.engine.refresh(location.entity_ref):
            raise NotFoundError(f"Entity {location.entity_ref} not found")
        return back(request, PATH, "refreshed", f"{location.type}:{location.target}", back_to)

    @router.get(PATH + "/locations/{location_id}/delete")
    def confirm_delete_location(
        request: Request,
        location_id: str,
        identity: Identity = Depends(require(CATALOG_LOCATION_DELETE)),
    ) -> Response:
        check_writable(config)
        location = location_or_404(location_id)
        brought = catalog.descendants(location.entity_ref) - {location.entity_ref}
        data = {
            "confirm": {
                "what": f"{location.type}:{location.target}",
                "kind": "location",
                "heading": "Remove this location?",
                "consequence": (
                    f"It brought in {len(brought):,} "
                    f"{'entity' if len(brought) == 1 else 'entities'}. "
                    "Those that no other location emits are deleted now, with the "
                    "location's own entity. The files themselves are not touched."
                ),
                "action": f"{PATH}/locations/{quote(location.id, safe='')}/delete",
                "button": "Remove location",
                "cancel": PATH,
                "entity": views.ref_link(location.entity_ref),
            }
        }
        return render(request, "locations", data, title="Remove location · Admin")

    @router.post(PATH + "/locations/{location_id}/delete")
    def delete_location(
        request: Request,
        location_id: str,
        identity: Identity = Depends(require(CATALOG_LOCATION_DELETE)),
    ) -> Response:
        check_same_origin(request)
        check_writable(config)
        location = location_or_404(location_id)
        if not catalog.remove_location(location.id):
            raise NotFoundError(f"Found no location with ID {location_id}")
        return back(request, PATH, "location-deleted", f"{location.type}:{location.target}", "")

    # --- processing errors -----------------------------------------------------------------

    @router.get(PATH + "/errors")
    def errors(
        request: Request,
        after: str | None = None,
        identity: Identity = Depends(require(CATALOG_ENTITY_READ)),
    ) -> Response:
        found = catalog.processing_errors(limit=PAGE_SIZE + 1, after=after or None)
        more = len(found) > PAGE_SIZE
        found = found[:PAGE_SIZE]
        refs = [ref for ref, _ in found]
        served = dict(zip(refs, queries.by_refs(refs), strict=True))
        items = [
            {
                **views.ref_link(ref),
                "served": served[ref] is not None,
                "errors": [error_json_data(e) for e in errs],
            }
            for ref, errs in found
        ]
        data = {
            "entities": items,
            "total": catalog.processing_error_count(),
            "after": after or None,
            "next_url": query_url(PATH + "/errors", [("after", refs[-1])]) if more else None,
            "first_url": PATH + "/errors" if after else None,
        }
        return render(request, "errors", data)

    # --- orphans ---------------------------------------------------------------------------

    @router.get(PATH + "/orphans")
    def orphans(
        request: Request,
        cursor: str | None = None,
        identity: Identity = Depends(require(CATALOG_ENTITY_READ)),
    ) -> Response:
        if cursor:
            query = queries.request_from_cursor(cursor)
            query.limit = PAGE_SIZE
        else:
            query = QueryRequest(
                predicate=Equals(ORPHAN_KEY, ("true",)), limit=PAGE_SIZE, include_total=True
            )
        page = queries.page(query)
        items = []
        for body in page.items:
            entity = orjson.loads(body)
            uid = (entity.get("metadata") or {}).get("uid", "")
            items.append(
                {
                    **views.summary(entity),
                    "uid": uid,
                    "origin": views.managed_by(entity)["origin"],
                    "delete_url": f"{PATH}/orphans/{quote(uid, safe='')}/delete",
                }
            )
        data = {
            "orphans": items,
            "total": page.total,
            "next_url": query_url(PATH + "/orphans", [("cursor", page.next_cursor)])
            if page.next_cursor
            else None,
            "prev_url": query_url(PATH + "/orphans", [("cursor", page.prev_cursor)])
            if page.prev_cursor
            else None,
            "orphan_strategy": config.catalog.orphan_strategy,
        }
        return render(request, "orphans", data)

    def orphan_or_404(uid: str) -> dict[str, Any]:
        body = queries.by_uid(uid)
        if body is None:
            raise NotFoundError(f"No entity with uid {uid}")
        entity = orjson.loads(body)
        annotations = (entity.get("metadata") or {}).get("annotations") or {}
        if str(annotations.get(ORPHAN_ANNOTATION, "")).lower() != "true":
            # Its location would bring it straight back: remove it there instead.
            raise InputError(f"{entity_ref_of(entity)} is not an orphan")
        return entity

    @router.get(PATH + "/orphans/{uid}/delete")
    def confirm_delete_orphan(
        request: Request, uid: str, identity: Identity = Depends(require(CATALOG_ENTITY_DELETE))
    ) -> Response:
        entity = orphan_or_404(uid)
        ref = entity_ref_of(entity)
        data = {
            "confirm": {
                "what": views.display_ref(ref),
                "kind": "entity",
                "heading": "Delete this entity?",
                "consequence": (
                    "It is removed from the catalog now. If a location emits it again "
                    "later, it comes back with a new uid."
                ),
                "action": f"{PATH}/orphans/{quote(uid, safe='')}/delete",
                "button": "Delete entity",
                "cancel": PATH + "/orphans",
                "entity": views.ref_link(ref),
            }
        }
        return render(request, "orphans", data, title="Delete entity · Admin")

    @router.post(PATH + "/orphans/{uid}/delete")
    def delete_orphan(
        request: Request,
        uid: str,
        back_to: str = Form("", alias="back"),
        identity: Identity = Depends(require(CATALOG_ENTITY_DELETE)),
    ) -> Response:
        check_same_origin(request)
        entity = orphan_or_404(uid)
        if not catalog.engine.delete_entity(uid):
            raise NotFoundError(f"No entity with uid {uid}")
        what = views.display_ref(entity_ref_of(entity))
        return back(request, PATH + "/orphans", "entity-deleted", what, back_to)

    return router
