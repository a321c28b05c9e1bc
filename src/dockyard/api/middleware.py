"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path):

- trailing slashes are optional on every route: ``/v2/apps/`` is routed as ``/v2/apps``;
- every response, errors and ``/healthz`` included, carries the API version headers: the v2
  ones, or under ``/v1`` the Deis 1.6 ones (``DEIS_API_VERSION``, and ``X_DEIS_API_VERSION``
  that older v1 clients read);
- a path holding a NUL character is answered 404 before routing.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dockyard import API_VERSION, __version__
from dockyard.api.responses import JSON

V2_HEADERS = [
    (b"deis_api_version", API_VERSION.encode()),
    (b"drycc_api_version", API_VERSION.encode()),
    (b"deis_platform_version", __version__.encode()),
    (b"drycc_platform_version", __version__.encode()),
]
V1_HEADERS = [
    (b"deis_api_version", b"1.6"),
    (b"x_deis_api_version", b"1.6"),
    (b"deis_platform_version", __version__.encode()),
    (b"x_deis_platform_version", __version__.encode()),
]


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    """The version headers of a response to ``path``."""
    if path.startswith("/v1") and (len(path) == 3 or path[3] == "/"):
        return V1_HEADERS
    return V2_HEADERS


class APIConventions:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = dict(scope)
            scope["path"] = path.rstrip("/") or "/"
            raw = scope.get("raw_path")
            if raw:
                scope["raw_path"] = raw.rstrip(b"/") or b"/"
        extra = headers_for(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        if "\x00" in path:
            # No resource is named with a NUL (PostgreSQL cannot even compare one): like a
            # Django URL pattern, such a path matches nothing.
            await JSON({"detail": "Not found."}, status_code=404)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
