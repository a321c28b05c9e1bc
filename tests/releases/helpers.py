"""Helpers of the release-engine tests: a small sample app written into a source directory,
and thin wrappers over the HTTP calls the tests repeat.

The sample app: ``web.py`` serves HTTP on 127.0.0.1:$PORT and answers every GET with its
environment and the contents of ``version.txt`` as JSON; ``worker.py`` prints
``worker greeting=<GREETING> release=<WORKFLOW_RELEASE>`` every 0.2 s. Both exit at once
with status $CRASH when that is set. Every Procfile command carries the test's marker as an
argument, so the test can find (and count) its processes.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Account
from tests.servers import processes_naming

WEB = r"""
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

if os.environ.get("CRASH"):
    print("web crashing on purpose", flush=True)
    sys.exit(int(os.environ["CRASH"]))

HERE = os.path.dirname(os.path.abspath(__file__))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with open(os.path.join(HERE, "version.txt")) as f:
            version = f.read().strip()
        code = 500 if self.path == "/fail" else 200
        body = json.dumps({"env": dict(os.environ), "version": version, "argv": sys.argv})
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


server = HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
print("web listening greeting=%s" % os.environ.get("GREETING", ""), flush=True)
server.serve_forever()
"""

WORKER = r"""
import os, sys, time
if os.environ.get("CRASH"):
    print("worker crashing on purpose", flush=True)
    sys.exit(int(os.environ["CRASH"]))
while True:
    greeting = os.environ.get("GREETING", "")
    release = os.environ.get("WORKFLOW_RELEASE")
    print(f"worker greeting={greeting} release={release}", flush=True)
    time.sleep(0.2)
"""

POD_NAME = r"^{app}-{type}-\d+-[a-z0-9]{{5}}$"
EVENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z (?P<app>[a-z0-9-]+)\[dockyard\]: (.*)$")


def procfile_text(marker: str) -> str:
    return f"web: python3 web.py {marker}\nworker: python3 worker.py {marker}\n"


def write_app(path: Path, marker: str, *, procfile: str | None = "", version: str = "one") -> Path:
    """The sample app in ``path``; ``procfile`` None writes none, "" the default one."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "web.py").write_text(WEB)
    (path / "worker.py").write_text(WORKER)
    (path / "version.txt").write_text(version + "\n")
    if procfile is not None:
        (path / "Procfile").write_text(procfile or procfile_text(marker))
    return path


def message(r: httpx.Response) -> str:
    """The error message of a response: ``{"detail": m}`` or ``{"<field>": [m]}``."""
    body = r.json()
    assert isinstance(body, dict) and len(body) == 1, body
    (value,) = body.values()
    if isinstance(value, list):
        assert len(value) == 1, body
        value = value[0]
    assert isinstance(value, str), body
    return value


async def build(
    client: httpx.AsyncClient, user: Account, app: str, image: str | Path, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/v2/apps/{app}/builds", json={"image": str(image), **extra}, headers=user.headers
    )


async def built(
    client: httpx.AsyncClient, user: Account, app: str, image: str | Path, **extra: Any
) -> dict[str, Any]:
    r = await build(client, user, app, image, **extra)
    assert r.status_code == 201, r.text
    return r.json()


async def set_config(
    client: httpx.AsyncClient, user: Account, app: str, **fields: Any
) -> httpx.Response:
    return await client.post(f"/v2/apps/{app}/config", json=fields, headers=user.headers)


async def configured(
    client: httpx.AsyncClient, user: Account, app: str, **fields: Any
) -> httpx.Response:
    r = await set_config(client, user, app, **fields)
    assert r.status_code == 201, r.text
    return r


async def releases(client: httpx.AsyncClient, user: Account, app: str) -> list[dict[str, Any]]:
    r = await client.get(f"/v2/apps/{app}/releases?limit=1000", headers=user.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


async def release(client: httpx.AsyncClient, user: Account, app: str, version: int) -> dict:
    r = await client.get(f"/v2/apps/{app}/releases/v{version}", headers=user.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def pods(
    client: httpx.AsyncClient, user: Account, app: str, ptype: str | None = None
) -> list[dict[str, str]]:
    path = f"/v2/apps/{app}/pods" + (f"/{ptype}" if ptype else "")
    r = await client.get(path, headers=user.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["results"])
    return list(body["results"])


async def run(client: httpx.AsyncClient, user: Account, app: str, command: str) -> dict[str, Any]:
    r = await client.post(f"/v2/apps/{app}/run", json={"command": command}, headers=user.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def run_output(client: httpx.AsyncClient, user: Account, app: str, command: str) -> str:
    result = await run(client, user, app, command)
    assert result["exit_code"] == 0, result
    return str(result["output"])


async def scale(
    client: httpx.AsyncClient, user: Account, app: str, **structure: Any
) -> httpx.Response:
    return await client.post(f"/v2/apps/{app}/scale", json=structure, headers=user.headers)


async def logs(client: httpx.AsyncClient, user: Account, app: str, lines: int = 1000) -> str:
    r = await client.get(f"/v2/apps/{app}/logs?log_lines={lines}", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.text


async def structure(client: httpx.AsyncClient, user: Account, app: str) -> dict[str, int]:
    r = await client.get(f"/v2/apps/{app}", headers=user.headers)
    assert r.status_code == 200, r.text
    return dict(r.json()["structure"])


async def web_env(scheduler: Any, app: str) -> list[dict[str, Any]]:
    """GET every web pod of ``app`` over 127.0.0.1 on the port the scheduler gave it."""
    answers = []
    async with httpx.AsyncClient(timeout=5.0) as http:
        for pod in await scheduler.pods(app, type="web"):
            assert pod.port, pod
            r = await http.get(f"http://127.0.0.1:{pod.port}/")
            assert r.status_code == 200
            answers.append({"pod": pod.name, "port": pod.port, **r.json()})
    return answers


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


def marked_pids(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line carries ``marker``."""
    return list(processes_naming(marker))
