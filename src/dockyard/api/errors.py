"""The one place errors become HTTP responses: DRF-style bodies, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from dockyard.api import deps
from dockyard.api.body import FieldErrors, _message
from dockyard.api.middleware import headers_for
from dockyard.api.responses import JSON
from dockyard.core.errors import DockyardError, TooManyRequests, Unauthenticated

log = logging.getLogger("dockyard.api")

# Documented error answers, for the ``responses=`` of each route (honest OpenAPI).
_DESCRIPTIONS = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "The body is too large",
    415: "Unsupported content type",
    422: "Refers to something absent",
    429: "Too many attempts; the Retry-After header says when to try again",
    503: "A dependency is unavailable",
}


def errors(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: {"description": _DESCRIPTIONS[code]} for code in codes}


def _dockyard_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DockyardError)
    headers = None
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": exc.challenge}
    elif isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
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
    extra = headers_for(request.url.path)
    headers = {name.decode(): value.decode() for name, value in extra}
    return JSON(
        {"detail": "Internal server error. The error was logged."},
        status_code=500,
        headers=headers,
    )


# Statuses a route can answer merely because it uses a dependency, whatever its own code
# does: documented on every such route, since the fuzzer (valid token, scheduler up) never
# sees them.
_IMPLIED_BY: dict[Callable[..., Any], int] = {
    deps.current_user: 401,
    deps.optional_user: 401,  # a token that is given but invalid
    deps.get_scheduler: 503,  # the scheduler backend is unreachable
}


def _dependants(root: Dependant) -> Iterator[Dependant]:
    pending = [root]
    while pending:
        dependant = pending.pop()
        yield dependant
        pending.extend(dependant.dependencies)


def _can_fail(field: Any) -> bool:  # a ModelField (private to FastAPI)
    """Whether FastAPI's own validation of this parameter can fail (answered 400)."""
    info = field.field_info
    return info.is_required() or info.annotation not in (str, str | None) or bool(info.metadata)


def _statuses(route: Any) -> set[int]:
    found: set[int] = set()
    for dependant in _dependants(route.dependant):
        if dependant.call in _IMPLIED_BY:
            found.add(_IMPLIED_BY[dependant.call])
        params = [*dependant.query_params, *dependant.header_params, *dependant.cookie_params]
        if dependant.body_params or any(_can_fail(p) for p in params):
            found.add(400)
    return found


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every APIRoute, as included (with its prefix): FastAPI 0.16x includes routers lazily
    and exposes them through ``iter_route_contexts``; older versions list them directly."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in contexts(app.routes) if contexts else app.routes:
        if isinstance(getattr(route, "original_route", route), APIRoute):
            yield route


def _honest(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a 422 ``HTTPValidationError`` wherever it validates input, but
    ``_validation_error`` answers those with a 400; and it cannot know the statuses implied
    by dependencies. Rewrite each operation's responses to what the server really answers."""
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        operations = schema.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            operation = operations.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
            for status in _statuses(route):
                responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.get("components", {}).get("schemas", {})
    if "#/components/schemas/HTTPValidationError" not in str(schema.get("paths")):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def install(app: FastAPI) -> None:
    app.add_exception_handler(DockyardError, _dockyard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    generate = app.openapi
    app.openapi = lambda: _honest(app, generate())  # type: ignore[method-assign]
