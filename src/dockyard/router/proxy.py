"""The router's connections, as asyncio protocols: a ``ClientConnection`` per client and an
``AppConnection`` (``upstream``) per connection to a pod, joined for one exchange.

A client connection reads a request head, asks ``messages.refusal`` whether the router
answers it itself, else takes a kept-alive connection to the app's next pod (or opens one,
skipping pods that refuse) and sends the rewritten head. Bodies are relayed as they arrive,
their ends found by the framers of ``framing``; when the response is complete the app
connection goes back to the pool and the client connection reads its next request, which
may already be buffered (pipelining). A ``101`` turns both into a byte tunnel.

Protocols rather than streams: a request costs a few callbacks instead of a chain of
coroutines and futures, which is most of a proxy's own time. Back-pressure is passed
across (a side that cannot write fast enough pauses reading on the other), and every wait is
bounded by a ``Watch``: ``header_timeout`` for a first request head, ``idle_timeout``
between requests, ``response_timeout`` for an app to start answering (then 504),
``body_timeout`` for a stalled body and ``tunnel_timeout`` for a silent tunnel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import cast

from dockyard.router import http1, messages, pages
from dockyard.router.backends import BACKEND_HOST, Balancer, Pool
from dockyard.router.deadlines import Watch, Watches
from dockyard.router.http1 import BadMessage, Head
from dockyard.router.messages import Framer, RequestIds
from dockyard.router.table import AppRoute, RouteTable
from dockyard.router.upstream import HEAD_LIMIT, AppConnection

log = logging.getLogger("dockyard.router")
BUFFER_LIMIT = 1024 * 1024  # unread pipelined or undelivered body bytes before pausing
HEAD, EXCHANGE, TUNNEL, CLOSED = range(4)


@dataclass
class Options:
    header_timeout: float = 30.0
    idle_timeout: float = 75.0
    connect_timeout: float = 5.0
    response_timeout: float = 60.0
    body_timeout: float = 120.0
    tunnel_timeout: float = 3600.0
    https_port: int = 8443
    # How long a request whose every backend refused waits for a newer route table: during
    # a rollout the agent stops the old pods shortly after it announces the new ones, and a
    # router slowed down by a busy host may apply that table a little late.
    table_wait: float = 1.0

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


class Proxy:
    """What the connections share: the route table, the pool, the balancer, the watches."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.table = RouteTable()
        self.pool = Pool()
        self.balancer = Balancer()
        self.watches = Watches(options.sweep_interval)
        self.request_ids = RequestIds()
        self.clients: set[ClientConnection] = set()
        self._changed: asyncio.Future[None] | None = None

    def set_table(self, table: RouteTable) -> None:
        self.table = table
        self.pool.retain({p for r in table.apps.values() for p in r.backends})
        if self._changed is not None and not self._changed.done():
            self._changed.set_result(None)
        self._changed = None

    async def newer_table(self, within: float) -> RouteTable:
        """The next route table, or the current one if none arrives within ``within`` s."""
        if self._changed is None:
            self._changed = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await asyncio.shield(self._changed)
        return self.table

    def close(self) -> None:
        for client in list(self.clients):
            client.abort()
        self.pool.close()


class ClientConnection(asyncio.Protocol):
    def __init__(self, proxy: Proxy, *, tls: bool) -> None:
        self.proxy = proxy
        self.options = proxy.options
        self.tls = tls
        self.transport: asyncio.Transport | None = None
        self.watch: Watch | None = None
        self.address = ""
        self.port = b""
        self.state = HEAD
        self.buffer = bytearray()
        self.eof = False
        self.reading = True
        # The exchange in progress.
        self.request: Head | None = None
        self.route: AppRoute | None = None
        self.upstream = b""
        self.body: Framer | None = None  # the request body, while it is still arriving
        self.has_body = False
        self.outbox: list[bytes] = []  # body bytes that arrived before the app connection
        self.app: AppConnection | None = None
        self.connecting: asyncio.Task[None] | None = None
        self.retried = False

    # -- asyncio callbacks ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.address = peer[0] if isinstance(peer, tuple) else ""
        sockname = transport.get_extra_info("sockname")
        self.port = str(sockname[1]).encode() if isinstance(sockname, tuple) else b""
        self.watch = self.proxy.watches.watch(transport)
        self.watch.arm(self.options.header_timeout)
        self.proxy.clients.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = CLOSED
        if self.watch is not None:
            self.proxy.watches.forget(self.watch)
        self.proxy.clients.discard(self)
        if self.connecting is not None:
            self.connecting.cancel()
        if self.app is not None:
            self.app.abandon()
            self.app = None

    def data_received(self, data: bytes) -> None:
        if self.state == TUNNEL:
            assert self.app is not None and self.watch is not None
            self.app.send(data)
            self.watch.arm(self.options.tunnel_timeout)
        elif self.body is not None:
            self._request_body(data)
        else:
            self.buffer += data
            if self.state == HEAD:
                self._next_request()
            elif len(self.buffer) > BUFFER_LIMIT:
                self.set_reading(False)

    def eof_received(self) -> bool:
        """The client will send no more: finish the exchange in progress, then close."""
        self.eof = True
        return self.state != HEAD or bool(self.buffer)

    def pause_writing(self) -> None:  # the client reads slower than the app answers
        if self.app is not None:
            self.app.set_reading(False)
        if self.watch is not None:
            self.watch.arm(self.options.body_timeout)

    def resume_writing(self) -> None:
        if self.app is not None:
            self.app.set_reading(True)
        if self.watch is not None and self.state == EXCHANGE and self.body is None:
            self.watch.disarm()

    # -- requests ---------------------------------------------------------------------------

    def _next_request(self) -> None:
        while self.state == HEAD:
            end = self.buffer.find(b"\r\n\r\n")
            if end == -1:
                if len(self.buffer) > HEAD_LIMIT:
                    self._answer(pages.page(431, "Message head too large", close=True), False)
                elif self.eof:
                    self.close()
                elif not self.reading:
                    self.set_reading(True)
                return
            raw = bytes(self.buffer[: end + 4])
            del self.buffer[: end + 4]
            assert self.watch is not None
            self.watch.disarm()
            try:
                request = http1.parse_request(raw)
                frame = http1.framing(request, request=True)
            except BadMessage as exc:
                self._answer(pages.page(exc.status, exc.message, close=True), False)
                return
            self._start(request, frame)

    def _start(self, request: Head, frame: http1.Framing) -> None:
        host = messages.host_of(request)
        if host is None:
            self._answer(pages.page(400, "No Host header.", close=True), False)
            return
        route = self.proxy.table.lookup(host)
        closing = not request.keep_alive or frame.kind != "none" or self.eof
        answer = messages.refusal(
            route,
            host,
            request,
            client=self.address,
            tls=self.tls,
            closing=closing,
            https_port=self.options.https_port,
        )
        if answer is not None:
            self._answer(answer, not closing)
            return
        assert route is not None
        self.state = EXCHANGE
        self.request, self.route, self.retried = request, route, False
        self.upstream = messages.upstream_head(
            request, self.address, self.port, self.tls, self.proxy.request_ids
        )
        self.body = messages.request_body(frame)
        self.has_body = self.body is not None
        self._connect()
        if self.body is not None and self.buffer:
            data = bytes(self.buffer)
            self.buffer.clear()
            self._request_body(data)

    def _answer(self, answer: bytes, keep: bool) -> None:
        """The router's own answer; then the next request, or the end of the connection."""
        self.send(answer)
        if keep:
            self.state = HEAD
            assert self.watch is not None
            self.watch.arm(self.options.idle_timeout)
        else:
            self.close()

    def _request_body(self, data: bytes) -> None:
        assert self.body is not None and self.watch is not None
        try:
            out, rest = self.body.feed(data)
        except BadMessage:
            self.abort()
            return
        if out:
            if self.app is not None:
                self.app.send(out)
            else:
                self.outbox.append(out)
                if sum(map(len, self.outbox)) > BUFFER_LIMIT:
                    self.set_reading(False)
        if rest is None:
            self.watch.arm(self.options.body_timeout)
            return
        self.body = None
        self.watch.disarm()
        if rest:
            self.buffer += rest

    # -- the app side -----------------------------------------------------------------------

    def _connect(self, *, fresh: bool = False) -> None:
        assert self.route is not None
        order = self.proxy.balancer.order(self.route.app, self.route.backends)
        if not fresh:
            idle = self.proxy.pool.take(order[0])
            if idle is not None:
                self._attach(cast(AppConnection, idle), reused=True)
                return
        self.connecting = asyncio.ensure_future(self._open(order))

    async def _open(self, order: list[int]) -> None:
        assert self.route is not None
        name = self.route.app
        if await self._try(order):
            return
        # Every backend refused. If a newer table names others, they get their turn.
        table = await self.proxy.newer_table(self.options.table_wait)
        route = table.apps.get(name)
        fresh = [p for p in route.backends if p not in order] if route is not None else []
        if (
            self.state != CLOSED
            and fresh
            and await self._try(self.proxy.balancer.order(name, tuple(fresh)))
        ):
            return
        self.connecting = None
        self.upstream_failed(502, f"{name} did not accept the connection.", False)

    async def _try(self, order: list[int]) -> bool:
        """Connect to the first backend of ``order`` that accepts; whether one did."""
        loop = asyncio.get_running_loop()
        balancer = self.proxy.balancer
        for port in order:
            try:
                async with asyncio.timeout(self.options.connect_timeout):
                    _, app = await loop.create_connection(
                        lambda port=port: AppConnection(self.proxy, port),  # type: ignore[misc]
                        BACKEND_HOST,
                        port,
                    )
            except (OSError, TimeoutError):
                balancer.mark_down(port)
                continue
            balancer.mark_up(port)
            self.connecting = None
            if self.state == CLOSED:
                app.close()
            else:
                self._attach(app, reused=False)
            return True
        return False

    def _attach(self, app: AppConnection, *, reused: bool) -> None:
        self.app = app
        outbox, self.outbox = self.outbox, []
        app.start(self, self.upstream + b"".join(outbox), reused=reused)
        if not self.reading and self.body is not None:
            self.set_reading(True)

    def upstream_failed(self, status: int, detail: str, retry: bool) -> None:
        """No answer came from the app. An idle connection it had closed is worth one more
        try on a new one, if the request had no body to replay."""
        self.app = None
        if self.state == CLOSED:
            return
        if retry and not self.retried and not self.has_body:
            self.retried = True
            self._connect(fresh=True)
            return
        assert self.request is not None
        head_only = self.request.method == b"HEAD"
        self.send(pages.page(status, detail, close=True, head_only=head_only))
        self.close()

    def response_done(self, keep: bool) -> None:
        """The app's answer has gone out whole."""
        self.app = None
        if self.state == CLOSED:
            return
        if self.body is not None or not keep or self.eof:
            # A body still arriving (the app answered before reading it) cannot be told
            # apart from a next request: the connection ends here.
            self.close()
            return
        self.state = HEAD
        self.request = self.route = None
        assert self.watch is not None
        self.watch.arm(self.options.idle_timeout)
        self._next_request()

    def tunnel(self, head: bytes, rest: bytes) -> None:
        """The app switched protocols: from now on, bytes in both directions as they come."""
        self.state = TUNNEL
        self.send(head + rest)
        assert self.watch is not None and self.app is not None
        self.watch.arm(self.options.tunnel_timeout)
        if self.buffer:
            self.app.send(bytes(self.buffer))
            self.buffer.clear()
        self.set_reading(True)

    # -- plumbing ---------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if self.state != CLOSED and self.transport is not None:
            self.transport.write(data)

    def set_reading(self, on: bool) -> None:
        if self.transport is None or self.reading == on or self.transport.is_closing():
            return
        self.reading = on
        if on:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()

    def close(self) -> None:
        """Close once what was written has gone out."""
        self.state = CLOSED
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.state = CLOSED
        if self.transport is not None:
            self.transport.abort()
