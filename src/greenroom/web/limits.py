"""What a request may carry, checked before any route sees it.

Bodies are read here, whole (they are small: the limit is `server.maxBodyBytes`),
so a body over the limit is refused with 413 however it is sent, and a JSON body
that the database could not store (a NUL character, half of a surrogate pair) is
refused with 400 instead of failing deep inside a query.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenroom.errors import GreenroomError, InputError
from greenroom.web.errors import PayloadTooLargeError, error_response

# `\u0000` in JSON text, in any letter case.
_JSON_NUL = re.compile(rb"\\u0000", re.IGNORECASE)


class RequestGuard:
    """ASGI middleware: body size, well-formed JSON text, no NUL characters anywhere."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_url(scope)
            body = await self._read_body(scope, receive)
            if body is not None:
                _check_json(scope, body)
        except GreenroomError as error:
            response = error_response(Request(scope), error.status, error.to_json())
            await response(scope, receive, send)
            return
        if body is None:
            await self.app(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None for requests that have none (GET, HEAD, ...)."""
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            raise PayloadTooLargeError(f"Request body is larger than {self.limit} bytes")
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise PayloadTooLargeError(f"Request body is larger than {self.limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _check_url(scope: Scope) -> None:
    if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        raise InputError("The request URL must not contain NUL characters")


def _check_json(scope: Scope, body: bytes) -> None:
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    if b"json" not in content_type.lower() or not body:
        return  # the route's own parsing says what is wrong with it, if anything
    if b"\x00" in body or _JSON_NUL.search(body):
        raise InputError("The request body must not contain NUL characters")
    try:
        orjson.loads(body)  # stricter than the json module: no lone surrogates
    except orjson.JSONDecodeError as error:
        raise InputError(
            "Malformed request body (did you remember to specify an application/json"
            f" content type?), {error}"
        ) from None
