"""What the router writes: the request head it sends an app, the response head it sends the
client, and its own answers when there is nothing to forward to. Pure functions of the
parsed heads and the route.

The request to the app carries ``X-Forwarded-For`` (the client's address appended),
``X-Forwarded-Proto``, ``X-Forwarded-Port`` and ``X-Request-Id`` (the client's own when it
looks like one, else a new one); hop-by-hop headers stop at the router on both legs.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass

from dockyard.router import http1, pages
from dockyard.router.framing import Chunked, Length, UntilClose
from dockyard.router.http1 import Head, Headers
from dockyard.router.table import AppRoute

REQUEST_ID = re.compile(rb"^[A-Za-z0-9+/=_.\-]{20,200}\Z")
FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-port"})
Framer = Chunked | Length | UntilClose


class RequestIds:
    """Unique request ids without a random draw per request: a random per-process prefix
    and a counter (32 hex digits, the length of a UUID's)."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._count = itertools.count()

    def next(self) -> bytes:
        return f"{self._prefix}{next(self._count):016x}".encode()


def host_of(request: Head) -> str | None:
    target = request.target
    if target.startswith((b"http://", b"https://")):  # absolute form: its host wins
        authority = target.split(b"/", 3)[2]
        return authority.decode("latin-1") or None
    host = request.get(b"host")
    return host.decode("latin-1") if host else None


def https_location(host: str, target: bytes, https_port: int) -> bytes:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    authority = name if https_port == 443 else f"{name}:{https_port}"
    path = target if target.startswith(b"/") else b"/"
    return f"https://{authority}".encode("latin-1") + path


def refusal(
    route: AppRoute | None,
    host: str,
    request: Head,
    *,
    client: str,
    tls: bool,
    closing: bool,
    https_port: int,
) -> bytes | None:
    """The router's own answer for this request, or None to pass it to the app."""
    head_only = request.method == b"HEAD"
    if route is None or not route.routable:
        detail = f"No app is served at {host}."
        return pages.page(404, detail, close=closing, head_only=head_only)
    if not route.allows(client):
        detail = "Your address may not reach this app."
        return pages.page(403, detail, close=closing, head_only=head_only)
    if route.https_enforced and not tls:
        location = https_location(host, request.target, https_port)
        return pages.redirect(location, close=closing, head_only=head_only)
    if route.maintenance:
        return pages.page(
            503,
            f"{route.app} is down for maintenance. Please try again later.",
            headers=[(b"Retry-After", b"60")],
            close=closing,
            head_only=head_only,
        )
    if not route.backends:
        detail = f"{route.app} has no web processes running."
        return pages.page(503, detail, close=closing, head_only=head_only)
    return None


def upstream_head(request: Head, client: str, port: bytes, tls: bool, ids: RequestIds) -> bytes:
    tokens = request.connection_tokens()
    headers: Headers = []
    forwarded_for: list[bytes] = []
    request_id: bytes | None = None
    for key, value in request.headers:
        name = key.lower()
        if name == b"x-forwarded-for":
            forwarded_for.append(value)
        elif name == b"x-request-id":
            request_id = value if REQUEST_ID.match(value) else None
        elif name not in http1.HOP_BY_HOP and name not in tokens and name not in FORWARDED:
            headers.append((key, value))
    forwarded_for.append(client.encode())
    headers += [
        (b"X-Forwarded-For", b", ".join(forwarded_for)),
        (b"X-Forwarded-Proto", b"https" if tls else b"http"),
        (b"X-Forwarded-Port", port),
        (b"X-Request-Id", request_id or ids.next()),
    ]
    upgrade = request.get(b"upgrade")
    if upgrade and b"upgrade" in tokens:
        headers += [(b"Connection", b"Upgrade"), (b"Upgrade", upgrade)]
    target = request.target
    if target.startswith((b"http://", b"https://")):
        parts = target.split(b"/", 3)
        target = b"/" + (parts[3] if len(parts) > 3 else b"")
    return http1.serialize(request.method + b" " + target + b" HTTP/1.1", headers)


@dataclass(frozen=True)
class Relay:
    """How a response goes to the client: its head, the framer of its body (None: no
    body), and whether each connection can carry another exchange afterwards."""

    head: bytes
    body: Framer | None
    keep_client: bool
    keep_app: bool


def relay(request: Head, response: Head) -> Relay:
    frame = http1.framing(response, request=False, request_method=request.method)
    dechunk = frame.kind == "chunked" and request.version == b"HTTP/1.0"
    keep_client = request.keep_alive and frame.kind != "close" and not dechunk
    tokens = response.connection_tokens()
    headers: Headers = [
        (k, v)
        for k, v in response.headers
        if (name := k.lower()) not in http1.HOP_BY_HOP
        and name not in tokens
        and not (dechunk and name == b"transfer-encoding")
    ]
    if not keep_client:
        headers.append((b"Connection", b"close"))
    elif request.version == b"HTTP/1.0":
        headers.append((b"Connection", b"keep-alive"))
    start = b"HTTP/1.1 " + str(response.status).encode() + b" " + response.reason
    body: Framer | None = None
    if frame.kind == "length":
        body = Length(frame.length)
    elif frame.kind == "chunked":
        body = Chunked(dechunk=dechunk)
    elif frame.kind == "close":
        body = UntilClose()
    keep_app = response.keep_alive and frame.kind != "close"
    return Relay(http1.serialize(start, headers), body, keep_client, keep_app)


def request_body(frame: http1.Framing) -> Framer | None:
    if frame.kind == "length":
        return Length(frame.length)
    if frame.kind == "chunked":
        return Chunked()
    return None
