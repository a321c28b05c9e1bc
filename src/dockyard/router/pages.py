"""The answers the router gives itself, without an app: unknown hosts, refused clients,
maintenance, redirects to HTTPS, and apps that cannot be reached. Each is a short HTML page
with a ``Content-Length``, so the client connection can stay open after it."""

from __future__ import annotations

import html

from dockyard.router.http1 import Headers, serialize

REASONS = {
    301: "Moved Permanently",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}


def page(
    status: int,
    detail: str,
    *,
    headers: Headers | None = None,
    close: bool = False,
    head_only: bool = False,
) -> bytes:
    reason = REASONS.get(status, "Error")
    body = (
        f"<!doctype html><html><head><title>{status} {reason}</title></head>"
        f"<body><h1>{status} {reason}</h1><p>{html.escape(detail)}</p></body></html>\n"
    ).encode()
    fields: Headers = [
        (b"Content-Type", b"text/html; charset=utf-8"),
        (b"Content-Length", str(len(body)).encode()),
        (b"Cache-Control", b"no-store"),
        *(headers or []),
    ]
    if close:
        fields.append((b"Connection", b"close"))
    head = serialize(f"HTTP/1.1 {status} {reason}".encode(), fields)
    return head if head_only else head + body


def redirect(location: bytes, *, close: bool = False, head_only: bool = False) -> bytes:
    return page(
        301,
        "This app is served over HTTPS.",
        headers=[(b"Location", location)],
        close=close,
        head_only=head_only,
    )
