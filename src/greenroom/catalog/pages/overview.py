"""The entity page's Overview tab: the about card, links, and one card per kind of relation."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.pages import views
from greenroom.web.pages import query_url

CARD_ITEMS = 20  # related entities listed per card; the rest are a link away


def overview_data(portal: Any, request: Request, entity: dict[str, Any]) -> dict[str, Any]:
    """The overview tab: the about card and one card per kind of relation."""
    queries = portal.catalog.queries
    grouped = views.relation_refs(entity)
    shown = sorted({ref for refs in grouped.values() for ref in refs[:CARD_ITEMS]})
    found = {
        entity_ref_of(e): e
        for e in (orjson.loads(b) for b in queries.by_refs(shown) if b is not None)
    }
    ref = entity_ref_of(entity)
    cards = []
    for type_, heading in views.RELATION_CARDS:
        refs = grouped.get(type_)
        if not refs:
            continue
        items = []
        for target in refs[:CARD_ITEMS]:
            related = found.get(target)
            item = (
                views.summary(related) if related else {**views.ref_link(target), "missing": True}
            )
            items.append(item)
        more_url = None
        if len(refs) > CARD_ITEMS and type_ == "ownerOf":
            more_url = query_url("/catalog", [("filters[kind]", "all"), ("filters[owners]", ref)])
        cards.append(
            {
                "type": type_,
                "title": heading,
                "entities": items,
                "total": len(refs),
                "more_url": more_url,
            }
        )
    spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
    profile = spec.get("profile") if isinstance(spec.get("profile"), dict) else {}
    domain = next((r for r in grouped.get("partOf", []) if r.startswith("domain:")), None)
    return {
        "links": views.links(entity),
        "source_links": views.source_links(entity),
        "domain": views.ref_link(domain, context_kind="domain") if domain else None,
        "email": profile.get("email") if isinstance(profile.get("email"), str) else None,
        "cards": cards,
    }
