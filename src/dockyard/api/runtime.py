"""Builds the per-process runtime objects from settings: the scheduler client and the
per-app locks. The local scheduler's node agent is started once per host by ``dockyard
server`` (see ``serve``), not here: every API worker only talks to it. The kubernetes
scheduler needs no agent: each API worker talks to the cluster's API server itself."""

from __future__ import annotations

from pathlib import Path

from dockyard.core.errors import Unavailable
from dockyard.core.settings import Settings
from dockyard.scheduler.base import Scheduler


def agent_root(settings: Settings) -> Path:
    return settings.data_dir / "local"


def make_scheduler(settings: Settings) -> Scheduler:
    if settings.scheduler == "local":
        from dockyard.scheduler.local.client import LocalScheduler

        return LocalScheduler(agent_root(settings))
    if settings.scheduler == "kubernetes":
        # Connects on first use: building it needs no cluster, and never blocks.
        from dockyard.scheduler.kubernetes import from_settings

        return from_settings(settings)
    raise Unavailable(
        f"Scheduler {settings.scheduler!r} is not available; "
        "use DOCKYARD_SCHEDULER=local or kubernetes"
    )
