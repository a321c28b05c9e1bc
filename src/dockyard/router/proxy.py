"""One client connection through the router: read a request, decide from the route table
whether the router answers it itself (unknown host, whitelist, HTTPS redirect, maintenance,
no web pods) or which pod does, and relay the exchange, streaming both bodies.

The request to the app carries ``X-Forwarded-For`` (the client's address appended),
``X-Forwarded-Proto``, ``X-Forwarded-Port`` and ``X-Request-Id`` (the client's own when it
looks like one, else a new one). Connections are kept alive on both sides; an ``Upgrade``
(WebSocket) answered with 101 turns the connection into a byte tunnel. Timeouts: a client
has ``header_timeout`` to send a request head and ``idle_timeout`` between requests; an app
has ``response_timeout`` to start answering; a body may stall ``body_timeout`` at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import secrets
from dataclasses import dataclass

from dockyard.router import http1, pages
from dockyard.router.backends import Balancer, Connection, Pool
from dockyard.router.deadlines import Watch, Watches
from dockyard.router.http1 import BadMessage, Framing, Head, Headers, Pipe
from dockyard.router.table import AppRoute, RouteTable

log = logging.getLogger("dockyard.router")
REQUEST_ID = re.compile(rb"^[A-Za-z0-9+/=_.\-]{20,200}\Z")
FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-port"})
NETWORK_ERRORS = (ConnectionError, OSError, asyncio.IncompleteReadError, TimeoutError)
COALESCE = 64 * 1024  # response bodies up to this size go out with their head in one write
Side = tuple[asyncio.StreamReader, asyncio.StreamWriter, Watch]


@dataclass
class Options:
    header_timeout: float = 30.0
    idle_timeout: float = 75.0
    connect_timeout: float = 5.0
    response_timeout: float = 60.0
    body_timeout: float = 120.0
    tunnel_timeout: float = 3600.0
    https_port: int = 8443

    @property
    def sweep_interval(self) -> float:
        """How often deadlines are checked: a quarter of the shortest timeout, 0.05-1 s."""
        shortest = min(
            self.header_timeout,
            self.idle_timeout,
            self.connect_timeout,
            self.response_timeout,
            self.body_timeout,
        )
        return max(0.05, min(1.0, shortest / 4))


class RequestIds:
    """Unique request ids without a random draw per request: a random per-process prefix
    and a counter (32 hex digits, the length of a UUID's)."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._count = itertools.count()

    def next(self) -> bytes:
        return f"{self._prefix}{next(self._count):016x}".encode()


class UpstreamFailed(Exception):
    """No pod could take the request; ``status`` is 502 or 504."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Proxy:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.table = RouteTable()
        self.pool = Pool(options.connect_timeout)
        self.balancer = Balancer()
        self.watches = Watches(options.sweep_interval)
        self.request_ids = RequestIds()

    def set_table(self, table: RouteTable) -> None:
        self.table = table
        self.pool.retain({p for r in table.apps.values() for p in r.backends})

    # -- the client side ----------------------------------------------------------------------

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, tls: bool
    ) -> None:
        peer = writer.get_extra_info("peername")
        client = peer[0] if isinstance(peer, tuple) else ""
        sockname = writer.get_extra_info("sockname")
        port = str(sockname[1]).encode() if isinstance(sockname, tuple) else b""
        watch = self.watches.watch(writer)
        timeout = self.options.header_timeout
        try:
            while True:
                try:
                    watch.arm(timeout)
                    raw = await http1.read_head(reader)
                    if raw is None:
                        return
                    watch.disarm()
                    request = http1.parse_request(raw)
                    frame = http1.framing(request, request=True)
                except BadMessage as exc:
                    writer.write(pages.page(exc.status, exc.message, close=True))
                    await writer.drain()
                    return
                client_side = (reader, writer, watch)
                if not await self._exchange(request, frame, client_side, client, port, tls):
                    return
                timeout = self.options.idle_timeout
        except NETWORK_ERRORS:
            pass
        except BadMessage:
            pass  # a malformed body after the answer started: nothing to do but close
        except Exception:
            log.exception("router: unexpected error on a client connection")
        finally:
            self.watches.forget(watch)
            writer.close()

    async def _local(
        self, writer: asyncio.StreamWriter, request: Head, frame: Framing, answer: bytes
    ) -> bool:
        """Answer from the router; keep the connection unless a request body is unread."""
        writer.write(answer)
        await writer.drain()
        return request.keep_alive and frame.kind == "none"

    async def _exchange(
        self,
        request: Head,
        frame: Framing,
        client_side: Side,
        client: str,
        port: bytes,
        tls: bool,
    ) -> bool:
        """Serve one request; whether the client connection may carry another."""
        writer = client_side[1]
        head_only = request.method == b"HEAD"
        closing = not request.keep_alive or frame.kind != "none"
        host = _host_of(request)
        if host is None:
            return await self._local(
                writer, request, frame, pages.page(400, "No Host header.", close=True)
            )
        route = self.table.lookup(host)
        answer = self._refusal(route, host, request, client, tls, closing, head_only)
        if answer is not None:
            return await self._local(writer, request, frame, answer)
        assert route is not None
        upstream = _upstream_head(request, client, port, tls, self.request_ids)
        try:
            return await self._relay(route, request, frame, upstream, client_side)
        except UpstreamFailed as exc:
            answer = pages.page(exc.status, exc.detail, close=True, head_only=head_only)
            writer.write(answer)
            await writer.drain()
            return False

    def _refusal(
        self,
        route: AppRoute | None,
        host: str,
        request: Head,
        client: str,
        tls: bool,
        closing: bool,
        head_only: bool,
    ) -> bytes | None:
        """The router's own answer for this request, or None to pass it to the app."""
        if route is None or not route.routable:
            return pages.page(
                404, f"No app is served at {host}.", close=closing, head_only=head_only
            )
        if not route.allows(client):
            return pages.page(
                403, "Your address may not reach this app.", close=closing, head_only=head_only
            )
        if route.https_enforced and not tls:
            return pages.redirect(
                _https_location(host, request.target, self.options.https_port),
                close=closing,
                head_only=head_only,
            )
        if route.maintenance:
            return pages.page(
                503,
                f"{route.app} is down for maintenance. Please try again later.",
                headers=[(b"Retry-After", b"60")],
                close=closing,
                head_only=head_only,
            )
        if not route.backends:
            return pages.page(
                503,
                f"{route.app} has no web processes running.",
                close=closing,
                head_only=head_only,
            )
        return None

    # -- the app side ---------------------------------------------------------------------

    async def _open(self, route: AppRoute, *, fresh: bool = False) -> tuple[int, Connection, bool]:
        """A connection to one of the app's pods: an idle one if any, else a new one, trying
        each pod in turn. Raises ``UpstreamFailed`` when none accepts."""
        for port in self.balancer.order(route.app, route.backends):
            if not fresh:
                conn = self.pool.take(port)
                if conn is not None:
                    return port, conn, True
            try:
                conn = await self.pool.connect(port)
            except (OSError, TimeoutError):
                self.balancer.mark_down(port)
                continue
            self.balancer.mark_up(port)
            return port, conn, False
        raise UpstreamFailed(502, f"{route.app} did not accept the connection.")

    async def _relay(
        self, route: AppRoute, request: Head, frame: Framing, upstream: bytes, client_side: Side
    ) -> bool:
        reader, writer, client_watch = client_side
        port, (app_reader, app_writer), reused = await self._open(route)
        app_watch = self.watches.watch(app_writer)
        body: asyncio.Task[None] | None = None
        done = False
        try:
            app_writer.write(upstream)
            if frame.kind != "none":
                pipe = Pipe(reader, app_writer, client_watch, app_watch, self.options.body_timeout)
                body = asyncio.ensure_future(http1.copy_body(pipe, frame))
            try:
                response = await self._response_head(app_reader, app_watch, writer, request)
            except (ConnectionError, asyncio.IncompleteReadError, BadMessage):
                if not (reused and body is None) or app_watch.expired:
                    raise
                # An idle connection the app had closed: once more on a new one.
                app_writer.close()
                self.watches.forget(app_watch)
                port, (app_reader, app_writer), _ = await self._open(route, fresh=True)
                app_watch = self.watches.watch(app_writer)
                app_writer.write(upstream)
                response = await self._response_head(app_reader, app_watch, writer, request)
            if response.status == 101:
                await self._tunnel(response, client_side, (app_reader, app_writer, app_watch))
                return False
            keep_client, keep_app = await self._response_body(
                request, response, (app_reader, app_writer, app_watch), client_side
            )
            if body is not None:
                if not body.done():  # the app answered without reading the whole body
                    return False
                await body
                client_watch.disarm()
            done = keep_app
            return keep_client
        except _Cut:
            raise
        except (ConnectionError, asyncio.IncompleteReadError, BadMessage, TimeoutError):
            if app_watch.expired:
                raise UpstreamFailed(504, f"{route.app} did not answer in time.") from None
            raise UpstreamFailed(502, f"{route.app} closed the connection.") from None
        finally:
            if body is not None and not body.done():
                body.cancel()
                with contextlib.suppress(BaseException):
                    await body
            self.watches.forget(app_watch)
            if done:
                self.pool.give_back(port, (app_reader, app_writer))
            else:
                app_writer.close()

    async def _response_head(
        self,
        app_reader: asyncio.StreamReader,
        app_watch: Watch,
        writer: asyncio.StreamWriter,
        request: Head,
    ) -> Head:
        """The app's final response head; interim 1xx answers go to the client as they come."""
        while True:
            app_watch.arm(self.options.response_timeout)
            raw = await http1.read_head(app_reader)
            if raw is None:
                raise ConnectionError("the app closed the connection before answering")
            response = http1.parse_response(raw)
            if response.status >= 200 or response.status == 101:
                return response
            if request.version == b"HTTP/1.1":
                writer.write(raw)

    async def _response_body(
        self, request: Head, response: Head, app_side: Side, client_side: Side
    ) -> tuple[bool, bool]:
        """Relay the response; (client connection reusable, app connection reusable)."""
        app_reader, _, app_watch = app_side
        _, writer, client_watch = client_side
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
        head = http1.serialize(start, headers)
        pipe = Pipe(app_reader, writer, app_watch, client_watch, self.options.body_timeout)
        try:
            if frame.kind == "length" and frame.length <= COALESCE:
                # A small body is usually in the buffer already: one write, one send().
                body = await pipe.read(frame.length)
                if not body:
                    raise ConnectionError("the app closed the connection mid-body")
                await pipe.write(head + body)
                if len(body) < frame.length:
                    await http1.copy_length(pipe, frame.length - len(body))
            else:
                writer.write(head)
                await http1.copy_body(pipe, frame, dechunk=dechunk)
                await pipe.write(b"")
        except (TimeoutError, asyncio.IncompleteReadError, BadMessage, ConnectionError):
            # The answer has started: the client can only learn of it from a cut connection.
            raise _Cut() from None
        finally:
            app_watch.disarm()
            client_watch.disarm()
        return keep_client, response.keep_alive and frame.kind != "close"

    async def _tunnel(self, response: Head, client_side: Side, app_side: Side) -> None:
        reader, writer, client_watch = client_side
        app_reader, app_writer, app_watch = app_side
        writer.write(http1.serialize(b"HTTP/1.1 101 " + response.reason, response.headers))
        await writer.drain()
        idle = self.options.tunnel_timeout
        legs = [
            asyncio.ensure_future(
                http1.copy_until_close(Pipe(reader, app_writer, client_watch, app_watch, idle))
            ),
            asyncio.ensure_future(
                http1.copy_until_close(Pipe(app_reader, writer, app_watch, client_watch, idle))
            ),
        ]
        try:
            await asyncio.wait(legs, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for leg in legs:
                leg.cancel()
            await asyncio.gather(*legs, return_exceptions=True)


class _Cut(ConnectionError):
    """The response broke off after its head was sent."""


def _host_of(request: Head) -> str | None:
    target = request.target
    if target.startswith((b"http://", b"https://")):  # absolute form: its host wins
        authority = target.split(b"/", 3)[2]
        return authority.decode("latin-1") or None
    host = request.get(b"host")
    return host.decode("latin-1") if host else None


def _https_location(host: str, target: bytes, https_port: int) -> bytes:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    authority = name if https_port == 443 else f"{name}:{https_port}"
    path = target if target.startswith(b"/") else b"/"
    return f"https://{authority}".encode("latin-1") + path


def _upstream_head(request: Head, client: str, port: bytes, tls: bool, ids: RequestIds) -> bytes:
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
