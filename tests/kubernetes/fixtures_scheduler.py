"""Fixtures of the kubernetes scheduler tests, imported by the ``test_scheduler_*`` modules
(kept out of this folder's conftest, which belongs to the cluster fixtures).

``kube`` runs a test twice: on the in-memory ``FakeCluster`` and on the real session cluster
(``kube_cluster``, marked ``kubernetes``; skipped without its binaries). Both are reached
through the same ``Cluster`` interface, so a test can read back exactly what the API holds.
``app`` is a fresh app name, destroyed after the test.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from dockyard.scheduler.base import DeploySpec, ReleaseSpec
from dockyard.scheduler.kubernetes import KubernetesScheduler
from dockyard.scheduler.kubernetes.cluster import Cluster, Object
from dockyard.scheduler.kubernetes.fake import FakeCluster
from dockyard.scheduler.parse import build_processes

NODE = "127.0.0.1"  # the hollow node's name; the fake node gets the same hostname label


@dataclass
class Kube:
    name: str
    cluster: Cluster
    scheduler: KubernetesScheduler
    server: Any = None  # the KubeTestCluster, on the real one

    @property
    def real(self) -> bool:
        return self.name == "cluster"

    def release(
        self,
        app: str,
        version: int,
        types: dict[str, str],
        *,
        image: str = "fake/web",
        env: dict[str, str] | None = None,
        **config: Any,
    ) -> ReleaseSpec:
        """A release of ``image`` with a procfile ``types`` and a config (memory, cpu,
        healthcheck as the API stores them; tags, registry as ReleaseSpec fields)."""
        tags = config.pop("tags", {})
        registry = config.pop("registry", {})
        return ReleaseSpec(
            app=app,
            version=version,
            processes=build_processes(types, **config),
            env=env or {},
            image=image,
            summary=f"test v{version}",
            tags=tags,
            registry=registry,
            grace_period=2.0,
        )

    async def deploy(self, release: ReleaseSpec, **structure: int) -> None:
        await self.scheduler.deploy(DeploySpec(release=release, structure=structure))

    async def objects(self, app: str, kind: str, selector: str = "") -> dict[str, Object]:
        items = await self.cluster.list(kind, namespace=app, selector=selector)
        return {o["metadata"]["name"]: o for o in items}


@pytest.fixture(params=["fake", pytest.param("cluster", marks=pytest.mark.kubernetes)])
def kube_target(request: pytest.FixtureRequest) -> Any:
    """None for the fake, else the session's real cluster (started on first use)."""
    if request.param == "fake":
        return None
    return request.getfixturevalue("kube_cluster")


@pytest.fixture
async def kube(kube_target: Any) -> AsyncIterator[Kube]:
    cluster: Cluster
    if kube_target is None:
        cluster = FakeCluster(node_labels={"kubernetes.io/hostname": NODE})
        scheduler = KubernetesScheduler(
            cluster, deploy_timeout=5.0, poll_interval=0.02, settle_timeout=5.0
        )
        kube = Kube("fake", cluster, scheduler)
    else:
        from dockyard.scheduler.kubernetes.client import connect

        cluster = await connect(str(kube_target.kubeconfig))
        scheduler = KubernetesScheduler(
            cluster, deploy_timeout=30.0, poll_interval=0.2, settle_timeout=60.0
        )
        kube = Kube("cluster", cluster, scheduler, kube_target)
    yield kube
    await scheduler.aclose()


@pytest.fixture
async def app(kube: Kube) -> AsyncIterator[str]:
    name = f"dk{secrets.token_hex(3)}"
    yield name
    await kube.scheduler.destroy(name)
