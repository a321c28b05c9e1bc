"""The scheduler contract on the real test cluster (the fake runs it in
``tests/scheduler/test_kubernetes_contract.py``). It lives here, beside the cluster fixtures,
so that one test session starts one cluster. Tests needing what the hollow node cannot do
are skipped with the reason (``HOLLOW``)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dockyard.scheduler.kubernetes import KubernetesScheduler
from dockyard.scheduler.kubernetes.client import connect
from tests.scheduler.contract import *  # noqa: F403
from tests.scheduler.test_kubernetes_contract import HOLLOW, KubeKit

pytestmark = pytest.mark.kubernetes


@pytest.fixture
async def kit(kube_cluster: Any) -> AsyncIterator[KubeKit]:
    cluster = await connect(str(kube_cluster.kubeconfig))
    scheduler = KubernetesScheduler(
        cluster, deploy_timeout=30.0, poll_interval=0.2, settle_timeout=60.0
    )
    kit = KubeKit(scheduler, cluster, deploy_timeout=30.0, unsupported=HOLLOW)
    yield kit
    for app in kit.apps:
        await scheduler.destroy(app)
    await scheduler.aclose()


@pytest.fixture
def app_name(kit: KubeKit) -> str:
    name = f"c{secrets.token_hex(3)}"
    kit.apps.extend([name, f"{name}-b"])
    return name
