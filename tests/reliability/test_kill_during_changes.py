"""``kill -9`` in the middle of a deploy, a scale and a config change, of the server, the node
agent and the edge router in turn. Whatever the change's own answer, afterwards:

- the app runs its latest good release (the newest one not marked failed), with the
  recorded number of pods, every one of them up;
- every pod has its app processes, and no app process is left without a pod;
- release numbers are 1..N, none lost or repeated;
- the router kept serving the old pods while the change was under way: no request failed
  (when the router itself is killed, only the connections it held may fail, never with an
  HTTP error), and it serves again.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.releases.helpers import marked_pids
from tests.reliability.helpers import AGENT, ROUTER, Load, Platform, wait_for

CHANGES: dict[str, Callable[[Platform], httpx.Response]] = {
    "deploy": lambda p: p.api.post(f"/v2/apps/{p.APP}/builds", json={"image": str(p.source)}),
    "scale": lambda p: p.api.post(f"/v2/apps/{p.APP}/scale", json={"web": 4}),
    "config": lambda p: p.api.post(f"/v2/apps/{p.APP}/config", json={"values": {"FOO": "bar"}}),
}


def pod_dirs(platform: Platform) -> set[str]:
    root = platform.server.base / "data" / "local" / "pods" / platform.APP
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def pod_of(pid: int) -> str | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for item in environ:
        if item.startswith(b"DOCKYARD_POD="):
            return item.split(b"=", 1)[1].decode()
    return None


def divergence(platform: Platform) -> str | None:
    """How the app differs from its converged state, or None."""
    releases = platform.api.get(f"/v2/apps/{platform.APP}/releases", params={"limit": 100})
    pods = platform.api.get(f"/v2/apps/{platform.APP}/pods")
    app = platform.api.get(f"/v2/apps/{platform.APP}")
    if not (releases.is_success and pods.is_success and app.is_success):
        return f"API: {releases.status_code} {pods.status_code} {app.status_code}"
    good = max(r["version"] for r in releases.json()["results"] if not r["failed"])
    running = pods.json()["results"]
    structure = app.json()["structure"]
    states = sorted((p["name"], p["release"], p["state"]) for p in running)
    if any(release != f"v{good}" or state != "up" for _, release, state in states):
        return f"latest good release v{good}; pods {states}"
    if len(running) != structure.get("web", 0):
        return f"structure {structure}; pods {states}"
    # Every pod has its processes, and no app process is left without a pod.
    owners = sorted({pod_of(pid) or "?" for pid in marked_pids(platform.marker)})
    if owners != sorted(p["name"] for p in running):
        return f"app processes of pods {owners}; pods {states}"
    return None


def converge(platform: Platform, within: float = 60) -> None:
    last: list[str | None] = [None]

    def done() -> bool:
        last[0] = divergence(platform)
        return last[0] is None

    try:
        wait_for(done, within=within)
    except AssertionError:
        raise AssertionError(f"not converged within {within} s: {last[0]}") from None


@pytest.mark.parametrize("victim", ["server", "agent", "router"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_kill_during_a_change_converges_to_the_latest_good_release(
    platform: Platform, change: str, victim: str
) -> None:
    platform.start()
    platform.sign_up()
    platform.deploy_app(web=2)
    wait_for(platform.routed)
    converge(platform)
    before = pod_dirs(platform)
    answers: list[object] = []

    def run_change() -> None:
        try:
            answers.append(CHANGES[change](platform).status_code)
        except httpx.HTTPError as exc:
            answers.append(exc)

    load = Load(platform)
    load.start()
    worker = threading.Thread(target=run_change)
    try:
        wait_for(lambda: load.served > 10)
        worker.start()
        # Mid-change: new pods exist (the old ones still serve).
        wait_for(lambda: bool(pod_dirs(platform) - before) or bool(answers), within=30)
        if victim == "server":
            platform.server.crash()
        else:
            pid = platform.helper(AGENT if victim == "agent" else ROUTER)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
        worker.join(timeout=120)
        if victim == "server":
            platform.server.start()
        converge(platform)
        wait_for(platform.routed)
        served = load.served
        wait_for(lambda: load.served > served + 10)
    finally:
        load.stop()
    # The change answered, failed for want of the agent, or lost its server.
    assert len(answers) == 1
    assert not isinstance(answers[0], int) or answers[0] in (200, 201, 204, 503), answers
    versions = sorted(
        r["version"]
        for r in platform.api.get(
            f"/v2/apps/{platform.APP}/releases", params={"limit": 100}
        ).json()["results"]
    )
    assert versions == list(range(1, len(versions) + 1))
    if victim == "router":
        assert all(not f[:1].isdigit() for f in load.failures), load.failures
    else:
        assert load.failures == [], load.failures
    assert "Traceback" not in platform.server.log.read_text()
