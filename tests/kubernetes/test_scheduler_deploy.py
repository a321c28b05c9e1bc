"""Deploys on the kubernetes scheduler, read back from the API: namespaces, Deployments and
their ReplicaSets and pods, env Secrets, the web Service, probes and limits in the pod spec,
node selectors and pull secrets, new releases, scaling, autoscaling, a failed rollout rolled
back, and destroy. Each test runs on the fake and on the real cluster (``kube``)."""

# The fixtures are imported from fixtures_scheduler; tests naming them as parameters is the
# point, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import base64
import json
import re
import time

import pytest

from dockyard.scheduler.base import DeployError, PodState, PodStatus
from dockyard.scheduler.kubernetes import names
from tests.kubernetes.cluster import free_port
from tests.kubernetes.fixtures_scheduler import NODE, Kube, app, kube, kube_target  # noqa: F401


def decode(secret: dict[str, object]) -> dict[str, str]:
    data = secret.get("data") or {}
    assert isinstance(data, dict)
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


async def test_deploy_creates_the_app_objects(kube: Kube, app: str) -> None:
    release = kube.release(app, 1, {"web": "", "worker": "run-worker"}, env={"GREETING": "hi"})
    await kube.deploy(release, web=2, worker=1)

    namespace = await kube.cluster.get("namespaces", app)
    assert namespace is not None and namespace["metadata"]["labels"]["app"] == app
    deployments = await kube.objects(app, "deployments")
    assert set(deployments) == {f"{app}-web", f"{app}-worker"}
    web = deployments[f"{app}-web"]
    assert web["metadata"]["labels"] == {"app": app, "type": "web", "heritage": "dockyard"}
    assert web["spec"]["replicas"] == 2 and not web["spec"].get("paused")
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert web["spec"]["revisionHistoryLimit"] == 5
    assert web["status"]["availableReplicas"] == 2
    pod_spec = web["spec"]["template"]["spec"]
    assert pod_spec["terminationGracePeriodSeconds"] == 2
    (container,) = pod_spec["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": f"{app}-v1-env"}}]
    assert container["env"] == [{"name": "PORT", "value": "5000"}]
    assert "command" not in container  # no procfile command: the image's own
    worker = deployments[f"{app}-worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["command"] == ["/bin/sh", "-c", "run-worker"] and "env" not in worker

    replica_sets = await kube.objects(app, "replicasets")
    assert {re.sub(r"\d{10}$", "N", n) for n in replica_sets} == {f"{app}-web-N", f"{app}-worker-N"}
    pods = await kube.scheduler.pods(app)
    assert [p.type for p in pods] == ["web", "web", "worker"]
    for pod in pods:
        assert re.fullmatch(rf"{app}-{pod.type}-\d{{10}}-[a-z0-9]{{5}}", pod.name), pod.name
        assert (pod.release, pod.state) == ("v1", PodState.up)
    raw = await kube.objects(app, "pods")
    assert {p["metadata"]["labels"]["version"] for p in raw.values()} == {"v1"}

    secrets = await kube.objects(app, "secrets", f"{names.COMPONENT}=env")
    assert list(secrets) == [f"{app}-v1-env"]
    env = decode(secrets[f"{app}-v1-env"])
    assert env["GREETING"] == "hi" and env["WORKFLOW_RELEASE"] == "v1" and env["DEIS_APP"] == app
    services = await kube.objects(app, "services")
    assert list(services) == [f"{app}-web"]
    assert services[f"{app}-web"]["spec"]["selector"] == {"app": app, "type": "web"}
    (port,) = services[f"{app}-web"]["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (80, 5000)
    assert await kube.objects(app, "ingresses") == {}
    assert await kube.objects(app, "horizontalpodautoscalers") == {}


async def test_probes_limits_tags_and_registry_in_the_pod_spec(kube: Kube, app: str) -> None:
    healthcheck = {
        "web": {
            "livenessProbe": {
                "exec": {"command": ["true"]},
                "initialDelaySeconds": 30,
                "periodSeconds": 5,
            },
        }
    }
    registry = {"username": "bob", "password": "s3cret"}
    release = kube.release(
        app,
        1,
        {"web": ""},
        image="registry.example.com/shop:1",
        memory={"web": "256M/512M"},
        cpu={"web": "250m/1"},
        healthcheck=healthcheck,
        tags={"kubernetes.io/hostname": NODE},
        registry=registry,
    )
    await kube.deploy(release, web=1)
    (deploy,) = (await kube.objects(app, "deployments")).values()
    spec = deploy["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["resources"] == {
        "limits": {"memory": "512Mi", "cpu": "1"},  # the API server normalises 1000m
        "requests": {"memory": "256Mi", "cpu": "250m"},
    } or container["resources"] == {
        "limits": {"memory": "512Mi", "cpu": "1000m"},
        "requests": {"memory": "256Mi", "cpu": "250m"},
    }
    probe = container["livenessProbe"]
    assert probe["exec"] == {"command": ["true"]}
    assert (probe["initialDelaySeconds"], probe["periodSeconds"]) == (30, 5)
    assert spec["nodeSelector"] == {"kubernetes.io/hostname": NODE}
    assert spec["imagePullSecrets"] == [{"name": f"{app}-registry"}]
    pull = await kube.cluster.get("secrets", f"{app}-registry", namespace=app)
    assert pull is not None and pull["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(decode(pull)[".dockerconfigjson"])
    assert config["auths"]["registry.example.com"]["password"] == "s3cret"
    (pod,) = await kube.scheduler.pods(app)
    assert pod.state == PodState.up
    # Without credentials the pull secret goes away.
    await kube.deploy(kube.release(app, 2, {"web": ""}), web=1)
    assert await kube.cluster.get("secrets", f"{app}-registry", namespace=app) is None


async def test_new_release_scale_and_autoscale(kube: Kube, app: str) -> None:
    await kube.deploy(kube.release(app, 1, {"web": "", "worker": "w"}), web=1, worker=1)
    v1 = {p.name for p in await kube.scheduler.pods(app)}
    await kube.deploy(kube.release(app, 2, {"web": ""}), web=3)
    pods = await kube.scheduler.pods(app)
    assert [(p.type, p.release, p.state) for p in pods] == [("web", "v2", PodState.up)] * 3
    assert not v1 & {p.name for p in pods}
    assert set(await kube.objects(app, "deployments")) == {f"{app}-web"}  # worker is gone
    rs = await kube.objects(app, "replicasets", "type=web")  # the worker's are being collected
    assert sorted(r["spec"]["replicas"] for r in rs.values()) == [0, 3]  # v1 kept for history
    secrets = await kube.objects(app, "secrets", f"{names.COMPONENT}=env")
    assert set(secrets) == {f"{app}-v1-env", f"{app}-v2-env"}

    kept = {p.name for p in pods}
    await kube.deploy(kube.release(app, 2, {"web": ""}), web=1)  # scale: same template
    assert {p.name for p in await kube.scheduler.pods(app)} < kept
    assert len(await kube.objects(app, "replicasets", "type=web")) == 2

    await kube.scheduler.autoscale(app, "web", minimum=2, maximum=4, cpu_percent=60)
    (hpa,) = (await kube.objects(app, "horizontalpodautoscalers")).values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{app}-web"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    assert hpa["spec"]["targetCPUUtilizationPercentage"] == 60
    await kube.scheduler.remove_autoscale(app, "web")
    assert await kube.objects(app, "horizontalpodautoscalers") == {}


async def test_failed_rollout_rolls_back(kube: Kube, app: str) -> None:
    """A readiness probe that never passes: a tcpSocket probe, which the hollow kubelet
    really makes, against a closed port on this host's loopback. (The hollow kubelet records
    no events, so only the fake adds the probe's failure to the message.)"""
    await kube.deploy(kube.release(app, 1, {"web": ""}), web=2)
    before = await kube.scheduler.pods(app)
    closed = {"tcpSocket": {"port": free_port(), "host": "127.0.0.1"}, "periodSeconds": 1}
    release = kube.release(
        app, 2, {"web": ""}, image="fake/sleep", healthcheck={"web": {"readinessProbe": closed}}
    )
    kube.scheduler.deploy_timeout = 8.0 if kube.real else 1.0
    with pytest.raises(DeployError, match="ready") as info:
        await kube.deploy(release, web=2)
    assert info.value.message.startswith("web: pods of v2 did not become ready within")
    if not kube.real:
        assert "Readiness probe failed" in info.value.message, info.value.message
    await assert_rolled_back(kube, app, before)
    # The app deploys again once fixed.
    kube.scheduler.deploy_timeout = 30.0
    await kube.deploy(kube.release(app, 3, {"web": ""}), web=2)
    assert {p.release for p in await kube.scheduler.pods(app)} == {"v3"}


async def assert_rolled_back(kube: Kube, app: str, before: list[PodStatus]) -> None:
    after = await kube.scheduler.pods(app)
    assert [(p.name, p.release, p.state) for p in after] == [
        (p.name, "v1", PodState.up) for p in before
    ]
    (deploy,) = (await kube.objects(app, "deployments")).values()
    assert deploy["spec"]["template"]["metadata"]["labels"]["version"] == "v1"
    replica_sets = await kube.objects(app, "replicasets")
    assert sorted(r["spec"]["replicas"] for r in replica_sets.values()) == [0, len(before)]


async def test_a_container_that_cannot_start_fails_fast(kube: Kube, app: str) -> None:
    """An invalid image reference: the kubelet reports InvalidImageName (the hollow one
    too), and the deploy stops at once with that reason instead of waiting out its timeout."""
    await kube.deploy(kube.release(app, 1, {"web": ""}), web=1)
    before = await kube.scheduler.pods(app)
    started = time.monotonic()
    with pytest.raises(DeployError) as info:
        await kube.deploy(kube.release(app, 2, {"web": ""}, image="Not An Image"), web=1)
    assert time.monotonic() - started < kube.scheduler.deploy_timeout
    message = info.value.message
    assert message.startswith("web: v2 failed to start: InvalidImageName: "), message
    await assert_rolled_back(kube, app, before)


async def test_unschedulable_pods_fail_the_deploy_with_the_reason(kube: Kube, app: str) -> None:
    kube.scheduler.deploy_timeout = 6.0 if kube.real else 0.5
    with pytest.raises(DeployError) as info:
        await kube.deploy(kube.release(app, 1, {"web": ""}, tags={"disk": "ssd"}), web=1)
    assert "didn't match Pod's node affinity" in info.value.message, info.value.message
    assert await kube.objects(app, "deployments") == {}  # a first deploy leaves nothing
    assert await kube.scheduler.pods(app) == []


async def test_restart_deletes_pods_and_returns_the_new_ones(kube: Kube, app: str) -> None:
    await kube.deploy(kube.release(app, 1, {"web": "", "worker": "w"}), web=2, worker=1)
    before = await kube.scheduler.pods(app)
    (new,) = await kube.scheduler.restart(app, name=before[0].name)
    assert new.type == "web" and new.state == PodState.up and new.name != before[0].name
    assert new.name.rsplit("-", 1)[0] == before[0].name.rsplit("-", 1)[0]  # same ReplicaSet
    after = await kube.scheduler.restart(app, type="worker")
    assert [p.type for p in after] == ["worker"]
    names_now = {p.name for p in await kube.scheduler.pods(app)}
    assert len(names_now) == 3 and before[0].name not in names_now


async def test_destroy_deletes_the_namespace(kube: Kube, app: str) -> None:
    await kube.deploy(kube.release(app, 1, {"web": ""}), web=1)
    await kube.scheduler.log_event(app, "dockyard", "hello")
    await kube.scheduler.destroy(app)
    # It returns once the deletion started; the app shows nothing from then on.
    assert await kube.scheduler.pods(app) == []
    assert await kube.scheduler.logs(app) == ""
    await kube.scheduler.destroy(app)
    deadline = time.monotonic() + 60
    while await kube.cluster.get("namespaces", app) is not None:
        assert time.monotonic() < deadline, "the namespace was not deleted"
        await asyncio.sleep(0.2)
    # The name can be used again.
    await kube.deploy(kube.release(app, 1, {"web": ""}), web=1)
    assert [p.release for p in await kube.scheduler.pods(app)] == ["v1"]
