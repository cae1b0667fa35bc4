"""The catalog REST API, with Backstage's paths, parameters, shapes and status codes.

Each route names its permission (see `route`); the guard checks it before the
handler runs. Handlers parse, call the catalog service, and write JSON bytes.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from greenroom.catalog.api import models
from greenroom.catalog.processing.locations import MANAGED_BY_ORIGIN
from greenroom.catalog.providers import StoredLocation
from greenroom.catalog.query.cursors import decode_cursor, encode_cursor
from greenroom.catalog.query.fields import parse_fields
from greenroom.catalog.query.predicates import (
    EVERYTHING,
    Predicate,
    both,
    matches,
    parse_filter_params,
    parse_predicate,
)
from greenroom.catalog.query.service import (
    DEFAULT_LIMIT,
    MAX_OFFSET,
    MAX_ORDER_FIELDS,
    FullText,
    Order,
    QueryRequest,
)
from greenroom.catalog.registration import check_location_type, check_writable
from greenroom.catalog.service import CatalogService
from greenroom.config import Config
from greenroom.errors import ConflictError, InputError, NotFoundError
from greenroom.permissions import (
    CATALOG_ENTITY_DELETE,
    CATALOG_ENTITY_READ,
    CATALOG_ENTITY_REFRESH,
    CATALOG_ENTITY_VALIDATE,
    CATALOG_LOCATION_ANALYZE,
    CATALOG_LOCATION_CREATE,
    CATALOG_LOCATION_DELETE,
    CATALOG_LOCATION_READ,
    CATALOG_LOCATION_UPDATE,
    Permission,
)
from greenroom.web.guard import PERMISSION_EXTRA, require

JSON = "application/json; charset=utf-8"
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": models.ErrorResponse, "description": description}
    for status, description in (
        (400, "Invalid input"),
        (403, "Not allowed"),
        (404, "Not found"),
        (409, "Conflict"),
        (413, "Body too large"),
    )
}

FilterParam = Annotated[
    list[str],
    Query(
        alias="filter",
        description="`key=value` conditions, comma-separated (AND); repeat the parameter for OR.",
    ),
]
FieldsParam = Annotated[list[str], Query(description="Dotted paths to keep, comma-separated.")]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON, headers=headers)


def _array(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def _location_json(location: StoredLocation) -> dict[str, str]:
    return {
        "id": location.id,
        "type": location.type,
        "target": location.target,
        "entityRef": location.entity_ref,
    }


def _order_param(raw: str) -> Order:
    direction, sep, field = raw.partition(":")
    if not sep or direction not in ("asc", "desc") or not field.strip():
        raise InputError(f"Invalid order parameter {raw!r}, expected asc:<field> or desc:<field>")
    return Order(field.strip().lower(), direction == "desc")


def _order_field(raw: str) -> Order:
    field, _, direction = raw.partition(",")
    direction = direction.strip().lower() or "asc"
    if not field.strip() or direction not in ("asc", "desc"):
        raise InputError(f"Invalid orderField {raw!r}, expected <field>,asc or <field>,desc")
    return Order(field.strip().lower(), direction == "desc")


def _page_response(
    service: CatalogService,
    cursor: str | None,
    new_request: Callable[[], QueryRequest],
    limit: int | None,
    fields: Any,
) -> Response:
    """A by-query page: the request a cursor continues, else a new one; then `limit`
    (which a cursor does not carry) and `fields` apply."""
    request = service.queries.request_from_cursor(cursor) if cursor is not None else new_request()
    request.limit = DEFAULT_LIMIT if limit is None else limit
    page = service.queries.page(request, fields)
    info: dict[str, str] = {}
    if page.next_cursor:
        info["nextCursor"] = page.next_cursor
    if page.prev_cursor:
        info["prevCursor"] = page.prev_cursor
    body = (
        b'{"items":'
        + _array(page.items)
        + b',"totalItems":'
        + str(page.total).encode()
        + b',"pageInfo":'
        + orjson.dumps(info)
        + b"}"
    )
    return Response(body, media_type=JSON)


def catalog_router(service: CatalogService, config: Config) -> APIRouter:
    """The routes of /api/catalog."""
    router = APIRouter()

    def route(
        method: str, path: str, permission: Permission, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a handler behind the permission guard; no route exists without one.

        Query parameters the handler does not declare are refused (400), as upstream
        does, so a misspelt `filter` is an error rather than an unfiltered answer.
        """
        kwargs.setdefault("responses", {})
        kwargs["responses"] = {**_ERRORS, **kwargs["responses"]}
        declared: set[str] = set()

        def known_parameters(request: Request) -> None:
            for name in request.query_params:
                if name not in declared:
                    raise InputError(f"Unknown query parameter '{name}'")

        add = router.api_route(
            path,
            methods=[method],
            dependencies=[Depends(require(permission)), Depends(known_parameters)],
            openapi_extra={PERMISSION_EXTRA: permission.name},
            **kwargs,
        )

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            added = add(handler)
            declared.update(p.alias for p in router.routes[-1].dependant.query_params)
            return added

        return register

    # --- entities ------------------------------------------------------------------------

    @route(
        "GET",
        "/entities",
        CATALOG_ENTITY_READ,
        responses={200: {"model": list[models.PartialEntity], "description": "Entities"}},
    )
    def list_entities(
        request: Request,
        filters: FilterParam = [],  # noqa: B006 - FastAPI reads defaults, never mutates them
        fields: FieldsParam = [],  # noqa: B006
        order: Annotated[list[str], Query(description="asc:<field> or desc:<field>")] = [],  # noqa: B006
        limit: Annotated[int | None, Query(gt=0, le=MAX_OFFSET)] = None,
        offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
        after: Annotated[str | None, Query(min_length=1)] = None,
    ) -> Response:
        """All matching entities as a bare array; with limit/offset/after, one page and a Link header."""
        predicate = parse_filter_params(filters)
        projection = parse_fields(fields)
        if len(order) > MAX_ORDER_FIELDS:
            raise InputError(f"Too many order parameters, at most {MAX_ORDER_FIELDS} are allowed")
        orders = [_order_param(o) for o in order]
        if limit is None and offset is None and after is None:
            found = service.queries.list_all(predicate, orders[0] if orders else None, projection)
            if isinstance(found, list):
                return Response(_array(found), media_type=JSON)
            return StreamingResponse(_stream_array(found), media_type=JSON)
        if after is not None:
            position = decode_cursor(after)
            offset, limit = position.get("offset"), limit or position.get("limit")
            if not all(_count(v) and v >= low for v, low in ((offset, 0), (limit, 1))):
                raise InputError("Malformed cursor")
        offset = offset or 0
        items, more = service.queries.list_page(predicate, orders, limit, offset, projection)
        headers = {}
        if more and limit is not None:
            cursor = encode_cursor({"limit": limit, "offset": offset + limit})
            query = [
                (k, v)
                for k, v in request.query_params.multi_items()
                if k not in ("offset", "after")
            ]
            query.append(("after", cursor))
            headers["Link"] = f'</entities?{urllib.parse.urlencode(query)}>; rel="next"'
        return Response(_array(items), media_type=JSON, headers=headers)

    @route(
        "GET",
        "/entities/by-query",
        CATALOG_ENTITY_READ,
        responses={200: {"model": models.QueryResponse, "description": "A page"}},
    )
    def query_entities(
        filters: FilterParam = [],  # noqa: B006
        fields: FieldsParam = [],  # noqa: B006
        limit: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
        offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
        orderField: Annotated[list[str], Query(description="<field>,asc|desc")] = [],  # noqa: B006
        fullTextFilterTerm: str | None = None,
        fullTextFilterFields: str | None = None,
        totalItems: Annotated[str | None, Query(pattern="^(include|exclude)$")] = None,
        cursor: Annotated[str | None, Query(min_length=1)] = None,
    ) -> Response:
        """A page of entities with totalItems and cursors (base64 JSON, valid on GET and POST)."""

        def new_request() -> QueryRequest:
            full_text = None
            if fullTextFilterTerm is not None:
                full_text = FullText.of(fullTextFilterTerm, (fullTextFilterFields or "").split(","))
            return QueryRequest(
                predicate=parse_filter_params(filters),
                order=_order_field(orderField[0]) if orderField else None,
                full_text=full_text,
                offset=offset or 0,
                include_total=totalItems != "exclude",
            )

        return _page_response(service, cursor, new_request, limit, parse_fields(fields))

    @route(
        "POST",
        "/entities/by-query",
        CATALOG_ENTITY_READ,
        responses={200: {"model": models.QueryResponse, "description": "A page"}},
    )
    def query_entities_post(body: models.QueryBody) -> Response:
        """The same as GET, with a predicate object in `query`."""

        def new_request() -> QueryRequest:
            full_text = None
            if body.fullTextFilter is not None:
                full_text = FullText.of(body.fullTextFilter.term, body.fullTextFilter.fields or [])
            first = body.orderBy[0] if body.orderBy else None
            return QueryRequest(
                predicate=parse_predicate(body.query) if body.query is not None else EVERYTHING,
                order=Order(first.field.strip().lower(), first.order == "desc") if first else None,
                full_text=full_text,
                offset=body.offset or 0,
                include_total=body.totalItems != "exclude",
            )

        projection = parse_fields(body.fields or [])
        return _page_response(service, body.cursor, new_request, body.limit, projection)

    @route(
        "GET",
        "/entities/by-uid/{uid}",
        CATALOG_ENTITY_READ,
        responses={200: {"model": models.Entity, "description": "The entity"}},
    )
    def entity_by_uid(uid: str) -> Response:
        body = service.queries.by_uid(uid)
        if body is None:
            raise NotFoundError(f"No entity with uid {uid}")
        return Response(body, media_type=JSON)

    @route("DELETE", "/entities/by-uid/{uid}", CATALOG_ENTITY_DELETE, status_code=204)
    def delete_entity(uid: str) -> Response:
        """Removes the entity; a location that still emits it brings it back with a new uid."""
        service.engine.delete_entity(uid)
        return Response(status_code=204)

    @route(
        "GET",
        "/entities/by-name/{kind}/{namespace}/{name}",
        CATALOG_ENTITY_READ,
        responses={200: {"model": models.Entity, "description": "The entity"}},
    )
    def entity_by_name(kind: str, namespace: str, name: str) -> Response:
        body = service.queries.by_ref(f"{kind}:{namespace}/{name}")
        if body is None:
            raise NotFoundError(
                f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
            )
        return Response(body, media_type=JSON)

    @route(
        "GET",
        "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
        CATALOG_ENTITY_READ,
        responses={200: {"model": models.AncestryResponse, "description": "Parent chain"}},
    )
    def entity_ancestry(kind: str, namespace: str, name: str) -> Response:
        ref = f"{kind}:{namespace}/{name}".lower()
        found = service.queries.ancestry(ref)
        if found is None:
            raise NotFoundError(f"No such entity {ref}")
        root, items = found
        body = (
            b'{"rootEntityRef":'
            + orjson.dumps(root)
            + b',"items":['
            + b",".join(
                b'{"entity":' + entity + b',"parentEntityRefs":' + orjson.dumps(parents) + b"}"
                for entity, parents in items
            )
            + b"]}"
        )
        return Response(body, media_type=JSON)

    @route(
        "POST",
        "/entities/by-refs",
        CATALOG_ENTITY_READ,
        responses={200: {"model": models.ByRefsResponse, "description": "In request order"}},
    )
    def entities_by_refs(
        body: models.ByRefsBody,
        filters: FilterParam = [],  # noqa: B006
        fields: FieldsParam = [],  # noqa: B006
    ) -> Response:
        """Entities for refs, in order, with null where one is missing or filtered out."""
        predicate: Predicate = parse_filter_params(filters)
        if body.query is not None:
            predicate = both(predicate, parse_predicate(body.query))
        projection = parse_fields([*(body.fields or []), *fields])
        items = service.queries.by_refs(body.entityRefs, predicate, projection)
        return Response(
            b'{"items":' + _array([i if i is not None else b"null" for i in items]) + b"}",
            media_type=JSON,
        )

    @route(
        "GET",
        "/entity-facets",
        CATALOG_ENTITY_READ,
        responses={200: {"model": models.FacetsResponse, "description": "Value counts"}},
    )
    def entity_facets(
        facet: Annotated[
            list[str], Query(description="A dotted field path; repeat for more.")
        ] = [],  # noqa: B006
        filters: FilterParam = [],  # noqa: B006
    ) -> Response:
        if not facet:
            raise InputError("Missing facet parameter")
        return _json({"facets": service.queries.facets(facet, parse_filter_params(filters))})

    @route(
        "POST",
        "/entity-facets",
        CATALOG_ENTITY_READ,
        responses={200: {"model": models.FacetsResponse, "description": "Value counts"}},
    )
    def entity_facets_post(body: models.FacetsBody) -> Response:
        predicate = parse_predicate(body.query) if body.query is not None else EVERYTHING
        return _json({"facets": service.queries.facets(body.facets, predicate)})

    @route(
        "POST",
        "/refresh",
        CATALOG_ENTITY_REFRESH,
        response_class=Response,
        responses={200: {"description": "Scheduled (empty body)", "content": {}}},
    )
    def refresh(body: models.RefreshBody) -> Response:
        """Process the entity and the locations it comes from now."""
        if not service.engine.refresh(body.entityRef):
            raise NotFoundError(f"Entity {body.entityRef.lower()} not found")
        return Response(status_code=200)

    @route(
        "POST",
        "/validate-entity",
        CATALOG_ENTITY_VALIDATE,
        response_class=Response,
        responses={
            200: {"description": "Valid (empty body)", "content": {}},
            400: {"model": models.ValidateErrors | models.ErrorResponse, "description": "Invalid"},
        },
    )
    def validate_entity(body: dict[str, Any]) -> Response:
        """Runs full processing on an entity without storing it."""
        entity = body.get("entity")
        if not isinstance(entity, dict):
            raise InputError("Malformed request body, entity must be an object")
        location = body.get("location")
        if not isinstance(location, str) or not location.startswith("url:"):
            error = InputError("Invalid location ref, expected url:<target>")
            return _json({"errors": [error.to_json()]}, status=400)
        errors = service.validate_entity(entity, location)
        if errors:
            return _json({"errors": [e.to_json() for e in errors]}, status=400)
        return Response(status_code=200)

    # --- locations ------------------------------------------------------------------------

    @route(
        "GET",
        "/locations",
        CATALOG_LOCATION_READ,
        responses={200: {"model": list[models.LocationItem], "description": "Locations"}},
    )
    def list_locations() -> Response:
        """Registered locations, each wrapped in {data} as upstream does."""
        return _json([{"data": _location_json(loc)} for loc in service.locations.list()])

    @route(
        "POST",
        "/locations/by-query",
        CATALOG_LOCATION_READ,
        responses={200: {"model": models.LocationsPage, "description": "A page"}},
    )
    def query_locations(body: models.LocationsQueryBody) -> Response:
        limit = body.limit or 1000
        start = 0
        query = body.query
        if body.cursor is not None:
            position = decode_cursor(body.cursor)
            start, query = position.get("offset"), position.get("query")
            if not _count(start) or start < 0:
                raise InputError("Malformed cursor")
        predicate = parse_predicate(query) if query is not None else EVERYTHING
        found = [
            loc
            for loc in service.locations.list()
            if matches(
                predicate,
                {"id": loc.id, "type": loc.type, "target": loc.target, "entityref": loc.entity_ref},
            )
        ]
        items = found[start : start + limit]
        info = {}
        if start + limit < len(found):
            info["nextCursor"] = encode_cursor({"offset": start + limit, "query": query})
        return _json(
            {
                "items": [_location_json(x) for x in items],
                "totalItems": len(found),
                "pageInfo": info,
            }
        )

    @route(
        "POST",
        "/locations",
        CATALOG_LOCATION_CREATE,
        status_code=201,
        responses={201: {"model": models.AddLocationResponse, "description": "Registered"}},
    )
    def add_location(
        body: models.LocationInput,
        dryRun: bool = False,
        onConflict: Annotated[str | None, Query(pattern="^(refresh|reject)$")] = None,
    ) -> Response:
        """Register a location (processed in the background), or with dryRun, process it now."""
        check_location_type(config, body.type)
        if dryRun:
            return _dry_run(service, body.type, body.target)
        check_writable(config)
        existing = service.locations.find(body.type, body.target)
        if existing is not None:
            strategy = onConflict or config.catalog.default_location_conflict_strategy
            if strategy != "refresh":
                raise ConflictError(f"Location {body.type}:{body.target} already exists")
            service.engine.refresh(existing.entity_ref)
            return _json({"location": _location_json(existing), "entities": []}, status=201)
        location, _ = service.add_location(body.type, body.target)
        return _json({"location": _location_json(location), "entities": []}, status=201)

    @route(
        "GET",
        "/locations/by-entity/{kind}/{namespace}/{name}",
        CATALOG_LOCATION_READ,
        responses={200: {"model": models.Location, "description": "The location"}},
    )
    def location_by_entity(kind: str, namespace: str, name: str) -> Response:
        """The registered location an entity originates from."""
        ref = f"{kind}:{namespace}/{name}".lower()
        body = service.queries.by_ref(ref)
        origin = None
        if body is not None:
            annotations = orjson.loads(body).get("metadata", {}).get("annotations", {})
            origin = annotations.get(MANAGED_BY_ORIGIN)
        if isinstance(origin, str) and ":" in origin:
            type_, _, target = origin.partition(":")
            location = service.locations.find(type_, target)
            if location is not None:
                return _json(_location_json(location))
        raise NotFoundError(f"No location found for entity {ref}")

    @route(
        "GET",
        "/locations/{id}",
        CATALOG_LOCATION_READ,
        responses={200: {"model": models.Location, "description": "The location"}},
    )
    def get_location(id: str) -> Response:
        location = service.locations.get(id)
        if location is None:
            raise NotFoundError(f"Found no location with ID {id}")
        return _json(_location_json(location))

    @route(
        "PUT",
        "/locations/{id}",
        CATALOG_LOCATION_UPDATE,
        responses={200: {"model": models.Location, "description": "The changed location"}},
    )
    def update_location(id: str, body: models.LocationUpdate) -> Response:
        check_writable(config)
        check_location_type(config, body.type)
        location = service.locations.update(id, body.type, body.target)
        if location is None:
            raise NotFoundError(f"Found no location with ID {id}")
        service.engine.run_providers()
        return _json(_location_json(location))

    @route("DELETE", "/locations/{id}", CATALOG_LOCATION_DELETE, status_code=204)
    def delete_location(id: str) -> Response:
        check_writable(config)
        if not service.remove_location(id):
            raise NotFoundError(f"Found no location with ID {id}")
        return Response(status_code=204)

    @route(
        "POST",
        "/analyze-location",
        CATALOG_LOCATION_ANALYZE,
        responses={200: {"model": models.AnalyzeResponse, "description": "Suggestions"}},
    )
    def analyze_location(body: models.AnalyzeBody) -> Response:
        """Suggests a Component for a repository URL that has no catalog file yet."""
        return _json(_analyze(body.location.target))

    return router


def _count(value: Any) -> bool:
    """An integer a client may send as a count or position (not a bool, not huge)."""
    return type(value) is int and value <= MAX_OFFSET


def _stream_array(chunks: Iterator[list[bytes]]) -> Iterator[bytes]:
    """A JSON array written a chunk of entities at a time."""
    yield b"["
    first = True
    for chunk in chunks:
        if not chunk:
            continue
        yield (b"" if first else b",") + b",".join(chunk)
        first = False
    yield b"]"


def _dry_run(service: CatalogService, type_: str, target: str) -> Response:
    result = service.dry_run_location(type_, target)
    if result.errors:
        raise InputError(", ".join(e.message for e in result.errors))
    existing = service.locations.find(type_, target)
    location = StoredLocation(f"{type_}:{target}", type_, target)
    return _json(
        {
            "exists": existing is not None,
            "location": _location_json(location),
            "entities": result.entities,
        },
        status=201,
    )


_REPO_PATH = re.compile(r"^/([^/]+)/([^/]+?)(?:\.git)?(?:/.*)?$")


def _analyze(target: str) -> dict[str, Any]:
    url = urllib.parse.urlparse(target)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InputError("The given location.target is not a URL")
    match = _REPO_PATH.match(url.path)
    owner, repo = (match.group(1), match.group(2)) if match else ("", url.hostname)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", repo).strip("-._")[:63] or "component"
    annotations = {f"{url.hostname}/project-slug": f"{owner}/{repo}"} if owner else {}
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"type": "other", "lifecycle": "unknown"},
    }
    return {
        "existingEntityFiles": [],
        "generateEntities": [
            {
                "entity": entity,
                "fields": [
                    {
                        "field": "spec.owner",
                        "state": "needsUserInput",
                        "value": "",
                        "description": "Entity owner, the group responsible for the component",
                    }
                ],
            }
        ],
    }
