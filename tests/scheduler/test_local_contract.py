"""The scheduler contract, run against the local backend: an in-process node agent, and the
``LocalScheduler`` client talking to it over its unix socket, as the API workers do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.scheduler.base import PodStatus, ReleaseSpec, Scheduler
from dockyard.scheduler.local import LocalScheduler
from dockyard.scheduler.local.agent import Agent
from dockyard.scheduler.parse import build_processes
from tests.scheduler.apps import WEB_COMMAND, WORKER_COMMAND
from tests.scheduler.conftest import DEPLOY_TIMEOUT
from tests.scheduler.contract import *  # noqa: F403

ROLES = {
    "web": WEB_COMMAND,
    "worker": WORKER_COMMAND,
    "crash": "echo boom; exit 3",
    "sleep": "exec sleep 1000",
}


@dataclass
class LocalKit:
    scheduler: Scheduler
    build_dir: Path
    deploy_timeout: float = DEPLOY_TIMEOUT
    unsupported: Mapping[str, str] = field(default_factory=dict)

    def release(
        self,
        app: str,
        version: int,
        roles: dict[str, str],
        *,
        env: dict[str, str] | None = None,
        healthcheck: dict[str, Any] | None = None,
    ) -> ReleaseSpec:
        processes = build_processes(
            {t: ROLES[r] for t, r in roles.items()}, healthcheck=healthcheck
        )
        return ReleaseSpec(
            app=app,
            version=version,
            processes=processes,
            env=env or {},
            source_dir=str(self.build_dir),
            summary=f"test release v{version}",
            grace_period=2.0,
        )

    async def http_get(self, pod: PodStatus, path: str = "/") -> tuple[int, dict[str, Any]]:
        assert pod.port is not None
        async with httpx.AsyncClient(trust_env=False) as client:
            r = await client.get(f"http://127.0.0.1:{pod.port}{path}", timeout=5)
        return r.status_code, json.loads(r.content)


@pytest.fixture
async def kit(agent: Agent, build_dir: Path) -> AsyncIterator[LocalKit]:
    scheduler = LocalScheduler(agent.root)
    assert isinstance(scheduler, Scheduler)
    yield LocalKit(scheduler, build_dir)
    await scheduler.aclose()
