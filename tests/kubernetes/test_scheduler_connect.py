"""How the kubernetes scheduler is built from settings and connects: lazily, from
``DOCKYARD_KUBECONFIG``; an unreachable or unconfigured cluster is a 503
(``SchedulerUnavailable``), never a hang or a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dockyard.api.runtime import make_scheduler
from dockyard.core.settings import Settings
from dockyard.scheduler.base import DeploySpec, SchedulerUnavailable
from dockyard.scheduler.kubernetes import KubernetesScheduler
from tests.kubernetes.cluster import free_port
from tests.kubernetes.fixtures_scheduler import Kube


def settings_for(tmp_path: Path, kubeconfig: str) -> Settings:
    return Settings(
        data_dir=tmp_path, scheduler="kubernetes", kubeconfig=kubeconfig, ingress_class="traefik"
    )


def kubeconfig_for(path: Path, server: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}
        ],
        "users": [{"name": "u", "user": {"token": "nope"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path.write_text(json.dumps(config))
    return path


async def test_make_scheduler_builds_it_from_settings(tmp_path: Path) -> None:
    scheduler = make_scheduler(settings_for(tmp_path, str(tmp_path / "missing")))
    assert isinstance(scheduler, KubernetesScheduler)
    assert scheduler.ingress_class == "traefik"
    with pytest.raises(SchedulerUnavailable, match="Cannot load the Kubernetes configuration"):
        await scheduler.pods("shop")
    await scheduler.aclose()


async def test_an_unreachable_api_server_is_unavailable(tmp_path: Path) -> None:
    config = kubeconfig_for(tmp_path / "kubeconfig", f"https://127.0.0.1:{free_port()}")
    scheduler = make_scheduler(settings_for(tmp_path, str(config)))
    with pytest.raises(SchedulerUnavailable, match="not reachable"):
        await scheduler.pods("shop")
    release = Kube("fake", None, scheduler).release("shop", 1, {"web": ""})  # type: ignore[arg-type]
    with pytest.raises(SchedulerUnavailable):
        await scheduler.deploy(DeploySpec(release=release, structure={"web": 1}))
    await scheduler.aclose()


@pytest.mark.kubernetes
async def test_it_connects_with_the_configured_kubeconfig(
    tmp_path: Path, kube_cluster: Any
) -> None:
    scheduler = make_scheduler(settings_for(tmp_path, str(kube_cluster.kubeconfig)))
    assert await scheduler.pods("nothing-here") == []
    assert await scheduler.logs("nothing-here") == ""
    await scheduler.aclose()
    bad = kubeconfig_for(tmp_path / "bad", kube_cluster.server)  # a token it does not know
    scheduler = make_scheduler(settings_for(tmp_path, str(bad)))
    with pytest.raises(SchedulerUnavailable):
        await scheduler.pods("shop")
    await scheduler.aclose()
