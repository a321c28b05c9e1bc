"""The log line format every dockyard process writes (server, API workers, start-up child,
node agent, edge router), so their lines interleave readably in one server log."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def configure(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
