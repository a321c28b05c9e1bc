"""The scheduler contract, run against the kubernetes scheduler on the in-memory
``FakeCluster``. The same kit runs it on the real test cluster in
``tests/kubernetes/test_scheduler_contract.py`` (marked ``kubernetes``), whose hollow node
cannot do everything a kubelet does: those tests are skipped there with the reasons in
``HOLLOW``, and run here, at the same ``Cluster`` boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from dockyard.scheduler.base import PodStatus, ReleaseSpec, Scheduler, SupportsAutoscale
from dockyard.scheduler.kubernetes import KubernetesScheduler, names
from dockyard.scheduler.kubernetes.fake import FakeCluster
from dockyard.scheduler.parse import build_processes
from tests.scheduler.contract import *  # noqa: F403

ROLES = {"web": "fake/web", "worker": "fake/worker", "crash": "fake/crash", "sleep": "fake/sleep"}

# What the hollow node (kubemark's fake runtime) cannot do; see tests/kubernetes/.
HOLLOW = {
    "http": "hollow-node pods run no process: there is no web server to reach",
    "exit": "hollow-node containers never exit, so the crash role cannot crash",
    "probes": "hollow-node pods have no process to probe, and their address (192.168.192.168) "
    "is off this host: probing it would send traffic there",
    "run": "hollow-node containers never complete, so a one-off run cannot finish",
    "logs": "the hollow kubelet serves no container logs",
}


@dataclass
class KubeKit:
    scheduler: KubernetesScheduler
    cluster: Any
    deploy_timeout: float = 10.0
    unsupported: Mapping[str, str] = field(default_factory=dict)
    apps: list[str] = field(default_factory=list)  # to destroy after the test

    def release(
        self,
        app: str,
        version: int,
        roles: dict[str, str],
        *,
        env: dict[str, str] | None = None,
        healthcheck: dict[str, Any] | None = None,
    ) -> ReleaseSpec:
        # One image per role; the command is the image's own (an empty procfile command).
        processes = build_processes({t: "" for t in roles}, healthcheck=healthcheck)
        return ReleaseSpec(
            app=app,
            version=version,
            processes=processes,
            env=env or {},
            image=_image(roles),
            summary=f"test release v{version}",
            grace_period=2.0,
        )

    async def http_get(self, pod: PodStatus, path: str = "/") -> tuple[int, dict[str, Any]]:
        status, body = await self.cluster.http_get(names.namespace(_app(pod)), pod.name, path)
        return int(status), dict(body)


def _app(pod: PodStatus) -> str:
    return pod.name.rsplit("-", 2)[0].removesuffix(f"-{pod.type}")


def _image(roles: dict[str, str]) -> str:
    """The fake's programs are chosen by image, and a release has one image: a web+worker
    release uses ``fake/web`` for both types unless it has no web (worker programs only
    matter for their log lines, which a test asks of worker-only releases)."""
    values = set(roles.values())
    if "web" in values:
        return ROLES["web"]
    return ROLES[next(iter(sorted(values)))]


@pytest.fixture
async def kit() -> AsyncIterator[KubeKit]:
    cluster = FakeCluster()
    scheduler = KubernetesScheduler(
        cluster, deploy_timeout=5.0, poll_interval=0.02, settle_timeout=5.0
    )
    assert isinstance(scheduler, Scheduler) and isinstance(scheduler, SupportsAutoscale)
    yield KubeKit(scheduler, cluster, deploy_timeout=5.0)
    await scheduler.aclose()
