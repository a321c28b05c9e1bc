"""What a running build says, for whoever follows it: lines of output as they come, then
one last object with the outcome (``{"build", "release"}`` or ``{"error"}``).

The build writes; any number of readers (an HTTP response, a git hook's request) follow
from the start. A reader that goes away stops reading, nothing more: the build goes on and
its log is kept. The facades only format this stream (ndjson lines, git sideband).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any


class BuildStream:
    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.done = False

    def log(self, line: str) -> None:
        self._append({"log": line})

    def end(self, outcome: dict[str, Any]) -> None:
        if not self.done:
            self._append(outcome)
            self.done = True

    @property
    def outcome(self) -> dict[str, Any] | None:
        return self._events[-1] if self.done else None

    def _append(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        self._changed.set()

    async def follow(self) -> AsyncIterator[dict[str, Any]]:
        sent = 0
        while True:
            while sent < len(self._events):
                yield self._events[sent]
                sent += 1
            if self.done:
                return
            self._changed.clear()
            if sent == len(self._events) and not self.done:
                await self._changed.wait()
