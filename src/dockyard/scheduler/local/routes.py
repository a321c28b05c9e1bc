"""The routes of the local backend: what the edge router needs to reach each app.

The controller publishes one ``RouteSpec`` per app (the agent's ``route`` operation). The agent
keeps them in ``<root>/routes/<app>.json``, files of its own (0600 in a 0700 directory: they
hold private keys, which app processes must never read), so a restarted agent serves the same
table without the controller. :func:`snapshot` joins the specs with the ports of each app's
ready web pods; the router subscribes to it with the streaming ``watch_routes`` operation and
receives the whole table again whenever it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from dockyard.scheduler.base import RouteSpec
from dockyard.scheduler.local import wire
from dockyard.scheduler.local.pods import read_json, write_json


class RouteStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, app: str) -> Path:
        return self.directory / f"{app}.json"

    def load(self) -> dict[str, RouteSpec]:
        if not self.directory.is_dir():
            return {}
        routes: dict[str, RouteSpec] = {}
        for path in sorted(self.directory.glob("*.json")):
            data = read_json(path)
            if isinstance(data, dict):
                spec = wire.route_from_dict(data)
                routes[spec.app] = spec
        return routes

    def put(self, spec: RouteSpec) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        write_json(self._path(spec.app), wire.route_to_dict(spec))  # mkstemp: mode 0600

    def remove(self, app: str) -> None:
        self._path(app).unlink(missing_ok=True)


def snapshot(routes: Mapping[str, RouteSpec], backends: Mapping[str, list[int]]) -> dict[str, Any]:
    """The table the router works from: every published app with its ready web ports."""
    return {
        "apps": {
            app: {**wire.route_to_dict(spec), "backends": sorted(backends.get(app, []))}
            for app, spec in sorted(routes.items())
        }
    }


# How often a watcher looks for pods that became ready or unready (route changes themselves
# wake it at once).
POLL = 0.2


class RouteFeed:
    """The agent's published routes and their watchers. ``backends`` gives the ready web
    ports of each app (the agent's view of its pods); every change to a spec, and every
    change of those ports, reaches each watcher as a new table."""

    def __init__(self, store: RouteStore, backends: Callable[[str], list[int]]) -> None:
        self.store = store
        self.backends = backends
        self.routes: dict[str, RouteSpec] = {}
        self._changed = asyncio.Event()
        self._watchers: set[asyncio.Task[Any]] = set()

    @property
    def watched(self) -> bool:
        return bool(self._watchers)

    def load(self) -> None:
        self.routes = self.store.load()

    async def put(self, spec: RouteSpec) -> None:
        await asyncio.to_thread(self.store.put, spec)
        self.routes[spec.app] = spec
        self.notify()

    def remove(self, app: str) -> None:
        if self.routes.pop(app, None) is not None:
            self.store.remove(app)
            self.notify()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def table(self) -> dict[str, Any]:
        return snapshot(self.routes, {app: self.backends(app) for app in self.routes})

    async def watch(self, send: Callable[[object], Awaitable[None]]) -> None:
        """Send the table now and again whenever it changes, until cancelled or the watcher
        goes away (``send`` raises)."""
        task = asyncio.current_task()
        assert task is not None
        self._watchers.add(task)
        try:
            last: object = None
            while True:
                changed = self._changed
                table = self.table()
                if table != last:
                    await send(table)
                    last = table
                # asyncio.timeout, not wait_for: no new task per poll.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL):
                        await changed.wait()
        finally:
            self._watchers.discard(task)

    async def close(self) -> None:
        for watcher in list(self._watchers):
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
