"""Mounting plugin APIs: each one a small FastAPI app at its prefix, so each serves its
own OpenAPI document (`<prefix>/openapi.json`) and shares the error handling and guard."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from greenroom import __version__
from greenroom.permissions import Permissions
from greenroom.web.errors import install_error_handlers


@dataclass(frozen=True)
class ApiRouter:
    """What a plugin contributes through the `api_routers` hook."""

    prefix: str  # e.g. /api/catalog
    title: str
    description: str
    router: APIRouter


def api_app(api: ApiRouter, permissions: Permissions) -> FastAPI:
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
    app.include_router(api.router)
    return app
