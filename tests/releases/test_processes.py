"""An app's processes through the HTTP API: scale, the pods list, restarts, a killed process
coming back, one-off runs, logs, and destroying the app."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import httpx
import pytest

from dockyard.core.settings import Settings
from dockyard.scheduler.local.client import LocalScheduler
from tests.conftest import Account, Accounts, create_app_for
from tests.releases.helpers import (
    EVENT,
    POD_NAME,
    built,
    configured,
    eventually,
    logs,
    marked_pids,
    message,
    pods,
    run,
    run_output,
    scale,
    structure,
)

SHA = "0123456789abcdef0123456789abcdef01234567"


def command_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1] or [""]
    except OSError:
        return [""]


def by_type(listed: list[dict[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pod in listed:
        found.setdefault(pod["type"], []).append(pod["name"])
    return found


# --- scale ----------------------------------------------------------------------------------


async def test_scale_up_and_down(
    client: httpx.AsyncClient, user: Account, source: Path, marker: str
) -> None:
    await create_app_for(client, user, "proc-scale")
    await built(client, user, "proc-scale", source)
    (web1,) = [p["name"] for p in await pods(client, user, "proc-scale")]

    r = await scale(client, user, "proc-scale", web=3, worker=1)
    assert r.status_code == 204, r.text
    assert r.content == b""
    listed = await pods(client, user, "proc-scale")
    assert len(listed) == 4
    names = by_type(listed)
    assert sorted(names) == ["web", "worker"]
    assert len(names["web"]) == 3 and len(names["worker"]) == 1
    assert web1 in names["web"]  # scaling up keeps the running pod
    for pod in listed:
        assert re.match(POD_NAME.format(app="proc-scale", type=pod["type"]), pod["name"])
        assert (pod["state"], pod["release"]) == ("up", "v2")
    assert listed == sorted(listed, key=lambda p: (p["type"], p["name"]))
    assert await structure(client, user, "proc-scale") == {"web": 3, "worker": 1}
    # The pods of one type.
    webs = await pods(client, user, "proc-scale", "web")
    assert sorted(p["name"] for p in webs) == sorted(names["web"])
    assert [p["name"] for p in await pods(client, user, "proc-scale", "worker")] == names["worker"]
    assert await pods(client, user, "proc-scale", "clock") == []
    # Each pod is its own process: 3 web servers and a worker carry the marker.
    assert len({pid for pid in marked_pids(marker)}) >= 4

    # Scale down: no restart of what stays, no scaling of what was not named.
    assert (await scale(client, user, "proc-scale", web=1)).status_code == 204
    names_after = by_type(await pods(client, user, "proc-scale"))
    assert len(names_after["web"]) == 1 and names_after["web"][0] in names["web"]
    assert names_after["worker"] == names["worker"]
    assert (await scale(client, user, "proc-scale", worker="0")).status_code == 204
    assert by_type(await pods(client, user, "proc-scale")) == {"web": names_after["web"]}
    assert await structure(client, user, "proc-scale") == {"web": 1, "worker": 0}
    # Zero everything: nothing runs, and a config change then starts nothing.
    assert (await scale(client, user, "proc-scale", web=0)).status_code == 204
    assert await pods(client, user, "proc-scale") == []
    await configured(client, user, "proc-scale", values={"A": "1"})
    assert await pods(client, user, "proc-scale") == []
    text = await logs(client, user, "proc-scale")
    assert "proc-scale[dockyard]: alice scaled pods web=3 worker=1" in text
    assert "proc-scale[dockyard]: alice scaled pods web=0" in text


async def test_scale_errors(client: httpx.AsyncClient, user: Account, source: Path) -> None:
    await create_app_for(client, user, "proc-scale-err")
    r = await scale(client, user, "proc-scale-err", web=1)
    assert r.status_code == 400
    assert r.json() == {"detail": "No build associated with this release"}
    # A config-only release still has no build.
    await configured(client, user, "proc-scale-err", values={"A": "1"})
    r = await scale(client, user, "proc-scale-err", web=1)
    assert r.status_code == 400
    assert message(r) == "No build associated with this release"

    await built(client, user, "proc-scale-err", source, procfile={"web": "sleep 1000"})
    r = await scale(client, user, "proc-scale-err", worker=1)
    assert r.status_code == 404
    assert r.json() == {"detail": "Container type worker does not exist in application"}
    # One unknown type fails the whole request.
    r = await scale(client, user, "proc-scale-err", web=2, worker=1)
    assert r.status_code == 404
    for bad in ({"web": -1}, {"web": "abc"}, {"web": True}, {"web": 1.5}, {"web": None}, {}):
        r = await client.post("/v2/apps/proc-scale-err/scale", json=bad, headers=user.headers)
        assert r.status_code == 400, bad
        assert message(r).startswith("Invalid scaling format"), r.text
    assert await structure(client, user, "proc-scale-err") == {"web": 1}
    assert len(await pods(client, user, "proc-scale-err")) == 1


# --- restart --------------------------------------------------------------------------------


async def test_restart_all_by_type_and_by_name(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    await create_app_for(client, user, "proc-restart")
    await built(client, user, "proc-restart", source)
    assert (await scale(client, user, "proc-restart", web=2, worker=1)).status_code == 204
    before = by_type(await pods(client, user, "proc-restart"))

    # All: a bare list of the new pods, every one new.
    r = await client.post("/v2/apps/proc-restart/pods/restart", headers=user.headers)
    assert r.status_code == 200, r.text
    restarted = r.json()
    assert isinstance(restarted, list) and len(restarted) == 3
    assert sorted(p["type"] for p in restarted) == ["web", "web", "worker"]
    assert all(p["release"] == "v2" and p["state"] == "up" for p in restarted)
    now = by_type(await pods(client, user, "proc-restart"))
    assert sorted(p["name"] for p in restarted) == sorted(now["web"] + now["worker"])
    assert not set(now["web"] + now["worker"]) & set(before["web"] + before["worker"])

    # By type: only the workers change.
    r = await client.post("/v2/apps/proc-restart/pods/worker/restart/", headers=user.headers)
    assert r.status_code == 200
    (worker,) = r.json()
    assert worker["type"] == "worker"
    after = by_type(await pods(client, user, "proc-restart"))
    assert after["web"] == now["web"]
    assert after["worker"] == [worker["name"]] != now["worker"]

    # By pod name: only that pod.
    target = after["web"][0]
    r = await client.post(f"/v2/apps/proc-restart/pods/{target}/restart", headers=user.headers)
    assert r.status_code == 200
    (web,) = r.json()
    assert web["type"] == "web" and web["name"] != target
    final = by_type(await pods(client, user, "proc-restart"))
    assert sorted(final["web"]) == sorted([web["name"], after["web"][1]])
    assert final["worker"] == after["worker"]
    # The Go CLI's form: pods/<type>/<name>/restart.
    r = await client.post(
        f"/v2/apps/proc-restart/pods/worker/{worker['name']}/restart", headers=user.headers
    )
    assert r.status_code == 200
    assert [p["type"] for p in r.json()] == ["worker"]

    # A pod the app does not have.
    r = await client.post(
        "/v2/apps/proc-restart/pods/proc-restart-web-123456789-zzzzz/restart",
        headers=user.headers,
    )
    assert r.status_code == 404
    text = await logs(client, user, "proc-restart")
    assert "proc-restart[dockyard]: alice restarted all pods" in text
    assert "proc-restart[dockyard]: alice restarted worker pods" in text
    assert f"proc-restart[dockyard]: alice restarted {target}" in text
    assert len(await pods(client, user, "proc-restart")) == 3


async def test_restart_without_pods(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "proc-restart-none")
    r = await client.post("/v2/apps/proc-restart-none/pods/restart", headers=user.headers)
    assert r.status_code == 200
    assert r.json() == []


async def test_a_killed_process_comes_back(
    client: httpx.AsyncClient,
    user: Account,
    source: Path,
    marker: str,
    agent_root: Path,
    scheduler: LocalScheduler,
) -> None:
    """SIGKILL the app process of a pod: its supervisor restarts it in the same pod."""
    await create_app_for(client, user, "proc-kill")
    await built(client, user, "proc-kill", source)
    (pod,) = await pods(client, user, "proc-kill")
    state_file = agent_root / "pods" / "proc-kill" / pod["name"] / "state.json"
    assert json.loads(state_file.read_text())["restarts"] == 0
    (server,) = [pid for pid in marked_pids(marker) if command_of(pid)[0] == "python3"]
    assert command_of(server) == ["python3", "web.py", marker]
    os.kill(server, signal.SIGKILL)

    async def restarted() -> bool:
        (status,) = await scheduler.pods("proc-kill")
        return status.restarts >= 1 and str(status.state) == "up"

    await eventually(restarted, within=15)
    (again,) = await pods(client, user, "proc-kill")
    assert again["name"] == pod["name"]  # the same pod, its process restarted
    assert again["state"] == "up"
    (new_server,) = [pid for pid in marked_pids(marker) if command_of(pid)[0] == "python3"]
    assert new_server != server
    assert json.loads(state_file.read_text())["restarts"] >= 1
    text = await logs(client, user, "proc-kill")
    assert text.count("proc-kill[web.1]: web listening") == 2
    (status,) = await scheduler.pods("proc-kill")
    async with httpx.AsyncClient() as http:
        r = await http.get(f"http://127.0.0.1:{status.port}/")
    assert r.status_code == 200


# --- run ------------------------------------------------------------------------------------


async def test_run(
    client: httpx.AsyncClient, user: Account, source: Path, settings: Settings
) -> None:
    await create_app_for(client, user, "proc-run")
    body = await built(client, user, "proc-run", source, sha=SHA, procfile={"job": "true"})
    result = await run(client, user, "proc-run", "echo out; echo err >&2; exit 7")
    assert result == {"exit_code": 7, "output": "out\nerr\n"}

    env = dict(
        line.split("=", 1)
        for line in (await run_output(client, user, "proc-run", "env")).splitlines()
        if "=" in line
    )
    assert env["DEIS_APP"] == env["DRYCC_APP"] == "proc-run"
    assert env["WORKFLOW_RELEASE"] == "v2"
    assert env["WORKFLOW_RELEASE_SUMMARY"] == f"alice deployed {SHA[:7]}"
    assert env["SOURCE_VERSION"] == SHA
    assert env["HOME"] == str(settings.data_dir / "builds" / "proc-run" / body["uuid"])
    assert "PORT" not in env
    # Nothing of the controller's own environment leaks into the app.
    assert "DOCKYARD_TEST_DATABASE_URL" not in env and "PYTEST_CURRENT_TEST" not in env

    # Killed by a signal: 128 + N, as a shell says.
    assert (await run(client, user, "proc-run", "kill -9 $$"))["exit_code"] == 137
    assert await run_output(client, user, "proc-run", "true") == ""
    assert "proc-run[dockyard]: alice runs 'echo out; echo err >&2; exit 7'" in await logs(
        client, user, "proc-run"
    )

    for body_ in ({}, {"command": ""}, {"command": "   "}, {"command": None}):
        r = await client.post("/v2/apps/proc-run/run", json=body_, headers=user.headers)
        assert r.status_code == 400, body_
        assert r.json() == {"detail": "command is a required field"}


async def test_run_without_a_build(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "proc-run-none")
    r = await client.post(
        "/v2/apps/proc-run-none/run", json={"command": "true"}, headers=user.headers
    )
    assert r.status_code == 400
    assert r.json() == {"detail": "No build associated with this release to run this command"}


async def test_run_and_scale_permissions(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    other = await accounts.make("mallory")
    await create_app_for(client, user, "proc-perm")
    r = await client.post("/v2/apps/proc-perm/run", json={"command": "id"}, headers=other.headers)
    assert r.status_code == 403
    assert (await scale(client, other, "proc-perm", web=1)).status_code == 403
    r = await client.post("/v2/apps/proc-perm/pods/restart", headers=other.headers)
    assert r.status_code == 403
    r = await client.get("/v2/apps/proc-perm/pods", headers=other.headers)
    assert r.status_code == 403
    r = await client.get("/v2/apps/proc-perm/logs", headers=other.headers)
    assert r.status_code == 403
    r = await client.get("/v2/apps/no-such-app/logs", headers=user.headers)
    assert r.status_code == 404


# --- logs -----------------------------------------------------------------------------------


async def test_logs(client: httpx.AsyncClient, user: Account, scheduler: LocalScheduler) -> None:
    await create_app_for(client, user, "proc-logs")
    r = await client.get("/v2/apps/proc-logs/logs", headers=user.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    (line,) = r.text.splitlines()
    m = EVENT.match(line)
    assert m and m.group("app") == "proc-logs"
    assert m.group(2) == "alice created initial release (v1)"

    for n in range(2, 8):
        await configured(client, user, "proc-logs", values={f"K{n}": "x"})
    lines = (await logs(client, user, "proc-logs")).splitlines()
    assert len(lines) == 7
    assert [EVENT.match(x).group(2) for x in lines[1:]] == [  # type: ignore[union-attr]
        f"alice added K{n} (v{n})" for n in range(2, 8)
    ]
    # log_lines keeps the newest N lines, oldest first.
    for n in (1, 3, 7, 100):
        r = await client.get(f"/v2/apps/proc-logs/logs?log_lines={n}", headers=user.headers)
        assert r.status_code == 200
        assert r.text.splitlines() == lines[-n:]
    r = await client.get("/v2/apps/proc-logs/logs?log_lines=0", headers=user.headers)
    assert r.status_code == 400
    r = await client.get("/v2/apps/proc-logs/logs?log_lines=abc", headers=user.headers)
    assert r.status_code == 400

    # With no log at all (the scheduler lost it): 204, no body.
    await scheduler.destroy("proc-logs")
    r = await client.get("/v2/apps/proc-logs/logs", headers=user.headers)
    assert r.status_code == 204
    assert r.content == b""


async def test_logs_show_process_output(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    await create_app_for(client, user, "proc-out")
    await configured(client, user, "proc-out", values={"GREETING": "hey"})
    await built(client, user, "proc-out", source)
    await scale(client, user, "proc-out", worker=1)

    async def worker_lines() -> bool:
        text = await logs(client, user, "proc-out", 50)
        return text.count("proc-out[worker.1]: worker greeting=hey release=v3") >= 3

    await eventually(worker_lines, within=10)
    text = await logs(client, user, "proc-out", 1000)
    assert "proc-out[web.1]: web listening greeting=hey" in text
    assert len((await logs(client, user, "proc-out", 5)).splitlines()) == 5


# --- destroy --------------------------------------------------------------------------------


async def test_destroy_stops_everything_and_removes_builds(
    client: httpx.AsyncClient,
    user: Account,
    source: Path,
    marker: str,
    settings: Settings,
    agent_root: Path,
    scheduler: LocalScheduler,
) -> None:
    await create_app_for(client, user, "proc-destroy")
    await built(client, user, "proc-destroy", source)
    await scale(client, user, "proc-destroy", worker=2)
    assert len(await pods(client, user, "proc-destroy")) == 3
    assert len(marked_pids(marker)) >= 3
    assert (settings.data_dir / "builds" / "proc-destroy").is_dir()

    r = await client.delete("/v2/apps/proc-destroy", headers=user.headers)
    assert r.status_code == 204
    assert marked_pids(marker) == []
    assert not (settings.data_dir / "builds" / "proc-destroy").exists()
    assert not (agent_root / "pods" / "proc-destroy").exists()
    assert await scheduler.pods("proc-destroy") == []
    assert await scheduler.logs("proc-destroy") == ""
    r = await client.get("/v2/apps/proc-destroy/pods", headers=user.headers)
    assert r.status_code == 404

    # The same name again starts from nothing: its own v1 and a fresh log.
    await create_app_for(client, user, "proc-destroy")
    text = await logs(client, user, "proc-destroy")
    assert len(text.splitlines()) == 1
    assert "alice created initial release (v1)" in text
    assert await pods(client, user, "proc-destroy") == []


@pytest.mark.parametrize("path", ["pods", "pods/web"])
async def test_pods_of_an_app_without_build(
    client: httpx.AsyncClient, user: Account, path: str
) -> None:
    await create_app_for(client, user, "proc-empty")
    r = await client.get(f"/v2/apps/proc-empty/{path}", headers=user.headers)
    assert r.status_code == 200
    assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}
