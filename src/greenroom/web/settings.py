"""The Settings page: who you are, the theme, and where the APIs are documented.

The theme is a cookie (`THEME_COOKIE`) the layout reads on every page; the header's
toggle and this page's radio buttons both post to `/settings/theme`, which sets it
and sends the browser back to the page it came from, if that is a page of this portal.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from greenroom.errors import InputError
from greenroom.permissions import GUEST, Identity
from greenroom.plugins import collect
from greenroom.web.guard import caller
from greenroom.web.pages import (
    THEME_COOKIE,
    THEMES,
    check_same_origin,
    pages_of,
    theme_of,
    wants_json,
)

PATH = "/settings"
THEME_MAX_AGE = 365 * 24 * 3600
THEME_LABELS = {
    "system": ("System", "Follow the operating system's light or dark setting."),
    "light": ("Light", "Dark text on a light background."),
    "dark": ("Dark", "Light text on a dark background."),
}


def local_path(target: str | None) -> str | None:
    """`target` if it is a path of this site (`/catalog?x=1`), else None.

    Refuses what a browser would take to another site or scheme: `//host`, `/\\host`
    (browsers read a backslash as a slash), `https://…`, `javascript:…`, and control
    characters (which browsers strip, turning `/\\t/host` into `//host`).
    """
    if not target or len(target) > 2048:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def settings_pages(portal: Any) -> APIRouter:
    router = APIRouter()
    api_docs: list[dict[str, str]] = []

    def apis() -> list[dict[str, str]]:
        """Each mounted API's explorer and OpenAPI document (as `create_app` mounts them)."""
        if not api_docs:
            for api in collect(portal.pm.hook.api_routers(portal=portal)):
                api_docs.append(
                    {
                        "title": api.title,
                        "description": api.description,
                        "docs_url": f"{api.prefix}/docs",
                        "openapi_url": f"{api.prefix}/openapi.json",
                    }
                )
        return api_docs

    @router.get(PATH)
    def settings(request: Request, identity: Identity = Depends(caller)) -> Response:
        theme = theme_of(request)
        data = {
            "identity": identity_data(portal, identity),
            "current_theme": theme,
            "themes": [
                {
                    "value": value,
                    "label": THEME_LABELS[value][0],
                    "hint": THEME_LABELS[value][1],
                    "chosen": value == theme,
                }
                for value in THEMES
            ],
            "apis": apis(),
        }
        return pages_of(request).render(request, "settings.html", data, title="Settings")

    @router.post(PATH + "/theme")
    def set_theme(
        request: Request,
        theme: str = Form(...),
        next_url: str = Form("", alias="next"),
        identity: Identity = Depends(caller),
    ) -> Response:
        check_same_origin(request)
        if theme not in THEMES:
            raise InputError(f"Unknown theme {theme[:40]!r}; choose one of {', '.join(THEMES)}")
        target = local_path(next_url) or PATH
        response: Response
        if wants_json(request):
            response = Response(
                orjson.dumps({"theme": theme, "next": target}), media_type="application/json"
            )
        else:
            response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            THEME_COOKIE,
            theme,
            max_age=THEME_MAX_AGE,
            path="/",
            samesite="lax",
            secure=request.url.scheme == "https",
            # Not httponly: the header's toggle switches the theme in place and writes
            # the same cookie from script.
            httponly=False,
        )
        return response

    return router


def identity_data(portal: Any, identity: Identity) -> dict[str, Any]:
    """The caller as the Settings page shows it, linked to its catalog entities if any."""
    from greenroom.catalog.pages import views

    refs = [identity.user_entity_ref, *identity.ownership_entity_refs]
    found = portal.catalog.queries.by_refs(refs)
    in_catalog = {ref for ref, body in zip(refs, found, strict=True) if body is not None}

    def link(ref: str) -> dict[str, Any]:
        item = views.ref_link(ref)
        return {**item, "url": item["url"] if ref in in_catalog else None}

    return {
        "user": link(identity.user_entity_ref),
        "guest": identity == GUEST,
        "ownership": [
            link(ref) for ref in identity.ownership_entity_refs if ref != identity.user_entity_ref
        ],
    }
