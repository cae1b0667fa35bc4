"""Every error becomes Backstage's error JSON (or, on a page, the error page) here, and only here.

`{"error": {"name", "message", ...}, "request": {"method", "url"}, "response": {"statusCode"}}`
(reference §9.1). Routes raise `greenroom.errors` classes; they never build error responses.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException

from greenroom.errors import GreenroomError, InputError, ServiceUnavailableError

log = logging.getLogger(__name__)

_NAMES_BY_STATUS = {
    400: "InputError",
    401: "AuthenticationError",
    403: "NotAllowedError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    413: "PayloadTooLargeError",
    415: "UnsupportedMediaTypeError",
}


class PayloadTooLargeError(GreenroomError):
    """A request body over `server.maxBodyBytes`."""

    name = "PayloadTooLargeError"
    status = 413


def error_response(request: Request, status: int, error: dict[str, Any]) -> Response:
    # Pages answer in the portal's look; their JSON twins and the APIs with the envelope.
    error_page = getattr(request.app.state, "error_page", None)
    if (
        error_page is not None
        and not request.url.path.startswith("/api/")
        and request.query_params.get("format") != "json"
    ):
        return error_page(request, status, str(error.get("message", "")))
    # Like Backstage, the URL is relative to the API's mount point (`/entities/...`).
    path = request.url.path
    root = request.scope.get("root_path") or ""
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    body = {
        "error": error,
        "request": {"method": request.method, "url": path},
        "response": {"statusCode": status},
    }
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json; charset=utf-8"
    )


def _greenroom_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GreenroomError)
    return error_response(request, exc.status, exc.to_json())


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    malformed = False
    for item in exc.errors()[:10]:
        where = ".".join(str(part) for part in item.get("loc", ()))
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
        malformed |= item.get("type") in ("json_invalid", "model_attributes_type", "dict_type")
    message = "; ".join(problems) or "Invalid request"
    if malformed:
        message = (
            "Malformed request body (did you remember to specify an application/json"
            f" content type?), {message}"
        )
    return error_response(request, 400, InputError(message).to_json())


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and request.url.path.startswith("/api/"):
        # Backstage answers unknown API routes with an empty 404.
        return Response(status_code=404)
    name = _NAMES_BY_STATUS.get(exc.status_code, "Error")
    return error_response(request, exc.status_code, {"name": name, "message": str(exc.detail)})


def _database_error(request: Request, exc: Exception) -> Response:
    if "statement timeout" in str(exc):
        error = ServiceUnavailableError("The query took too long; narrow it down")
        return error_response(request, error.status, error.to_json())
    return _unexpected_error(request, exc)


def _data_error(request: Request, exc: Exception) -> Response:
    # A value the database cannot hold or compare (a number out of range, ...): the
    # input's fault. The details stay in the log, they may show the SQL.
    log.info("rejected input on %s %s: %s", request.method, request.url.path, exc)
    error = InputError("A value in the request is out of range or not valid text")
    return error_response(request, error.status, error.to_json())


def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The details stay in the log: they may hold internals a client must not see.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, {"name": "Error", "message": "Internal server error"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GreenroomError, _greenroom_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected_error)
