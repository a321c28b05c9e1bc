"""The routes of the local backend: what the edge router needs to reach each app.

The controller publishes one ``RouteSpec`` per app (the agent's ``route`` operation). The agent
keeps them in ``<root>/routes/<app>.json``, files of its own (0600 in a 0700 directory: they
hold private keys, which app processes must never read), so a restarted agent serves the same
table without the controller. :func:`snapshot` joins the specs with the ports of each app's
ready web pods; the router subscribes to it with the streaming ``watch_routes`` operation and
receives the whole table again whenever it changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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
