"""The app side of an exchange: an ``AppConnection`` per connection to a pod, kept alive in
the pool between exchanges. It sends the rewritten request head (and the body the client
connection passes on), reads the app's response heads (interim 1xx answers go straight to
an HTTP/1.1 client, a 101 turns both sides into a tunnel), relays the body through its
framer, and hands the connection back to the pool, or closes it, when the answer is whole.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from dockyard.router import http1, messages
from dockyard.router.deadlines import Watch
from dockyard.router.framing import UntilClose
from dockyard.router.http1 import BadMessage
from dockyard.router.messages import Relay

if TYPE_CHECKING:
    from dockyard.router.proxy import ClientConnection, Proxy

HEAD_LIMIT = 64 * 1024
IDLE, RESPONSE_HEAD, RESPONSE_BODY = range(3)


class AppConnection(asyncio.Protocol):
    """A connection to one pod, kept alive across exchanges in the pool."""

    def __init__(self, proxy: Proxy, port: int) -> None:
        self.proxy = proxy
        self.options = proxy.options
        self.port = port
        self.transport: asyncio.Transport | None = None
        self.watch: Watch | None = None
        self.client: ClientConnection | None = None
        self.state = IDLE
        self.closed = False
        self.buffer = bytearray()
        self.relay: Relay | None = None
        self.answered = False  # any byte of a response seen in this exchange
        self.reused = False
        self.tunnelled = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.watch = self.proxy.watches.watch(transport)

    def usable(self) -> bool:
        return (
            not self.closed
            and self.state == IDLE
            and self.transport is not None
            and (not self.transport.is_closing())
        )

    def start(self, client: ClientConnection, data: bytes, *, reused: bool) -> None:
        assert self.transport is not None and self.watch is not None
        self.client, self.reused, self.answered = client, reused, False
        self.state = RESPONSE_HEAD
        self.transport.write(data)
        self.watch.arm(self.options.response_timeout)

    def send(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def abandon(self) -> None:
        """The client went away mid-exchange: this connection's state is unknown now."""
        self.client = None
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def set_reading(self, on: bool) -> None:
        if self.transport is not None and not self.transport.is_closing():
            (self.transport.resume_reading if on else self.transport.pause_reading)()

    def pause_writing(self) -> None:  # the app reads the request body slower than it comes
        if self.client is not None:
            self.client.set_reading(False)

    def resume_writing(self) -> None:
        if self.client is not None:
            self.client.set_reading(True)

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None or self.watch is None:
            self.close()  # nothing is asked of an idle connection
            return
        if self.tunnelled:
            client.send(data)
            self.watch.arm(self.options.tunnel_timeout)
        elif self.state == RESPONSE_BODY:
            self._body(client, data, b"")
        else:
            self.answered = True
            self.buffer += data
            self._heads(client)

    def _heads(self, client: ClientConnection) -> None:
        assert client.request is not None and self.watch is not None
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end == -1:
                if len(self.buffer) > HEAD_LIMIT:
                    self._failed(client, 502, "answered with a head too large")
                return
            raw = bytes(self.buffer[: end + 4])
            del self.buffer[: end + 4]
            try:
                response = http1.parse_response(raw)
                if response.status == 101:
                    break
                if response.status < 200:  # interim (100 Continue...): to 1.1 clients only
                    if client.request.version == b"HTTP/1.1":
                        client.send(raw)
                    continue
                self.relay = messages.relay(client.request, response)
            except BadMessage:
                self._failed(client, 502, "answered with something that is not HTTP")
                return
            rest = bytes(self.buffer)
            self.buffer.clear()
            if self.relay.body is None:
                client.send(self.relay.head)
                self._done(client, rest)
            else:
                self.state = RESPONSE_BODY
                self._body(client, rest, self.relay.head)
            return
        self.tunnelled = True
        rest = bytes(self.buffer)
        self.buffer.clear()
        self.watch.arm(self.options.tunnel_timeout)
        client.tunnel(http1.serialize(b"HTTP/1.1 101 " + response.reason, response.headers), rest)

    def _body(self, client: ClientConnection, data: bytes, head: bytes) -> None:
        assert self.relay is not None and self.relay.body is not None and self.watch is not None
        try:
            out, rest = self.relay.body.feed(data)
        except BadMessage:
            self.close()
            client.abort()
            return
        if head or out:
            client.send(head + out)
        if rest is None:
            self.watch.arm(self.options.body_timeout)
        else:
            self._done(client, rest)

    def _done(self, client: ClientConnection, extra: bytes) -> None:
        assert self.relay is not None and self.watch is not None
        relay, self.relay, self.client = self.relay, None, None
        self.state = IDLE
        if relay.keep_app and not extra and client.body is None:
            self.watch.arm(self.options.idle_timeout)  # idle in the pool until then
            self.proxy.pool.give_back(self)
        else:
            self.close()
        client.response_done(relay.keep_client)

    def _failed(self, client: ClientConnection, status: int, detail: str) -> None:
        self.client = None
        self.close()
        assert client.route is not None
        client.upstream_failed(status, f"{client.route.app} {detail}.", False)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.watch is not None:
            self.proxy.watches.forget(self.watch)
        self.proxy.pool.discard(self)
        client, self.client = self.client, None
        if client is None:
            return
        if self.tunnelled:
            client.close()
        elif self.state == RESPONSE_HEAD:
            assert client.route is not None and self.watch is not None
            if self.watch.expired:
                client.upstream_failed(504, f"{client.route.app} did not answer in time.", False)
            else:
                retry = self.reused and not self.answered
                client.upstream_failed(502, f"{client.route.app} closed the connection.", retry)
        elif self.state == RESPONSE_BODY:
            if self.relay is not None and isinstance(self.relay.body, UntilClose):
                self.state = IDLE
                client.response_done(False)
            else:
                client.close()  # the answer broke off: only a cut connection can say so
