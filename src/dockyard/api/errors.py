"""The one place errors become HTTP responses: DRF-style bodies, never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from dockyard.api.body import FieldErrors, _message
from dockyard.api.middleware import V1_HEADERS, V2_HEADERS
from dockyard.api.responses import JSON
from dockyard.core.errors import DockyardError

log = logging.getLogger("dockyard.api")

# Documented error answers, for the ``responses=`` of each route (honest OpenAPI).
_DESCRIPTIONS = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    422: "Refers to something absent",
    503: "A dependency is unavailable",
}


def errors(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: {"description": _DESCRIPTIONS[code]} for code in codes}


def _dockyard_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DockyardError)
    headers = {"WWW-Authenticate": "Token"} if exc.status == 401 else None
    return JSON(exc.body(), status_code=exc.status, headers=headers)


def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        fields.setdefault(loc[0] if loc else "non_field_errors", []).append(_message(error))
    return JSON(FieldErrors(fields).body(), status_code=400)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        return JSON(
            {"detail": f'Method "{request.method}" not allowed.'},
            status_code=405,
            headers=exc.headers,
        )
    if exc.status_code == 404:
        return JSON({"detail": "Not found."}, status_code=404)
    return JSON({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # Starlette answers a 500 from its outermost middleware, outside APIConventions, so the
    # version headers every response must carry are added here.
    extra = V1_HEADERS if request.url.path.startswith("/v1") else V2_HEADERS
    headers = {name.decode(): value.decode() for name, value in extra}
    return JSON(
        {"detail": "Internal server error. The error was logged."},
        status_code=500,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DockyardError, _dockyard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
