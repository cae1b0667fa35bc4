"""The ASGI application: HTTP routes plus the in-process catalog workers."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from greenroom import __version__
from greenroom.plugins import collect
from greenroom.portal import Portal
from greenroom.web.apis import ApiMount, api_app
from greenroom.web.errors import install_error_handlers
from greenroom.web.pages import STATIC_DIR, STATIC_PREFIX, CachedStatic, PageCompression, Pages
from greenroom.web.timing import ServerTiming

log = logging.getLogger(__name__)


def create_app(portal: Portal, *, run_workers: bool = True, worker_count: int = 1) -> FastAPI:
    """The portal's web app. With `run_workers`, catalog processing runs in background threads."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_workers:
            for index in range(worker_count):
                thread = threading.Thread(
                    target=portal.catalog.engine.run_forever,
                    args=(stop,),
                    name=f"catalog-worker-{index}",
                    daemon=True,
                )
                thread.start()
                threads.append(thread)
        feed = threading.Thread(
            target=portal.catalog.feed.run, args=(stop,), name="change-feed", daemon=True
        )
        feed.start()
        threads.append(feed)
        yield
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

    app = FastAPI(
        title="Greenroom", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.portal = portal
    app.state.permissions = portal.permissions
    install_error_handlers(app)
    for api in collect(portal.pm.hook.api_routers(portal=portal)):
        sub_app = api_app(
            api, portal.permissions, max_body_bytes=portal.config.server.max_body_bytes
        )
        app.router.routes.append(ApiMount(api.prefix, sub_app))
    page_routers = collect(portal.pm.hook.page_routers(portal=portal))
    pages = Pages(portal, page_routers, collect(portal.pm.hook.nav_items(portal=portal)))
    app.state.pages = pages
    app.state.error_page = pages.error_page
    app.mount(STATIC_PREFIX, CachedStatic(directory=STATIC_DIR), name="static")
    for page_router in page_routers:
        app.include_router(page_router.router, include_in_schema=False)
    app.add_middleware(PageCompression)
    app.add_middleware(ServerTiming)  # outermost: the time includes compression

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """Liveness and database reachability, for load balancers."""
        try:
            with portal.db.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # report, don't crash the probe
            return JSONResponse({"status": "error", "message": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__})

    return app
