"""The entity page's Inspect tab: the served entity as YAML or JSON, its relations,
its processing status, and where it came from (the chain of locations that emitted it)."""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from fastapi import Request

from greenroom.catalog.apidocs import highlight
from greenroom.catalog.model import entity_ref_of
from greenroom.catalog.pages import views
from greenroom.catalog.pages.definition import code_css_url

_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def inspect_tab(portal: Any, request: Request, entity: dict[str, Any]) -> dict[str, Any]:
    view = "json" if request.query_params.get("view") == "json" else "yaml"
    if view == "json":
        source = orjson.dumps(entity, option=orjson.OPT_INDENT_2).decode()
    else:
        source = yaml.dump(entity, Dumper=_SafeDumper, sort_keys=False, allow_unicode=True)
    ref = entity_ref_of(entity)
    ancestry = portal.catalog.queries.ancestry(ref)
    chain = []
    for body, parents in ancestry[1] if ancestry else []:
        item = orjson.loads(body)
        chain.append(
            {**views.ref_link(entity_ref_of(item)), "parents": [views.ref_link(p) for p in parents]}
        )
    status = entity.get("status") if isinstance(entity.get("status"), dict) else {}
    return {
        "view": view,
        "source_html": highlight(source, view),
        "code_css": code_css_url(),
        "relations": [
            {"type": r.get("type"), **views.ref_link(str(r.get("targetRef", "")))}
            for r in entity.get("relations") or []
        ],
        "status": status.get("items") or [],
        "managed_by": views.managed_by(entity),
        "ancestry": chain,
    }
