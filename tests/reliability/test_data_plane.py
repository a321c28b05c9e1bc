"""The data plane outlives the control plane: the edge router keeps serving when the server
dies and the next server adopts it; the server restarts a node agent or router that dies (and
backs off from one that keeps dying); API calls that need the agent answer 503 while it is
away; ``dockyard server --stop-all`` stops everything, apps included."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import subprocess
import sys

from dockyard.scheduler.base import DeploySpec
from dockyard.scheduler.local import wire
from dockyard.scheduler.local.client import NOT_RUNNING, LocalScheduler
from dockyard.scheduler.local.pods import read_json
from tests.releases.helpers import marked_pids
from tests.reliability.helpers import AGENT, ROUTER, SSH, Load, Platform, wait_for


def deployed(platform: Platform, web: int = 2) -> Platform:
    platform.start()
    platform.sign_up()
    platform.deploy_app(web=web)
    wait_for(platform.routed)
    return platform


def kill(pid: int | None) -> None:
    assert pid is not None
    os.kill(pid, signal.SIGKILL)


def stop_all(platform: Platform) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", "server", "--stop-all"],
        env=platform.server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_router_outlives_a_killed_server_and_the_next_server_adopts_it(
    platform: Platform,
) -> None:
    deployed(platform)
    router = platform.helper(ROUTER)
    load = Load(platform)
    load.start()
    try:
        wait_for(lambda: load.served > 20)
        platform.server.crash()
        # The agent and the git endpoint die with the server; the router serves on.
        wait_for(lambda: platform.helper(AGENT) is None and platform.helper(SSH) is None)
        assert platform.helper(ROUTER) == router
        served = load.served
        wait_for(lambda: load.served > served + 50)
        platform.start()
        assert platform.helper(ROUTER) == router  # adopted: no second router, no conflict
        served = load.served
        wait_for(lambda: load.served > served + 20)
        # The adopted router follows the new agent: a scale reaches it.
        assert platform.api.post(f"/v2/apps/{platform.APP}/scale", json={"web": 3}).is_success
        wait_for(lambda: len({p for p in load.pods if "web" in p}) >= 3)
    finally:
        load.stop()
    assert load.failures == []
    assert f"adopted the running edge router (pid {router})" in platform.server.log.read_text()


def test_a_router_with_other_settings_is_replaced_not_adopted(platform: Platform) -> None:
    deployed(platform, web=1)
    router = platform.helper(ROUTER)
    platform.server.crash()
    platform.server.env["DOCKYARD_PLATFORM_DOMAIN"] = "other.test"
    platform.start()
    replacement = platform.helper(ROUTER)
    assert replacement is not None and replacement != router
    assert "its settings differ" in platform.server.log.read_text()
    r = platform.get()  # the old name is no longer the router's
    assert r.status_code == 404


def test_the_server_restarts_a_killed_router(platform: Platform) -> None:
    deployed(platform, web=1)
    router = platform.helper(ROUTER)
    kill(router)
    wait_for(lambda: platform.helper(ROUTER) not in (None, router))
    wait_for(platform.routed)
    log = platform.server.log.read_text()
    assert f"the edge router (pid {router}) was killed by SIGKILL; starting it again" in log


def test_while_the_agent_is_down_calls_answer_503_and_work_again_once_it_is_back(
    platform: Platform,
) -> None:
    deployed(platform)
    root = platform.server.base / "data" / "local"
    agent = platform.helper(AGENT)
    names = sorted(str(p["name"]) for p in platform.pods())
    app_pids = sorted(marked_pids(platform.marker))
    kill(agent)
    # Hold the agent's lock, as a second agent would: each restart fails at once, so the
    # server backs off, and calls meanwhile find no agent.
    fd = os.open(root / "agent.lock", os.O_RDWR)
    try:
        wait_for(lambda: _locked(fd), within=5)
        r = platform.api.get(f"/v2/apps/{platform.APP}/pods")
        assert r.status_code == 503, r.text
        assert r.json() == {"detail": NOT_RUNNING}
        r = platform.api.post(f"/v2/apps/{platform.APP}/scale", json={"web": 3})
        assert r.status_code == 503, r.text
        assert platform.routed()  # the router still serves the pods it knows
        wait_for(lambda: "keeps dying at start" in platform.server.log.read_text())
    finally:
        os.close(fd)
    wait_for(lambda: platform.api.get(f"/v2/apps/{platform.APP}/pods").status_code == 200)
    assert sorted(str(p["name"]) for p in platform.pods()) == names
    assert sorted(marked_pids(platform.marker)) == app_pids  # re-adopted, not restarted
    assert platform.api.post(f"/v2/apps/{platform.APP}/scale", json={"web": 3}).is_success
    log = platform.server.log.read_text()
    assert f"the node agent (pid {agent}) was killed by SIGKILL; starting it again" in log


def _locked(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def test_stop_all_stops_the_server_the_router_and_the_apps(platform: Platform) -> None:
    deployed(platform)
    assert marked_pids(platform.marker)
    done = stop_all(platform)
    assert done.returncode == 0, done.stderr
    assert "stopped 2 pods" in done.stderr
    assert platform.server.proc is not None and platform.server.proc.wait(timeout=30) == 0
    wait_for(lambda: not platform.server.ours() and not marked_pids(platform.marker))
    # The next start brings every app back at its recorded release and scale.
    platform.start()
    wait_for(platform.routed)
    pods = platform.pods()
    assert len(pods) == 2 and {p["state"] for p in pods} == {"up"}


def test_stop_all_after_a_crash_stops_the_surviving_router_and_apps(platform: Platform) -> None:
    deployed(platform, web=1)
    platform.server.crash()
    wait_for(lambda: platform.helper(AGENT) is None)
    assert platform.helper(ROUTER) is not None and platform.routed()
    done = stop_all(platform)
    assert done.returncode == 0, done.stderr
    assert "stopping a stale edge router" in done.stderr
    wait_for(lambda: not platform.server.ours() and not marked_pids(platform.marker))


def test_after_the_agent_restarts_the_apps_are_brought_to_the_database_s_state(
    platform: Platform,
) -> None:
    """The agent finished a scale that the database never heard of (the agent died before
    it answered): once it is back, the server applies the database's structure again."""
    deployed(platform)
    root = platform.server.base / "data" / "local"
    record = wire.deploy_from_dict(read_json(root / "apps" / f"{platform.APP}.json"))
    drifted = DeploySpec(release=record.release, structure={"web": 3})

    async def scale_behind_the_database_s_back() -> None:
        await LocalScheduler(root).scale(drifted)

    asyncio.run(scale_behind_the_database_s_back())
    assert len(platform.pods()) == 3
    agent = platform.helper(AGENT)
    kill(agent)
    wait_for(lambda: platform.helper(AGENT) not in (None, agent))

    def pods_up() -> int:
        r = platform.api.get(f"/v2/apps/{platform.APP}/pods")
        return len(r.json()["results"]) if r.status_code == 200 else -1

    wait_for(lambda: pods_up() == 2, within=30)
    assert {p["state"] for p in platform.pods()} == {"up"}
    wait_for(lambda: "pods were web=3" in platform.server.log.read_text())
