"""HTTP/1.1 message heads and body framing, for a proxy that streams bodies without
re-encoding them.

Parsing is strict where leniency lets a request mean one thing to the router and another to
the app (request smuggling): header names must be tokens with no space before the colon,
folded lines and bare CR or LF are refused, ``Transfer-Encoding`` must be exactly
``chunked`` and may not come with ``Content-Length``, and several ``Content-Length`` values
must agree. Bodies are copied as they arrive, chunked ones chunk by chunk, so neither side is
buffered whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
TARGET = re.compile(rb"^[\x21-\x7e]+\Z")
HEAD_END = b"\r\n\r\n"
# Hop-by-hop headers: they describe one connection, so a proxy never forwards them.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"upgrade",
    }
)


class BadMessage(Exception):
    """The peer sent something that is not HTTP/1.1; ``status`` is what to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


Headers = list[tuple[bytes, bytes]]


@dataclass
class Head:
    """A request head (``method``, ``target``) or a response head (``status``, ``reason``)."""

    version: bytes
    headers: Headers
    method: bytes = b""
    target: bytes = b""
    status: int = 0
    reason: bytes = b""

    def get(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def get_all(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key.lower() == name]

    def connection_tokens(self) -> set[bytes]:
        return {t.strip().lower() for v in self.get_all(b"connection") for t in v.split(b",") if t}

    @property
    def keep_alive(self) -> bool:
        tokens = self.connection_tokens()
        if self.version == b"HTTP/1.0":
            return b"keep-alive" in tokens
        return b"close" not in tokens


def _headers(lines: list[bytes]) -> Headers:
    headers: Headers = []
    for line in lines:
        if not line or line[0] in b" \t":
            raise BadMessage("Folded or empty header lines are not accepted")
        name, sep, value = line.partition(b":")
        if not sep or not TOKEN.match(name):
            raise BadMessage("Invalid header name")
        value = value.strip(b" \t")
        if b"\r" in value or b"\n" in value or b"\0" in value:
            raise BadMessage("Invalid header value")
        headers.append((name, value))
    return headers


def parse_request(data: bytes) -> Head:
    """``data`` ends with the blank line. Leading empty lines are allowed (RFC 9112 2.2)."""
    lines = data[: -len(HEAD_END)].lstrip(b"\r\n").split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        raise BadMessage("Malformed request line")
    method, target, version = parts
    if not TOKEN.match(method) or not TARGET.match(target):
        raise BadMessage("Malformed request line")
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise BadMessage("Unsupported HTTP version", 505)
    return Head(version=version, headers=_headers(lines[1:]), method=method, target=target)


def parse_response(data: bytes) -> Head:
    lines = data[: -len(HEAD_END)].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise BadMessage("Malformed status line", 502)
    return Head(version=version, headers=_headers(lines[1:]), status=int(code), reason=reason)


@dataclass(frozen=True)
class Framing:
    """How a body is delimited: ``none``, ``length`` (with ``length``), ``chunked``, or
    ``close`` (a response that ends when the connection does)."""

    kind: str
    length: int = 0


NO_BODY = Framing("none")


def framing(head: Head, *, request: bool, request_method: bytes = b"GET") -> Framing:
    if not request and (
        request_method == b"HEAD" or head.status < 200 or head.status in (204, 304)
    ):
        return NO_BODY
    codings = head.get_all(b"transfer-encoding")
    lengths = head.get_all(b"content-length")
    if codings:
        if lengths:
            raise BadMessage("Both Transfer-Encoding and Content-Length", 400 if request else 502)
        if [c.strip().lower() for c in b",".join(codings).split(b",")] != [b"chunked"]:
            raise BadMessage("Unsupported Transfer-Encoding", 501 if request else 502)
        return Framing("chunked")
    if lengths:
        values = {v.strip() for v in b",".join(lengths).split(b",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            raise BadMessage("Invalid Content-Length", 400 if request else 502)
        length = int(next(iter(values)))
        return Framing("length", length) if length else NO_BODY
    return NO_BODY if request else Framing("close")


def serialize(start: bytes, headers: Headers) -> bytes:
    return start + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"
