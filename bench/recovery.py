"""Recovery benchmark: how fast the platform comes back when one of its processes is killed,
on a real ``dockyard server`` (SQLite, local scheduler) with one deployed web app of 2 pods.

- ``kill -9`` of the node agent, until ``GET /v2/apps/<id>/pods`` (which needs the agent)
  answers 200 again; N times, median and max (target: within 1 s);
- ``kill -9`` of the edge router, until a request through the router (``Host: <app>.<platform
  domain>``) answers 200 again; N times (target: within 1 s);
- ``kill -9`` of the ``dockyard server`` process and a new server started at once, while two
  threads keep requesting the app through the router: the requests that failed in that window
  (target 0) and the requests served; N times. The time the new server takes to be healthy
  is printed too.

Baselines in the same run: the cold start of a fresh ``dockyard server`` (spawn until
``/healthz`` answers), of ``python -m dockyard.router`` (spawn until it accepts connections)
and of ``python -m dockyard.scheduler.local.agent`` (spawn until it answers a ping).

    python bench/recovery.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
from common import DockyardServer, free_port, web_app_source

from dockyard.scheduler.local.client import agent_answers

APP = "steady"
SETTLE = 6.0  # > the server's QUICK_DEATH (5 s): each kill follows a good run, no back-off
TARGET = 1.0


def until(check: Callable[[], bool], timeout: float = 60.0, step: float = 0.01) -> float:
    """Seconds until ``check()`` is true."""
    t0 = time.perf_counter()
    while not check():
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"not true within {timeout} s")
        time.sleep(step)
    return time.perf_counter() - t0


def answers(get: Callable[[], httpx.Response], seen: Counter[str]) -> Callable[[], bool]:
    """A check that is true once ``get()`` answers 200; other answers counted in ``seen``."""

    def check() -> bool:
        try:
            status = get().status_code
        except httpx.HTTPError as exc:
            seen[type(exc).__name__] += 1
            return False
        if status != 200:
            seen[str(status)] += 1
        return status == 200

    return check


class RouterLoad(threading.Thread):
    """Requests the app through the router on a new connection each time until stopped."""

    def __init__(self, get: Callable[[], httpx.Response]) -> None:
        super().__init__(daemon=True)
        self.get = get
        self.served = 0
        self.failed: Counter[str] = Counter()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                status = self.get().status_code
            except httpx.HTTPError as exc:
                self.failed[type(exc).__name__] += 1
                continue
            if status == 200:
                self.served += 1
            else:
                self.failed[str(status)] += 1


def cold_router(tmp: Path) -> float:
    """``python -m dockyard.router`` on a new agent root: spawn until it accepts."""
    root = Path(tempfile.mkdtemp(dir=tmp))
    port = free_port()
    cmd = [sys.executable, "-m", "dockyard.router", "--agent-root", str(root)]
    cmd += ["--http-port", str(port), "--https-port", str(free_port()), "--log-level", "warning"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    try:
        until(listening, step=0.005)
        return time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def cold_agent(tmp: Path) -> float:
    """``python -m dockyard.scheduler.local.agent`` on a new root: spawn until it pongs."""
    root = Path(tempfile.mkdtemp(dir=tmp))
    cmd = [sys.executable, "-m", "dockyard.scheduler.local.agent", "--root", str(root)]
    t0 = time.perf_counter()
    proc = subprocess.Popen([*cmd, "--app-user", ""], stderr=subprocess.DEVNULL)

    try:
        until(lambda: agent_answers(root), step=0.005)
        return time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def pid_of(server: DockyardServer, role: str) -> int:
    pids = [pid for name, pid in server.processes() if name == role]
    if len(pids) != 1:
        raise RuntimeError(f"expected one {role}, found {pids}")
    return pids[0]


def line(label: str, samples: list[float], target: float | None = None) -> None:
    text = f"{label:<58} median {statistics.median(samples):6.2f} s   max {max(samples):6.2f} s"
    if target is not None:
        verdict = "met" if max(samples) <= target else "MISSED"
        text += f"   target {target:g} s: {verdict}"
    print(text)


def seen_text(seen: Counter[str]) -> str:
    return ", ".join(f"{k} x{v}" for k, v in sorted(seen.items())) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp, src = web_app_source("dockyard-bench-recovery-")

    t0 = time.perf_counter()
    server = DockyardServer(env={"DOCKYARD_LOCAL_SOURCE_ROOTS": str(src)})
    try:
        server.wait()
        server_cold = time.perf_counter() - t0
        router_cold = [cold_router(tmp) for _ in range(args.runs)]
        agent_cold = [cold_agent(tmp) for _ in range(args.runs)]
        routed = f"http://127.0.0.1:{server.router_http}/"
        host = {"Host": f"{APP}.dockyard.localhost"}

        def through_router() -> httpx.Response:
            return httpx.get(routed, headers=host, timeout=2)

        with server.login() as c:
            c.post("/v2/apps", json={"id": APP}).raise_for_status()
            c.post(f"/v2/apps/{APP}/builds", json={"image": str(src)}).raise_for_status()
            c.post(f"/v2/apps/{APP}/scale", json={"web": 2}).raise_for_status()
            until(answers(through_router, Counter()))

            def pods() -> httpx.Response:
                return c.get(f"/v2/apps/{APP}/pods", timeout=2)

            agent, agent_seen = [], Counter[str]()
            for _ in range(args.runs):
                time.sleep(SETTLE)
                os.kill(pid_of(server, "agent"), signal.SIGKILL)
                agent.append(until(answers(pods, agent_seen)))

            router, router_seen = [], Counter[str]()
            for _ in range(args.runs):
                time.sleep(SETTLE)
                os.kill(pid_of(server, "router"), signal.SIGKILL)
                router.append(until(answers(through_router, router_seen)))

            served, failed, back = 0, Counter[str](), []
            for _ in range(args.runs):
                loads = [RouterLoad(through_router) for _ in range(2)]
                for load in loads:
                    load.start()
                time.sleep(1)
                server.crash()
                t0 = time.perf_counter()
                server.start()
                server.wait()
                back.append(time.perf_counter() - t0)
                time.sleep(2)  # the new server adopts the router and feeds it again
                for load in loads:
                    load.done.set()
                    load.join()
                    served += load.served
                    failed += load.failed
            c.get(f"/v2/apps/{APP}/pods").raise_for_status()  # the restarted server works

        print(f"dockyard recovery benchmark: {os.cpu_count()} CPUs, {args.runs} runs each")
        print(f"{'baseline: fresh dockyard server, spawn -> healthy':<58} {server_cold:13.2f} s")
        line("baseline: python -m dockyard.router, spawn -> listening", router_cold)
        line("baseline: node agent alone, spawn -> answers a ping", agent_cold)
        line("kill -9 node agent -> GET pods 200", agent, TARGET)
        print(f"  answers meanwhile: {seen_text(agent_seen)}")
        line("kill -9 edge router -> request through the router 200", router, TARGET)
        print(f"  answers meanwhile: {seen_text(router_seen)}")
        line("kill -9 server -> new server spawned, healthy", back)
        verdict = "met" if not failed else "MISSED"
        print(
            f"kill -9 server and restart (1 s before to 2 s after healthy, {args.runs} times): "
            f"{served} requests served through the router, {sum(failed.values())} failed "
            f"({seen_text(failed)})   target 0: {verdict}"
        )
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
