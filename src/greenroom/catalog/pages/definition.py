"""The API entity's Definition tab: OpenAPI as a list of operations, other types as
highlighted source, all rendered on the server (Backstage ships Swagger UI for this)."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from fastapi import APIRouter, Request, Response

from greenroom.catalog.apidocs import highlight_css, render_definition

CODE_CSS_PATH = "/assets/code.css"


@cache
def _code_css() -> tuple[str, str]:
    css = highlight_css()
    return css, hashlib.sha1(css.encode()).hexdigest()[:10]


def code_css_url() -> str:
    return f"{CODE_CSS_PATH}?v={_code_css()[1]}"


def definition_tab(portal: Any, request: Request, entity: dict[str, Any]) -> dict[str, Any]:
    view = request.query_params.get("view", "")
    definition = render_definition(entity)
    return {
        "definition": definition,
        "view": "source" if view == "source" or definition.kind != "openapi" else "operations",
        "code_css": code_css_url(),
    }


def definition_pages(portal: Any) -> APIRouter:
    router = APIRouter()

    @router.get(CODE_CSS_PATH)
    def code_css() -> Response:
        """Syntax colours for both themes, generated from Pygments once per process."""
        return Response(
            _code_css()[0],
            media_type="text/css",
            headers={"cache-control": "public, max-age=31536000, immutable"},
        )

    return router
