"""Mounting plugin APIs: each one a small FastAPI app at its prefix, so each serves its
own OpenAPI document (`<prefix>/openapi.json`) and shares the error handling and guard."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from starlette.routing import Mount

from greenroom import __version__
from greenroom.permissions import Permissions
from greenroom.web.errors import install_error_handlers
from greenroom.web.limits import RequestGuard


@dataclass(frozen=True)
class ApiRouter:
    """What a plugin contributes through the `api_routers` hook."""

    prefix: str  # e.g. /api/catalog
    title: str
    description: str
    router: APIRouter


class ApiMount(Mount):
    """A mount whose paths may hold any character, as Express allows in a parameter
    (Starlette's pattern stops at a newline, and `/locations/a%0Ab` would miss it)."""

    def __init__(self, path: str, app: FastAPI) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def api_app(api: ApiRouter, permissions: Permissions, *, max_body_bytes: int) -> FastAPI:
    app = FastAPI(
        title=api.title,
        description=api.description,
        version=__version__,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.permissions = permissions
    install_error_handlers(app)
    app.add_middleware(RequestGuard, limit=max_body_bytes)
    app.include_router(api.router)
    return app
