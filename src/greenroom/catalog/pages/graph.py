"""The relation graph: Backstage's `/catalog-graph` page and the entity page's Dependencies tab.

Both take Backstage's graph parameters (`rootEntityRefs[]`, `maxDepth`,
`selectedRelations[]`), so links from Backstage open the same graph here.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from greenroom.catalog.graph import RELATION_PAIRS, layout_graph, neighbourhood, render_svg
from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.model.refs import RefError, parse_entity_ref
from greenroom.catalog.pages import views
from greenroom.catalog.query.service import EntityQueries
from greenroom.errors import InputError, NotFoundError
from greenroom.permissions import CATALOG_ENTITY_READ, Identity
from greenroom.web.guard import require
from greenroom.web.pages import pages_of

MAX_DEPTH = 4
MAX_NODES = 100
_CANONICAL = {
    name.lower(): canonical for pair in RELATION_PAIRS for canonical in pair[:1] for name in pair
}


def _params(request: Request, name: str) -> list[str]:
    """`name[]`, `name[0]` or `name`: every spelling `qs` writes."""
    return [
        value
        for key, value in request.query_params.multi_items()
        if key == name or key.startswith(name + "[")
    ]


def graph_data(queries: EntityQueries, root: str, request: Request) -> dict[str, Any]:
    """The neighbourhood of `root` as the request asks (depth and relation types)."""
    raw_depth = request.query_params.get("maxDepth", "1")
    depth = int(raw_depth) if raw_depth.isdigit() else 1
    depth = max(1, min(depth, MAX_DEPTH))
    chosen = [
        _CANONICAL[r.lower()]
        for r in _params(request, "selectedRelations")
        if r.lower() in _CANONICAL
    ]
    selected = list(dict.fromkeys(chosen)) or [pair[0] for pair in RELATION_PAIRS]
    types = {name for pair in RELATION_PAIRS if pair[0] in selected for name in pair}

    def fetch(refs: list[str]) -> dict[str, dict[str, Any]]:
        found = (orjson.loads(body) for body in queries.by_refs(refs) if body is not None)
        return {entity_ref_of(entity): entity for entity in found}

    hood = neighbourhood(root, fetch, depth=depth, relation_types=types, max_nodes=MAX_NODES)
    svg = render_svg(hood, layout_graph(hood), href=lambda node: views.entity_url(node.ref))
    return {
        "root": views.ref_link(root),
        "depth": depth,
        "depths": list(range(1, MAX_DEPTH + 1)),
        "relations": [
            {"type": canonical, "inverse": inverse, "chosen": canonical in selected}
            for canonical, inverse in RELATION_PAIRS
        ],
        "nodes": [
            {"ref": node.ref, "kind": node.kind, "depth": node.depth, "missing": node.missing}
            for node in hood.nodes.values()
        ],
        "edges": [
            {"source": edge.source, "target": edge.target, "type": edge.label}
            for edge in hood.edges
        ],
        "truncated": hood.truncated,
        "left_out": hood.left_out,
        "svg": svg,
    }


def graph_tab(portal: Any, request: Request, entity: dict[str, Any]) -> dict[str, Any]:
    return graph_data(portal.catalog.queries, entity_ref_of(entity), request)


def graph_pages(portal: Any) -> APIRouter:
    router = APIRouter()
    queries: EntityQueries = portal.catalog.queries

    @router.get("/catalog-graph")
    def catalog_graph(
        request: Request, identity: Identity = Depends(require(CATALOG_ENTITY_READ))
    ) -> Response:
        roots = _params(request, "rootEntityRefs")
        data: dict[str, Any] = {"graph": None, "query": roots[0] if roots else ""}
        if roots:
            try:
                root = str(parse_entity_ref(roots[0].strip(), default_kind="component"))
            except RefError as error:
                raise InputError(f"rootEntityRefs: {error}") from None
            if queries.by_ref(root) is None:
                raise NotFoundError(f"No entity {root} in the catalog")
            data["graph"] = graph_data(queries, root, request)
        return pages_of(request).render(request, "catalog/graph.html", data, title="Catalog graph")

    return router
