"""Timeouts for every connection of the router at the cost of an attribute write.

``asyncio.timeout`` around each read schedules and cancels a timer every time, which is a good
part of a proxied request's cost. Here each connection has a ``Watch`` holding a deadline;
arming it before a read or a drain stores a number, and one sweeper task checks every watch a
few times a second and aborts the transport of any whose deadline passed. The blocked read
or drain then fails, and ``expired`` tells the code why.
"""

from __future__ import annotations

import asyncio
import math


class Watch:
    __slots__ = ("_loop", "deadline", "expired", "transport")

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.BaseTransport) -> None:
        self._loop = loop
        self.transport = transport
        self.deadline = math.inf
        self.expired = False

    def arm(self, seconds: float) -> None:
        self.deadline = self._loop.time() + seconds

    def disarm(self) -> None:
        self.deadline = math.inf


class Watches:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._watches: set[Watch] = set()

    def watch(self, transport: asyncio.BaseTransport) -> Watch:
        watch = Watch(asyncio.get_running_loop(), transport)
        self._watches.add(watch)
        return watch

    def forget(self, watch: Watch) -> None:
        self._watches.discard(watch)

    def sweep(self, now: float) -> None:
        for watch in [w for w in self._watches if w.deadline <= now]:
            watch.expired = True
            watch.transport.abort()  # type: ignore[attr-defined]
            self._watches.discard(watch)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            self.sweep(loop.time())
