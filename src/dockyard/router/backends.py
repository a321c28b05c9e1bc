"""Where a request for an app goes: its ready web pods in turn (round robin), skipping for a
moment a pod that refused a connection, over kept-alive connections reused across requests.

A pod that refuses a connection is marked down for ``DOWN_FOR`` seconds and the next one is
tried, so a request is not lost to a pod that died between two route updates (failover). The
route table drops such a pod within a fraction of a second anyway; the mark only covers that
gap.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import defaultdict
from typing import Protocol

DOWN_FOR = 2.0
MAX_IDLE_PER_PORT = 64
BACKEND_HOST = "127.0.0.1"


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


class Idle(Protocol):
    """An app connection the pool can hold between exchanges."""

    port: int

    def usable(self) -> bool: ...

    def close(self) -> None: ...


class Pool:
    """Idle connections to the apps' pods, per port, most recently used first."""

    def __init__(self) -> None:
        self._idle: defaultdict[int, list[Idle]] = defaultdict(list)

    def take(self, port: int) -> Idle | None:
        idle = self._idle.get(port)
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return None

    def give_back(self, conn: Idle) -> None:
        idle = self._idle[conn.port]
        if len(idle) >= MAX_IDLE_PER_PORT or not conn.usable():
            conn.close()
            return
        idle.append(conn)

    def discard(self, conn: Idle) -> None:
        with contextlib.suppress(ValueError):
            self._idle[conn.port].remove(conn)

    def retain(self, ports: set[int]) -> None:
        """Close the idle connections of pods that left the route table."""
        for port in [p for p in self._idle if p not in ports]:
            for conn in self._idle.pop(port):
                conn.close()

    def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
