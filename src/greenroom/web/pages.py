"""Server-rendered pages: the layout, the templates of every plugin, and JSON twins.

A page handler builds plain data (dicts, lists, strings, numbers) from service
calls and hands it to `render`. The same URL with `?format=json` answers that
data as JSON, so every page has a machine-readable twin built from exactly the
same calls, and templates never reach for anything the JSON does not show.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from greenroom import __version__
from greenroom.errors import NotAllowedError

if TYPE_CHECKING:
    from greenroom.portal import Portal

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
STATIC_PREFIX = "/static"
THEME_COOKIE = "greenroom-theme"
THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class PageRouter:
    """What a plugin contributes through the `page_routers` hook."""

    router: APIRouter
    # A folder of Jinja templates; names should start with the plugin's own folder
    # (`catalog/entity.html`) so plugins never shadow each other.
    templates: Path | None = None


@dataclass(frozen=True)
class NavItem:
    """A sidebar entry. It is shown as current on `href` and every path under it."""

    title: str
    href: str
    icon: str  # an icon of the layout's sprite (see templates/icons.html)
    order: int = 100


def wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


def query_url(path: str, params: Iterable[tuple[str, str]]) -> str:
    """`path?params`, leaving out empty values."""
    kept = [(k, v) for k, v in params if v not in ("", None)]
    return f"{path}?{urlencode(kept)}" if kept else path


class Pages:
    """The Jinja environment shared by every plugin's pages, and page rendering."""

    def __init__(self, portal: Portal, routers: list[PageRouter], nav: list[NavItem]) -> None:
        self.portal = portal
        self.nav = sorted(nav, key=lambda item: (item.order, item.title))
        folders = [TEMPLATES_DIR] + [r.templates for r in routers if r.templates is not None]
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.do"],
        )
        self.env.globals.update(
            static=self.static_url,
            version=__version__,
            query_url=query_url,
            portal_title=portal.config.app.title,
        )

    @cached_property
    def _static_versions(self) -> dict[str, str]:
        return {
            path.relative_to(STATIC_DIR).as_posix(): hashlib.sha1(path.read_bytes()).hexdigest()[
                :10
            ]
            for path in STATIC_DIR.rglob("*")
            if path.is_file()
        }

    def static_url(self, name: str) -> str:
        """A URL that changes with the file's content, so browsers may cache it for good."""
        return f"{STATIC_PREFIX}/{name}?v={self._static_versions.get(name, __version__)}"

    def render(
        self,
        request: Request,
        template: str,
        data: Mapping[str, Any],
        *,
        title: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The page, or its data as JSON when the URL asks for `format=json`."""
        if wants_json(request):
            return Response(
                orjson.dumps(data, default=_json_default),
                status_code=status,
                media_type="application/json",
                headers=headers,
            )
        html = self.env.get_template(template).render(
            **data,
            data=data,
            title=title,
            request=request,
            path=request.url.path,
            nav=self.nav,
            theme=theme_of(request),
            json_url=query_url(
                request.url.path, [*request.query_params.multi_items(), ("format", "json")]
            ),
        )
        return HTMLResponse(html, status_code=status, headers=headers)

    def error_page(self, request: Request, status: int, message: str) -> Response:
        titles = {404: "Not found", 403: "Not allowed", 400: "Bad request", 503: "Busy"}
        return self.render(
            request,
            "error.html",
            {"status": status, "message": message},
            title=titles.get(status, "Something went wrong"),
            status=status,
        )


def theme_of(request: Request) -> str:
    theme = request.cookies.get(THEME_COOKIE, "system")
    return theme if theme in THEMES else "system"


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(type(value).__name__)


def pages_of(request: Request) -> Pages:
    return request.app.state.pages


def check_same_origin(request: Request) -> None:
    """Refuse form posts sent from other sites (a browser always says where it posts from)."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if site not in (None, "same-origin", "none") or (
        origin is not None and origin.split("://", 1)[-1] != request.headers.get("host")
    ):
        raise NotAllowedError("Forms may only be sent from this portal's own pages")


class CachedStatic(StaticFiles):
    """Static files with content-hashed URLs: browsers may keep them for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response


class PageCompression:
    """gzip for pages and static files, not for API responses (a 75 MB entity list is
    sent faster as it is than compressed on one core)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/api/"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
