"""`Server-Timing: app;dur=<ms>` on every response: how long the app took to answer.

The time runs from the request's arrival to the start of the response (status and
headers), so it covers routing, the handler, rendering and compression of the first
chunk, and not the network. Browsers show it in their developer tools, and
`bench/pages.py` reads it to tell server time from client time.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"server-timing"


class ServerTiming:
    """Pure ASGI middleware (no buffering, works for streamed and mounted apps alike)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                headers = [*message.get("headers", ()), (HEADER, f"app;dur={ms:.2f}".encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_timed)
