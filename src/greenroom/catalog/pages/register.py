"""Register an existing component at /catalog-import, in Backstage's two steps.

*Analyze* processes the location in memory (as `POST /api/catalog/locations?dryRun=true`
does) and shows what would come in and every error, storing nothing; *Import* registers
the location (as `POST /api/catalog/locations` does) and leads to a page that follows
its processing. The same permission checks and the same `catalog.readonly` and
`catalog.allowedLocationTypes` rules apply as in the API (`greenroom.catalog.registration`).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.pages import views
from greenroom.catalog.processing.rules import resolve_config_target
from greenroom.catalog.providers import StoredLocation
from greenroom.catalog.registration import check_location_type, check_writable
from greenroom.catalog.service import CatalogService
from greenroom.errors import GreenroomError, InputError, NotFoundError
from greenroom.permissions import CATALOG_LOCATION_CREATE, CATALOG_LOCATION_READ, Identity
from greenroom.web.guard import require
from greenroom.web.pages import check_same_origin, pages_of, wants_json

PATH = "/catalog-import"
MAX_TARGET = 2048
RESULT_ITEMS = 100  # entities listed on the result page; the rest are a count
TITLE = "Register an existing component"
_URL = re.compile(r"^https?://", re.IGNORECASE)


def register_pages(portal: Any) -> APIRouter:
    router = APIRouter()
    catalog: CatalogService = portal.catalog
    config = portal.config
    read = require(CATALOG_LOCATION_READ)
    # The API's dry run and registration are both `POST /locations`: creating locations.
    create = require(CATALOG_LOCATION_CREATE)

    def base(target: str = "") -> dict[str, Any]:
        allowed = list(config.catalog.allowed_location_types)
        return {
            "step": "form",
            "target": target,
            "allowed_types": allowed,
            "file_allowed": "file" in allowed,
            "readonly": config.catalog.readonly,
            "error": None,
        }

    def render(request: Request, data: dict[str, Any], status: int = 200) -> Response:
        return pages_of(request).render(
            request, "catalog/import.html", data, title=TITLE, status=status
        )

    def allowed_target(target: str, *, writing: bool) -> tuple[str, str]:
        """(type, target) of the location the form names, checked as the API checks it."""
        type_, resolved = classify_target(target, config.base_dir)
        check_location_type(config, type_)
        if writing:
            check_writable(config)
        return type_, resolved

    def refused(request: Request, target: str, error: GreenroomError) -> Response:
        """The form again, saying why the target was refused."""
        data = {**base(target), "error": {"name": error.name, "message": error.message}}
        return render(request, data, status=error.status)

    @router.get(PATH)
    def form(request: Request, target: str = "", identity: Identity = Depends(read)) -> Response:
        return render(request, base(target[:MAX_TARGET]))

    @router.post(f"{PATH}/analyze")
    def analyze(
        request: Request, target: str = Form(""), identity: Identity = Depends(create)
    ) -> Response:
        check_same_origin(request)
        try:
            type_, resolved = allowed_target(target, writing=False)
        except GreenroomError as error:
            return refused(request, target.strip(), error)
        result = catalog.dry_run_location(type_, resolved)
        location_ref = f"{type_}:{resolved}"
        refs = [entity_ref_of(entity) for entity in result.entities]
        found = catalog.queries.by_refs(refs)
        entities = []
        for entity, ref, body in zip(result.entities, refs, found, strict=True):
            summary = views.summary(entity)
            existing = orjson.loads(body) if body is not None else None
            origin = views.managed_by(existing)["origin"] if existing else None
            entities.append(
                {
                    "ref": ref,
                    "kind": summary["kind"],
                    "namespace": summary["namespace"],
                    "name": summary["name"],
                    "title": summary["title"],
                    "file": views.managed_by(entity)["location"],
                    "generated": ref == entities_root_ref(type_, resolved),
                    "exists": existing is not None,
                    "url": summary["url"] if existing is not None else None,
                    # Another location emits it already: this one would not replace it.
                    "other_origin": origin if origin and origin != location_ref else None,
                }
            )
        errors = [error_data(error) for error in result.errors]
        # An error with a line is about one document in the file: the good ones still
        # flow, so it does not stop the import. One without is about the location itself
        # (missing, unreachable, not allowed), which nothing can be imported from.
        location_errors = [e for e in errors if e["file"] == location_ref and e["line"] is None]
        other_errors = [e for e in errors if e not in location_errors]
        existing_location = catalog.locations.find(type_, resolved)
        data = {
            **base(form_target(type_, resolved)),
            "step": "analyze",
            "location": location_data(type_, resolved),
            "registered": registered_data(existing_location) if existing_location else None,
            "entities": entities,
            "new_count": sum(1 for e in entities if not e["exists"]),
            "location_errors": location_errors,
            "errors": other_errors,
            "can_import": not config.catalog.readonly
            and existing_location is None
            and not location_errors,
        }
        return render(request, data)

    @router.post(f"{PATH}/import")
    def import_location(
        request: Request, target: str = Form(""), identity: Identity = Depends(create)
    ) -> Response:
        check_same_origin(request)
        try:
            type_, resolved = allowed_target(target, writing=True)
        except GreenroomError as error:
            return refused(request, target.strip(), error)
        location = catalog.locations.find(type_, resolved)
        created = False
        if location is None:
            location, created = catalog.add_location(type_, resolved)
        if not created:
            # 409, as the API answers with the default conflict strategy `reject`.
            data = {
                **base(form_target(type_, resolved)),
                "step": "conflict",
                "location": location_data(type_, resolved),
                "registered": registered_data(location),
                "error": {
                    "name": "ConflictError",
                    "message": f"Location {type_}:{resolved} already exists",
                },
            }
            return render(request, data, status=409)
        if wants_json(request):
            return render(request, result_data(catalog, location), status=201)
        return RedirectResponse(f"{PATH}/locations/{location.id}", status_code=303)

    @router.get(f"{PATH}/locations/{{location_id}}")
    def result(request: Request, location_id: str, identity: Identity = Depends(read)) -> Response:
        location = catalog.locations.get(location_id)
        if location is None:
            raise NotFoundError(f"Found no location with ID {location_id}")
        return render(request, result_data(catalog, location))

    return router


def location_data(type_: str, target: str) -> dict[str, Any]:
    return {"type": type_, "target": target, "ref": f"{type_}:{target}"}


def registered_data(location: StoredLocation) -> dict[str, Any]:
    return {
        "id": location.id,
        "url": f"{PATH}/locations/{location.id}",
        "entity": views.ref_link(location.entity_ref),
    }


def result_data(catalog: CatalogService, location: StoredLocation) -> dict[str, Any]:
    """A registered location and what it has brought in so far."""
    root = location.entity_ref
    refs = sorted(catalog.descendants(root) - {root})
    shown = [orjson.loads(b) for b in catalog.queries.by_refs(refs[:RESULT_ITEMS]) if b]
    root_served = catalog.queries.by_ref(root) is not None
    errors = catalog.processing_errors([root, *refs])
    kinds = catalog.counts_by_kind(refs) if refs else {}
    error_refs = [ref for ref, _ in errors[:RESULT_ITEMS]]
    found = catalog.queries.by_refs(error_refs)
    served = {ref for ref, body in zip(error_refs, found, strict=True) if body is not None}
    return {
        "step": "done",
        "location": location_data(location.type, location.target),
        "registered": registered_data(location),
        "processed": root_served,
        "entities": [views.summary(e) for e in shown],
        # Served ones: entities with errors in their own file are not served.
        "entity_count": sum(kinds.values()),
        "kinds": kinds,
        "error_entities": [
            {
                **views.ref_link(ref),
                "served": ref in served,
                "errors": [error_json_data(e) for e in errs],
            }
            for ref, errs in errors[:RESULT_ITEMS]
        ],
        "error_count": len(errors),
    }


def classify_target(raw: str, base_dir: Any) -> tuple[str, str]:
    """`(type, target)` of what a person typed: `git:` → git, http(s) → url, else a path.

    Relative paths are resolved against the configuration file's folder, as the
    config's own `file` locations are.
    """
    target = raw.strip()
    if not target:
        raise InputError("Enter the URL of a catalog-info.yaml file")
    if len(target) > MAX_TARGET or any(ord(c) < 32 for c in target):
        raise InputError(f"A location must be one line of at most {MAX_TARGET} characters")
    if target.startswith("git:"):
        return "git", target[4:]
    if _URL.match(target):
        return "url", target
    return "file", resolve_config_target("file", target, base_dir)


def form_target(type_: str, target: str) -> str:
    """What the form field holds for a location, so that `classify_target` gives it back."""
    return f"git:{target}" if type_ == "git" else target


def entities_root_ref(type_: str, target: str) -> str:
    return StoredLocation("", type_, target).entity_ref


def error_data(error: GreenroomError) -> dict[str, Any]:
    return {
        "name": error.name,
        "message": error.message,
        "file": error.file,
        "line": error.line,
        "field": error.field,
    }


def error_json_data(error: dict[str, Any]) -> dict[str, Any]:
    """A stored processing error (serialized JSON) as `error_data` shapes it."""
    where = error.get("sourceLocation") if isinstance(error.get("sourceLocation"), dict) else {}
    return {
        "name": str(error.get("name") or "Error"),
        "message": str(error.get("message") or ""),
        "file": where.get("file"),
        "line": where.get("line"),
        "field": where.get("field"),
    }
