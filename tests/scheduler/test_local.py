"""Behaviour of the local backend beyond the contract: crash restarts with backoff, liveness,
graceful stop, re-adoption after agent restarts, the agent as a subprocess, limits and the
unprivileged app user."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.scheduler.base import DeploySpec, PodState, ReleaseSpec, RouteSpec, RunSpec
from dockyard.scheduler.local import LocalScheduler, routes
from dockyard.scheduler.local.agent import Agent
from dockyard.scheduler.local.client import spawn_agent
from dockyard.scheduler.local.node import NodeOptions
from dockyard.scheduler.local.pods import PodDir, alive, pod_processes
from dockyard.scheduler.local.runner import run_command
from dockyard.scheduler.parse import build_processes
from tests.scheduler.apps import WEB_COMMAND, WORKER_COMMAND
from tests.scheduler.conftest import Tracked, make_agent, shutdown


def release(
    app: str,
    build_dir: Path,
    procfile: dict[str, str],
    *,
    version: int = 1,
    grace: float = 2.0,
    **config: dict[str, object],
) -> ReleaseSpec:
    return ReleaseSpec(
        app=app,
        version=version,
        processes=build_processes(procfile, **config),  # type: ignore[arg-type]
        source_dir=str(build_dir),
        grace_period=grace,
    )


async def eventually(check, within: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


def read(path: str) -> str:
    return Path(path).read_text()


def wait_gone(pid: int) -> None:
    while alive(pid):
        time.sleep(0.01)


def only_pod(agent: Agent, app: str) -> PodDir:
    (pod,) = agent.node.pod_dirs(app)
    return pod


def child_pid(pod: PodDir) -> int:
    runtime = pod.runtime()
    assert runtime and runtime.child_pid
    return runtime.child_pid


async def test_crashing_process_restarts_with_exponential_backoff(
    agent: Agent, build_dir: Path, app_name: str
) -> None:
    spec = release(app_name, build_dir, {"worker": "echo boom; exit 4"})
    pod = await agent.node.create(spec, "worker", 1)
    seen: list[str] = []

    async def restarted_four_times() -> bool:
        runtime = pod.runtime()
        if runtime and runtime.message not in seen:
            seen.append(runtime.message)
        return bool(runtime and runtime.restarts >= 4)

    assert await eventually(restarted_four_times)
    delays = [m.split("restarting in ")[1] for m in seen if "restarting in" in m]
    assert delays[:4] == ["0.2s", "0.4s", "0.8s", "1s"]  # doubling, capped at backoff_max
    assert (await agent.pods(app_name))[0].state in (
        PodState.crashed,
        PodState.creating,
        PodState.starting,
    )
    await agent.node.stop(pod)
    logs = agent.node.logs.tail(app_name, 100)
    assert f"{app_name}[worker.1]: boom" in logs
    assert "worker.1 process exited with status 4" in logs


async def test_killed_process_is_restarted(agent: Agent, build_dir: Path, app_name: str) -> None:
    spec = release(app_name, build_dir, {"worker": WORKER_COMMAND})
    await agent.deploy(DeploySpec(spec, {"worker": 1}))
    pod = only_pod(agent, app_name)
    first = child_pid(pod)
    os.killpg(first, signal.SIGKILL)

    async def back_up() -> bool:
        (status,) = await agent.pods(app_name)
        return status.state == PodState.up and status.restarts == 1

    assert await eventually(back_up)
    assert child_pid(pod) != first
    assert (await agent.pods(app_name))[0].name == pod.name


async def deploy_web_probed_on_health(
    agent: Agent, build_dir: Path, app_name: str, kind: str, *, web: int
) -> None:
    """Deploy web pods whose ``kind`` probe checks ``/health`` every second, failing at once."""
    probe = {"httpGet": {"path": "/health", "port": 80}, "periodSeconds": 1, "failureThreshold": 1}
    spec = release(app_name, build_dir, {"web": WEB_COMMAND}, healthcheck={"web": {kind: probe}})
    await agent.deploy(DeploySpec(spec, {"web": web}))


async def test_liveness_probe_restarts_a_pod_that_stops_answering(
    agent: Agent, build_dir: Path, app_name: str
) -> None:
    await deploy_web_probed_on_health(agent, build_dir, app_name, "livenessProbe", web=1)
    (pod,) = await agent.pods(app_name)
    async with httpx.AsyncClient(trust_env=False) as client:
        assert (await client.get(f"http://127.0.0.1:{pod.port}/sick")).status_code == 200

    async def restarted() -> bool:
        (status,) = await agent.pods(app_name)
        return status.restarts >= 1 and status.state == PodState.up

    assert await eventually(restarted)
    assert "web.1 liveness probe failed, restarting" in agent.node.logs.tail(app_name, 100)


async def test_readiness_keeps_being_probed_and_takes_a_pod_out_of_rotation(
    agent: Agent, build_dir: Path, app_name: str
) -> None:
    await deploy_web_probed_on_health(agent, build_dir, app_name, "readinessProbe", web=2)
    pods = await agent.pods(app_name)
    ports = sorted(p.port for p in pods if p.port is not None)
    assert len(ports) == 2 and sorted(agent._ready_ports(app_name)) == ports
    sick, well = ports

    def ready_ports() -> list[int]:
        return sorted(agent._ready_ports(app_name))

    async def only_well_ready() -> bool:
        return ready_ports() == [well]

    async def both_ready() -> bool:
        return ready_ports() == ports

    async with httpx.AsyncClient(trust_env=False) as client:
        await client.get(f"http://127.0.0.1:{sick}/sick")
        assert await eventually(only_well_ready)
        # Out of rotation and shown as starting, not restarted: the process keeps running.
        states = {p.port: (p.state, p.restarts) for p in await agent.pods(app_name)}
        assert states == {sick: (PodState.starting, 0), well: (PodState.up, 0)}
        assert "readiness probe failed, out of rotation" in agent.node.logs.tail(app_name, 100)
        await client.get(f"http://127.0.0.1:{sick}/well")
        assert await eventually(both_ready)
    assert "readiness probe passes again" in agent.node.logs.tail(app_name, 100)


async def test_readiness_is_probed_often_until_first_ready(
    agent: Agent, build_dir: Path, app_name: str
) -> None:
    """A 10 s period (the Kubernetes default) does not make every deploy take 10 s: the app
    is ready as soon as it answers, so the deploy waits for the app, not for the probe."""
    probe = {"tcpSocket": {"port": 80}, "periodSeconds": 10}
    slow_start = f"sleep 0.6; {WEB_COMMAND}"
    spec = release(
        app_name, build_dir, {"web": slow_start}, healthcheck={"web": {"readinessProbe": probe}}
    )
    started = time.monotonic()
    await agent.deploy(DeploySpec(spec, {"web": 1}))
    took = time.monotonic() - started
    assert 0.6 <= took < 3.0
    (pod,) = await agent.pods(app_name)
    assert pod.state == PodState.up


async def test_stop_sends_sigterm_then_sigkill_after_the_grace_period(
    agent: Agent, build_dir: Path, app_name: str
) -> None:
    stubborn = "trap 'echo got TERM' TERM; while :; do sleep 0.05; done"
    spec = release(app_name, build_dir, {"worker": stubborn, "web": WEB_COMMAND}, grace=1.0)
    await agent.deploy(DeploySpec(spec, {"worker": 1, "web": 1}))
    started = time.monotonic()
    await agent.scale(DeploySpec(spec, {"web": 1}))
    took = time.monotonic() - started
    assert 1.0 <= took < 4.0
    logs = agent.node.logs.tail(app_name, 100)
    assert "got TERM" in logs and "worker.1 process did not stop in 1s, killing it" in logs
    started = time.monotonic()
    await agent.scale(DeploySpec(spec, {"web": 0}))
    assert time.monotonic() - started < 1.0  # a process that exits on SIGTERM stops at once


async def test_agent_restart_readopts_running_pods(
    root: Path, build_dir: Path, app_name: str, tracked: Tracked
) -> None:
    agent = make_agent(root)
    await agent.start()
    spec = release(app_name, build_dir, {"web": WEB_COMMAND, "worker": WORKER_COMMAND})
    await agent.deploy(DeploySpec(spec, {"web": 1, "worker": 1}))
    before = {p.name: child_pid(p) for p in agent.node.pod_dirs(app_name)}
    await agent.close()
    assert all(pod_processes(name) for name in before)  # apps outlive the agent
    assert len(tracked.processes()) >= 4  # and the leak guard sees them: 2 shims, 2 apps
    agent = make_agent(root)
    await agent.start()
    try:
        pods = await agent.pods(app_name)
        assert {p.name: p.state for p in pods} == {name: PodState.up for name in before}
        assert {p.name: child_pid(p) for p in agent.node.pod_dirs(app_name)} == before
        web = next(p for p in pods if p.type == "web")
        async with httpx.AsyncClient(trust_env=False) as client:
            assert (await client.get(f"http://127.0.0.1:{web.port}/")).status_code == 200
        await agent.scale(DeploySpec(spec, {"web": 2, "worker": 1}))
        assert len(await agent.pods(app_name)) == 3
    finally:
        await shutdown(agent)


async def test_agent_restart_revives_dead_shims_and_stops_strays(
    root: Path, build_dir: Path, app_name: str
) -> None:
    agent = make_agent(root)
    await agent.start()
    v1 = release(app_name, build_dir, {"worker": WORKER_COMMAND})
    await agent.deploy(DeploySpec(v1, {"worker": 1}))
    pod = only_pod(agent, app_name)
    old_child = child_pid(pod)
    # An interrupted deploy: a v2 pod exists, but the record still says v1.
    stray = await agent.node.create(
        release(app_name, build_dir, {"worker": WORKER_COMMAND}, version=2), "worker", 1
    )
    await agent.close()
    runtime = pod.runtime()
    assert runtime and runtime.shim_pid
    os.kill(runtime.shim_pid, signal.SIGKILL)
    wait_gone(runtime.shim_pid)
    agent = make_agent(root)
    await agent.start()
    try:
        assert not stray.path.exists()

        async def revived() -> bool:
            pods = await agent.pods(app_name)
            return [(p.name, p.release, p.state) for p in pods] == [(pod.name, "v1", PodState.up)]

        assert await eventually(revived)
        assert child_pid(pod) != old_child
        assert len({os.getpgid(p) for p in pod_processes(pod.name)}) == 1  # no duplicate
        assert pod_processes(stray.name) == []
    finally:
        await shutdown(agent)


async def test_monitor_revives_a_killed_shim(agent: Agent, build_dir: Path, app_name: str) -> None:
    await agent.deploy(
        DeploySpec(release(app_name, build_dir, {"worker": WORKER_COMMAND}), {"worker": 1})
    )
    pod = only_pod(agent, app_name)
    runtime = pod.runtime()
    assert runtime and runtime.shim_pid
    os.kill(runtime.shim_pid, signal.SIGKILL)

    async def revived() -> bool:
        new = pod.runtime()
        return bool(new and new.shim_pid != runtime.shim_pid and new.state == PodState.up)

    assert await eventually(revived)
    assert len({os.getpgid(p) for p in pod_processes(pod.name)}) == 1


async def test_agent_as_a_subprocess(root: Path, build_dir: Path, app_name: str) -> None:
    proc = await spawn_agent(root, app_user=None, deploy_timeout=10)
    client = LocalScheduler(root)
    try:
        spec = release(app_name, build_dir, {"worker": WORKER_COMMAND})
        await client.deploy(DeploySpec(spec, {"worker": 1}))
        (pod,) = await client.pods(app_name)
        proc.terminate()
        await proc.wait()
        assert pod_processes(pod.name)
        proc = await spawn_agent(root, app_user=None)
        assert [p.name for p in await client.pods(app_name)] == [pod.name]
        await client.destroy(app_name)
        assert pod_processes(pod.name) == []
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


def _cgroups_writable() -> bool:
    return os.geteuid() == 0 and (
        Path("/sys/fs/cgroup/cgroup.controllers").is_file()
        or Path("/sys/fs/cgroup/memory/cgroup.procs").is_file()
    )


@pytest.mark.skipif(not _cgroups_writable(), reason="needs root and a cgroup hierarchy")
async def test_limits_with_cgroups(agent: Agent, build_dir: Path, app_name: str) -> None:
    spec = release(
        app_name,
        build_dir,
        {"worker": WORKER_COMMAND},
        memory={"worker": "64M"},
        cpu={"worker": "500m"},
    )
    await agent.deploy(DeploySpec(spec, {"worker": 1}))
    pid = child_pid(only_pod(agent, app_name))
    logs = agent.node.logs.tail(app_name, 100)
    assert "worker.1 limits via cgroup" in logs and "memory 64M, cpu 500m" in logs
    lines = read(f"/proc/{pid}/cgroup").splitlines()
    paths = {c: p for _, cs, p in (line.split(":", 2) for line in lines) for c in cs.split(",")}
    if "cgroup v1" in logs:
        mem = Path("/sys/fs/cgroup/memory") / paths["memory"].lstrip("/")
        cpu = Path("/sys/fs/cgroup/cpu") / paths["cpu"].lstrip("/")
        assert int((mem / "memory.limit_in_bytes").read_text()) == 64 * 1024 * 1024
        assert int((cpu / "cpu.cfs_quota_us").read_text()) == 50_000
    else:
        group = Path("/sys/fs/cgroup") / paths[""].lstrip("/")
        mem = group
        assert int((group / "memory.max").read_text()) == 64 * 1024 * 1024
        assert (group / "cpu.max").read_text().split() == ["50000", "100000"]
    await agent.destroy(app_name)
    assert not mem.exists()  # the pod's cgroup goes with it


async def test_limits_fall_back_to_rlimits(root: Path, build_dir: Path, app_name: str) -> None:
    agent = make_agent(root, options=NodeOptions(settle=0.3, use_cgroups=False))
    await agent.start()
    try:
        spec = release(app_name, build_dir, {"worker": WORKER_COMMAND}, memory={"worker": "256M"})
        await agent.deploy(DeploySpec(spec, {"worker": 1}))
        pid = child_pid(only_pod(agent, app_name))
        limits = read(f"/proc/{pid}/limits")
        data = next(line for line in limits.splitlines() if line.startswith("Max data size"))
        assert data.split()[3] == str(256 * 1024 * 1024)
        assert "worker.1 limits via rlimit: memory 256M" in agent.node.logs.tail(app_name, 100)
    finally:
        await shutdown(agent)


def test_limits_probe_names_the_mechanism_and_leaves_no_cgroup() -> None:
    from dockyard.scheduler.local import limits as pod_limits

    assert pod_limits.probe(use_cgroups=False) == (
        "rlimits (cgroups are off): memory as RLIMIT_DATA, cpu not enforced"
    )
    found = pod_limits.probe()
    if _cgroups_writable():
        assert found.startswith("cgroup v") and found.endswith("memory and cpu enforced")
        assert not list(Path("/sys/fs/cgroup").rglob(f"dockyard/_probe-{os.getpid()}"))
    else:
        assert found.startswith("rlimits (no writable cgroup hierarchy)")


async def test_agent_logs_how_limits_are_enforced(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    agent = make_agent(root, options=NodeOptions(settle=0.3, use_cgroups=False))
    with caplog.at_level("INFO", logger="dockyard.scheduler"):
        await agent.start()
    try:
        assert "pod limits via rlimits (cgroups are off)" in caplog.text
    finally:
        await shutdown(agent)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
async def test_apps_run_as_an_unprivileged_user(root: Path, build_dir: Path, app_name: str) -> None:
    agent = make_agent(root, app_user="nobody")
    await agent.start()
    try:
        spec = release(app_name, build_dir, {"web": WEB_COMMAND})
        await agent.deploy(DeploySpec(spec, {"web": 1}))
        pid = child_pid(only_pod(agent, app_name))
        status = read(f"/proc/{pid}/status")
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        assert uid_line.split()[1] == "65534"
        client = LocalScheduler(root)
        result = await client.run(RunSpec(spec, f"id -u; ls {root}"))
        assert result.output.startswith("65534\n") and result.exit_code != 0
    finally:
        await shutdown(agent)


def uid_of(pid: int) -> int:
    status = read(f"/proc/{pid}/status")
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
async def test_pods_run_as_their_apps_uid_even_after_an_agent_restart(
    root: Path, build_dir: Path, app_name: str
) -> None:
    uid = 298_000 + secrets.randbelow(1000)
    agent = make_agent(root, app_user="nobody")
    await agent.start()
    spec = replace(release(app_name, build_dir, {"worker": WORKER_COMMAND}), uid=uid)
    await agent.deploy(DeploySpec(spec, {"worker": 1}))
    pod = only_pod(agent, app_name)
    old_child = child_pid(pod)
    assert uid_of(old_child) == uid
    result = await agent.run(RunSpec(spec, "id -u; id -g; id -G"))
    assert result.output.split() == [str(uid)] * 3  # no supplementary groups
    await agent.close()
    runtime = pod.runtime()
    assert runtime and runtime.shim_pid
    os.kill(runtime.shim_pid, signal.SIGKILL)  # the next agent must start the pod anew
    wait_gone(runtime.shim_pid)
    agent = make_agent(root, app_user="nobody")
    await agent.start()
    try:

        async def revived() -> bool:
            (status,) = await agent.pods(app_name)
            return status.state == PodState.up and child_pid(pod) != old_child

        assert await eventually(revived)
        assert uid_of(child_pid(pod)) == uid  # from the pod's recorded config
    finally:
        await shutdown(agent)


async def test_run_output_is_capped(build_dir: Path, app_name: str) -> None:
    spec = RunSpec(release(app_name, build_dir, {}), "head -c 5000 /dev/zero | tr '\\0' x")
    result = await run_command(spec, name=f"{app_name}-run-1-aaaaa", time_limit=5, output_limit=100)
    assert result.truncated and result.exit_code == 0
    assert result.output == "x" * 100 + "\n[output truncated at 100 bytes]\n"


async def test_route_watchers_hear_of_new_backends_when_the_deploy_returns(
    agent: Agent, build_dir: Path, app_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the readiness poll out of the way, only the deploy itself can tell the watcher.
    monkeypatch.setattr(routes, "POLL", 60.0)
    tables: list[dict[str, Any]] = []
    got = asyncio.Event()

    async def send(table: object) -> None:
        assert isinstance(table, dict)
        tables.append(table)
        got.set()

    await agent.route(RouteSpec(app=app_name, hosts=(f"{app_name}.example.test",)))
    watcher = asyncio.create_task(agent.feed.watch(send))
    try:
        await got.wait()
        assert tables[-1]["apps"][app_name]["backends"] == []
        got.clear()
        spec = release(app_name, build_dir, {"web": WEB_COMMAND})
        await agent.deploy(DeploySpec(spec, {"web": 1}))
        # No sleep: the watcher runs at the next turn of the loop.
        async with asyncio.timeout(1.0):
            await got.wait()
        (pod,) = await agent.pods(app_name)
        assert tables[-1]["apps"][app_name]["backends"] == [pod.port]
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
