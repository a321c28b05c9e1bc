"""The contract every ``Scheduler`` implementation must pass.

A backend's test module imports these tests (``from tests.scheduler.contract import *``) and
provides one fixture, ``kit``: a ``Kit`` with the scheduler under test, a way to build releases
from abstract roles (``web``, ``worker``, ``crash``, ``sleep``) into its own commands or images,
and a way to reach a web pod over HTTP. Everything else is expressed through the interface.

``Kit.unsupported`` names what a test environment cannot do, with the reason; a test that
needs it is skipped there (see :func:`need`) and its backend covers the behaviour elsewhere.
Capabilities: ``http`` (reach a web pod), ``exit`` (a container's program exits: the ``crash``
role), ``probes`` (network probes against the pod's own address), ``run`` (a one-off command
completes with its exit code), ``logs`` (pods' output reaches the log).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any, Protocol

import pytest

from dockyard.scheduler.base import (
    DeployError,
    DeploySpec,
    PodNotFound,
    PodState,
    PodStatus,
    ReleaseSpec,
    RunSpec,
    Scheduler,
)

POD_NAME = re.compile(r"^(?P<app>[a-z0-9-]+)-(?P<type>[a-z0-9-]+)-(?P<digits>\d+)-[a-z0-9]{5}$")


class Kit(Protocol):
    scheduler: Scheduler
    deploy_timeout: float
    unsupported: Mapping[str, str]

    def release(
        self,
        app: str,
        version: int,
        roles: dict[str, str],
        *,
        env: dict[str, str] | None = None,
        healthcheck: dict[str, Any] | None = None,
    ) -> ReleaseSpec: ...

    async def http_get(self, pod: PodStatus, path: str = "/") -> tuple[int, dict[str, Any]]: ...


def need(kit: Kit, *capabilities: str) -> None:
    for capability in capabilities:
        if capability in kit.unsupported:
            pytest.skip(kit.unsupported[capability])


async def deploy(kit: Kit, release: ReleaseSpec, **structure: int) -> None:
    await kit.scheduler.deploy(DeploySpec(release=release, structure=structure))


def counts(pods: list[PodStatus]) -> dict[str, int]:
    result: dict[str, int] = {}
    for p in pods:
        result[p.type] = result.get(p.type, 0) + 1
    return result


async def test_deploy_starts_ready_pods(kit: Kit, app_name: str) -> None:
    await deploy(kit, kit.release(app_name, 1, {"web": "web", "worker": "worker"}), web=2, worker=1)
    pods = await kit.scheduler.pods(app_name)
    assert counts(pods) == {"web": 2, "worker": 1}
    assert [p.type for p in pods] == sorted(p.type for p in pods)
    for pod in pods:
        m = POD_NAME.match(pod.name)
        assert m and pod.name.startswith(f"{app_name}-{pod.type}-"), pod.name
        assert pod.state == PodState.up
        assert pod.release == "v1"
        assert pod.started is not None
    assert [p.name for p in await kit.scheduler.pods(app_name, type="worker")] == [
        p.name for p in pods if p.type == "worker"
    ]


async def test_web_pods_serve_with_the_release_env(kit: Kit, app_name: str) -> None:
    need(kit, "http")
    release = kit.release(
        app_name, 3, {"web": "web"}, env={"GREETING": "hello", "WORKFLOW_RELEASE_SUMMARY": "mine"}
    )
    await deploy(kit, release, web=1)
    (pod,) = await kit.scheduler.pods(app_name)
    status, body = await kit.http_get(pod)
    assert status == 200
    env = body["env"]
    assert env["GREETING"] == "hello"
    assert env["WORKFLOW_RELEASE"] == "v3" and body["release"] == "v3"
    assert env["DEIS_APP"] == app_name and env["DRYCC_APP"] == app_name
    assert env["WORKFLOW_RELEASE_SUMMARY"] == "mine"  # user values win
    assert env["PORT"].isdigit()


async def test_new_release_replaces_pods_without_dropping_web(kit: Kit, app_name: str) -> None:
    await deploy(kit, kit.release(app_name, 1, {"web": "web", "worker": "worker"}), web=1, worker=1)
    before = {p.name for p in await kit.scheduler.pods(app_name)}
    samples: list[int] = []
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            pods = await kit.scheduler.pods(app_name, type="web")
            samples.append(sum(p.state == PodState.up for p in pods))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    try:
        await deploy(
            kit, kit.release(app_name, 2, {"web": "web", "worker": "worker"}), web=1, worker=1
        )
    finally:
        done.set()
        await watcher
    assert samples and min(samples) >= 1, samples
    pods = await kit.scheduler.pods(app_name)
    assert counts(pods) == {"web": 1, "worker": 1}
    assert {p.release for p in pods} == {"v2"}
    assert not before & {p.name for p in pods}
    if "http" not in kit.unsupported:
        status, body = await kit.http_get(pods[0])
        assert status == 200 and body["release"] == "v2"


async def test_failed_deploy_keeps_the_previous_release(kit: Kit, app_name: str) -> None:
    need(kit, "exit", "http")
    await deploy(kit, kit.release(app_name, 1, {"web": "web"}), web=1)
    (old,) = await kit.scheduler.pods(app_name)
    with pytest.raises(DeployError) as info:
        await deploy(kit, kit.release(app_name, 2, {"web": "crash"}), web=1)
    assert "web" in info.value.message
    pods = await kit.scheduler.pods(app_name)
    assert [(p.name, p.release, p.state) for p in pods] == [(old.name, "v1", PodState.up)]
    assert (await kit.http_get(pods[0]))[0] == 200


async def test_deploy_fails_when_readiness_never_passes(kit: Kit, app_name: str) -> None:
    need(kit, "probes")
    await deploy(kit, kit.release(app_name, 1, {"web": "web"}), web=1)
    probe = {"tcpSocket": {"port": 5000}, "periodSeconds": 1, "timeoutSeconds": 1}
    release = kit.release(
        app_name, 2, {"web": "sleep"}, healthcheck={"web": {"readinessProbe": probe}}
    )
    with pytest.raises(DeployError, match="ready"):
        await deploy(kit, release, web=1)
    pods = await kit.scheduler.pods(app_name)
    assert [(p.release, p.state) for p in pods] == [("v1", PodState.up)]


async def test_readiness_probe_gates_deploy(kit: Kit, app_name: str) -> None:
    need(kit, "probes", "http")
    probes = {
        "web": {
            "readinessProbe": {
                "httpGet": {"path": "/health", "port": 5000},
                "periodSeconds": 1,
                "initialDelaySeconds": 0,
            },
            "livenessProbe": {"tcpSocket": {"port": 5000}, "periodSeconds": 1},
        },
        "worker": {"readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1}},
    }
    release = kit.release(app_name, 1, {"web": "web", "worker": "worker"}, healthcheck=probes)
    await deploy(kit, release, web=1, worker=1)
    pods = await kit.scheduler.pods(app_name)
    assert {p.state for p in pods} == {PodState.up}
    assert (await kit.http_get(pods[0], "/health"))[0] == 200


async def test_scale_up_and_down(kit: Kit, app_name: str) -> None:
    release = kit.release(app_name, 1, {"web": "web", "worker": "worker"})
    await deploy(kit, release, web=1)
    (first,) = await kit.scheduler.pods(app_name)
    await kit.scheduler.scale(DeploySpec(release=release, structure={"web": 3, "worker": 1}))
    pods = await kit.scheduler.pods(app_name)
    assert counts(pods) == {"web": 3, "worker": 1}
    assert first.name in {p.name for p in pods}  # scaling does not replace running pods
    assert {p.state for p in pods} == {PodState.up}
    await kit.scheduler.scale(DeploySpec(release=release, structure={"web": 1, "worker": 0}))
    pods = await kit.scheduler.pods(app_name)
    assert counts(pods) == {"web": 1}
    await kit.scheduler.scale(DeploySpec(release=release, structure={"web": 0}))
    assert await kit.scheduler.pods(app_name) == []


async def test_scale_rejects_unknown_types(kit: Kit, app_name: str) -> None:
    release = kit.release(app_name, 1, {"web": "web"})
    with pytest.raises(DeployError, match="Container type nope does not exist"):
        await kit.scheduler.scale(DeploySpec(release=release, structure={"nope": 1}))
    assert await kit.scheduler.pods(app_name) == []


async def test_scale_to_another_release_deploys_it(kit: Kit, app_name: str) -> None:
    await deploy(kit, kit.release(app_name, 1, {"web": "web"}), web=1)
    release = kit.release(app_name, 2, {"web": "web"})
    await kit.scheduler.scale(DeploySpec(release=release, structure={"web": 2}))
    pods = await kit.scheduler.pods(app_name)
    assert [(p.release, p.state) for p in pods] == [("v2", PodState.up)] * 2


async def test_restart(kit: Kit, app_name: str) -> None:
    await deploy(kit, kit.release(app_name, 1, {"web": "web", "worker": "worker"}), web=2, worker=1)
    before = await kit.scheduler.pods(app_name)
    restarted = await kit.scheduler.restart(app_name, type="worker")
    assert [p.type for p in restarted] == ["worker"]
    after = await kit.scheduler.pods(app_name)
    assert counts(after) == {"web": 2, "worker": 1}
    assert {p.name for p in after if p.type == "worker"} == {restarted[0].name}
    assert restarted[0].name not in {p.name for p in before}
    web = [p for p in after if p.type == "web"]
    one = await kit.scheduler.restart(app_name, name=web[0].name)
    assert len(one) == 1 and one[0].type == "web" and one[0].state == PodState.up
    names = {p.name for p in await kit.scheduler.pods(app_name)}
    assert web[0].name not in names and web[1].name in names
    everything = await kit.scheduler.restart(app_name)
    assert len(everything) == 3
    assert {p.name for p in await kit.scheduler.pods(app_name)} == {p.name for p in everything}
    with pytest.raises(PodNotFound):
        await kit.scheduler.restart(app_name, name=f"{app_name}-web-1-zzzzz")


async def test_run(kit: Kit, app_name: str) -> None:
    need(kit, "run")
    release = kit.release(app_name, 4, {"web": "web"}, env={"GREETING": "hi"})
    result = await kit.scheduler.run(RunSpec(release, 'echo "$GREETING $WORKFLOW_RELEASE"'))
    assert (result.exit_code, result.output) == (0, "hi v4\n")
    result = await kit.scheduler.run(RunSpec(release, "echo oops >&2; exit 3"))
    assert (result.exit_code, result.output) == (3, "oops\n")
    result = await kit.scheduler.run(RunSpec(release, "echo start; sleep 30", timeout=1))
    assert result.timed_out and result.exit_code != 0
    assert result.output.startswith("start\n")


async def test_logs_and_events(kit: Kit, app_name: str) -> None:
    need(kit, "logs")
    assert await kit.scheduler.logs(app_name) == ""
    await kit.scheduler.log_event(app_name, "dockyard", "alice deployed v1")
    await deploy(kit, kit.release(app_name, 1, {"worker": "worker"}), worker=1)
    text = ""
    for _ in range(50):
        text = await kit.scheduler.logs(app_name, lines=1000)
        if "stderr tick 2" in text:
            break
        await asyncio.sleep(0.1)
    line = re.compile(
        rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ {app_name}\[(?P<src>[^\]]+)\]: (?P<msg>.*)$"
    )
    parsed = [line.match(x) for x in text.splitlines()]
    assert all(parsed), text
    messages = [(m["src"], m["msg"]) for m in parsed if m]
    assert ("dockyard", "alice deployed v1") in messages
    assert ("worker.1", "tick 1") in messages and ("worker.1", "stderr tick 2") in messages
    assert len((await kit.scheduler.logs(app_name, lines=2)).splitlines()) == 2


async def test_destroy(kit: Kit, app_name: str) -> None:
    await deploy(kit, kit.release(app_name, 1, {"web": "web", "worker": "worker"}), web=1, worker=1)
    await kit.scheduler.log_event(app_name, "dockyard", "hello")
    await kit.scheduler.destroy(app_name)
    assert await kit.scheduler.pods(app_name) == []
    assert await kit.scheduler.logs(app_name) == ""
    await kit.scheduler.destroy(app_name)  # idempotent
    # The name can be reused from scratch.
    await deploy(kit, kit.release(app_name, 1, {"web": "web"}), web=1)
    assert counts(await kit.scheduler.pods(app_name)) == {"web": 1}


async def test_apps_are_independent(kit: Kit, app_name: str) -> None:
    other = f"{app_name}-b"
    await asyncio.gather(
        deploy(kit, kit.release(app_name, 1, {"web": "web"}), web=1),
        deploy(kit, kit.release(other, 1, {"worker": "worker"}), worker=1),
    )
    assert counts(await kit.scheduler.pods(app_name)) == {"web": 1}
    assert counts(await kit.scheduler.pods(other)) == {"worker": 1}
    await kit.scheduler.destroy(other)
    assert counts(await kit.scheduler.pods(app_name)) == {"web": 1}
