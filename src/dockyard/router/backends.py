"""Where a request for an app goes: its ready web pods in turn (round robin), skipping for a
moment a pod that refused a connection, over kept-alive connections reused across requests.

A pod that refuses a connection is marked down for ``DOWN_FOR`` seconds and the next one is
tried, so a request is not lost to a pod that died between two route updates (failover). The
route table drops such a pod within a fraction of a second anyway; the mark only covers that
gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict

DOWN_FOR = 2.0
MAX_IDLE_PER_PORT = 64
BACKEND_HOST = "127.0.0.1"

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Balancer:
    def __init__(self) -> None:
        self._turns: defaultdict[str, itertools.count[int]] = defaultdict(itertools.count)
        self._down: dict[int, float] = {}

    def order(self, app: str, backends: tuple[int, ...]) -> list[int]:
        """Every backend once, starting at this app's next turn; ones marked down last."""
        if not backends:
            return []
        start = next(self._turns[app]) % len(backends)
        ring = list(backends[start:] + backends[:start])
        if self._down:
            now = time.monotonic()
            up = [p for p in ring if self._down.get(p, 0.0) <= now]
            return up + [p for p in ring if p not in up]
        return ring

    def mark_down(self, port: int) -> None:
        self._down[port] = time.monotonic() + DOWN_FOR

    def mark_up(self, port: int) -> None:
        self._down.pop(port, None)


class Pool:
    """Idle connections to backends, per port."""

    def __init__(self, connect_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        self._idle: defaultdict[int, list[Connection]] = defaultdict(list)

    def take(self, port: int) -> Connection | None:
        idle = self._idle.get(port)
        while idle:
            reader, writer = idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def connect(self, port: int) -> Connection:
        async with asyncio.timeout(self.connect_timeout):
            return await asyncio.open_connection(BACKEND_HOST, port)

    def give_back(self, port: int, conn: Connection) -> None:
        idle = self._idle[port]
        if len(idle) >= MAX_IDLE_PER_PORT or conn[1].is_closing():
            conn[1].close()
            return
        idle.append(conn)

    def retain(self, ports: set[int]) -> None:
        """Close the idle connections of pods that left the route table."""
        for port in [p for p in self._idle if p not in ports]:
            for _, writer in self._idle.pop(port):
                writer.close()

    def close(self) -> None:
        for conns in self._idle.values():
            for _, writer in conns:
                with contextlib.suppress(Exception):
                    writer.close()
        self._idle.clear()
