"""What the reliability tests share: a real ``dockyard server`` with a signed-in client and
one deployed web app, and a load that keeps requesting that app through the edge router and
counts every failure."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.router.app import write_router_app
from tests.servers import AGENT, ROUTER, SSH, ServerProcess, wait_for


class Platform:
    """A server on ``base`` with user ``root`` signed in and the app ``APP`` deployed."""

    APP = "steady"

    def __init__(self, base: Path) -> None:
        self.server = ServerProcess(base)
        self.marker = f"dyrel-{os.getpid()}-{time.monotonic_ns()}"
        self.source = write_router_app(base / "app", self.marker)
        self.api = httpx.Client(base_url=self.server.url, timeout=120)

    def start(self) -> None:
        self.server.start()

    def sign_up(self) -> None:
        user = {"username": "root", "password": "pw-root", "email": "r@example.test"}
        self.api.post("/v2/auth/register", json=user).raise_for_status()
        token = self.api.post("/v2/auth/login", json=user).json()["token"]
        self.api.headers["Authorization"] = f"token {token}"

    def deploy_app(self, web: int = 2) -> None:
        self.api.post("/v2/apps", json={"id": self.APP}).raise_for_status()
        r = self.api.post(f"/v2/apps/{self.APP}/builds", json={"image": str(self.source)})
        r.raise_for_status()
        assert self.api.post(f"/v2/apps/{self.APP}/scale", json={"web": web}).status_code == 204

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.server.router}{path}"

    @property
    def host(self) -> str:
        return f"{self.APP}.example.test"

    def get(self, path: str = "/") -> httpx.Response:
        return httpx.get(self.url(path), headers={"Host": self.host}, timeout=10)

    def routed(self) -> bool:
        try:
            return self.get().status_code == 200
        except httpx.HTTPError:
            return False

    def pods(self) -> list[dict[str, object]]:
        r = self.api.get(f"/v2/apps/{self.APP}/pods")
        r.raise_for_status()
        return list(r.json()["results"])

    def helper(self, name: bytes) -> int | None:
        pids = [pid for pid, cmd in self.server.ours().items() if name in cmd]
        assert len(pids) <= 1, f"two of {name!r}: {pids}"
        return pids[0] if pids else None

    def close(self) -> None:
        self.api.close()
        self.server.kill_everything()


class Load(threading.Thread):
    """Requests the app through the router, one after another on new connections, until
    stopped; counts answers by status, the failures, and the pods that answered."""

    def __init__(self, platform: Platform) -> None:
        super().__init__(daemon=True)
        self.platform = platform
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.pods: Counter[str] = Counter()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                r = self.platform.get()
            except httpx.HTTPError as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            self.statuses[r.status_code] += 1
            if r.status_code == 200:
                self.pods[r.json()["pod"]] += 1
            else:
                self.failures.append(f"{r.status_code}: {r.text[:200]}")

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=30)

    @property
    def served(self) -> int:
        return self.statuses[200]


__all__ = ["AGENT", "ROUTER", "SSH", "Load", "Platform", "wait_for"]
