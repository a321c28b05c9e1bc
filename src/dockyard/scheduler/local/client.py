"""``LocalScheduler``: the ``Scheduler`` the API workers use, a thin client of the node agent.

Each call opens the agent's unix socket, sends one JSON line ``{"op", "args"}`` and reads one
JSON line back, ``{"ok": true, "result"}`` or ``{"ok": false, "error": {"type", "message"}}``;
errors come back as the scheduler error classes of ``base``. A connection per call keeps the
client stateless, so any number of API worker processes can share one agent. The agent itself
is started once per host, either in-process (``Agent.start``, as the tests do) or as a child
process with :func:`spawn_agent`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from dockyard.scheduler import base
from dockyard.scheduler.base import (
    DeploySpec,
    PodStatus,
    RouteSpec,
    RunResult,
    RunSpec,
    SchedulerError,
    SchedulerUnavailable,
)
from dockyard.scheduler.local import wire
from dockyard.scheduler.local.protocol import MESSAGE_LIMIT, SOCKET_NAME, WATCH_ROUTES

# What a client is told while the agent is down. ``dockyard server`` starts a dead agent again
# within a second (``dockyard.daemons``); the socket path and errno would say nothing more.
NOT_RUNNING = (
    "The scheduler's node agent is not running; dockyard server is restarting it. "
    "Try again in a few seconds."
)
WENT_AWAY = (
    "The scheduler's node agent stopped while it handled this request; dockyard server is "
    "restarting it. Check the app's state in a few seconds and try again if needed."
)

_ERRORS: dict[str, type[SchedulerError]] = {
    cls.__name__: cls
    for cls in (
        base.DeployError,
        base.RunError,
        base.PodNotFound,
        base.SchedulerUnavailable,
        base.SchedulerError,
    )
}


class LocalScheduler:
    """Implements ``dockyard.scheduler.base.Scheduler`` against ``<root>/agent.sock``."""

    def __init__(self, root: Path, *, connect_timeout: float = 5.0) -> None:
        self.socket_path = Path(root) / SOCKET_NAME
        self.connect_timeout = connect_timeout

    async def _call(self, op: str, **args: Any) -> Any:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket_path), limit=MESSAGE_LIMIT),
                self.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnavailable(NOT_RUNNING) from exc
        try:
            writer.write(json.dumps({"op": op, "args": args}).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        except OSError as exc:
            raise SchedulerUnavailable(WENT_AWAY) from exc
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if not line:
            raise SchedulerUnavailable(WENT_AWAY)
        response = json.loads(line)
        if not response["ok"]:
            error = response["error"]
            raise _ERRORS.get(error["type"], SchedulerError)(error["message"])
        return response["result"]

    async def ping(self) -> bool:
        return bool(await self._call("ping") == "pong")

    async def deploy(self, spec: DeploySpec) -> None:
        await self._call("deploy", spec=wire.deploy_to_dict(spec))

    async def scale(self, spec: DeploySpec) -> None:
        await self._call("scale", spec=wire.deploy_to_dict(spec))

    async def restart(
        self, app: str, *, type: str | None = None, name: str | None = None
    ) -> list[PodStatus]:
        result = await self._call("restart", app=app, type=type, name=name)
        return [wire.status_from_dict(p) for p in result]

    async def pods(self, app: str, *, type: str | None = None) -> list[PodStatus]:
        return [wire.status_from_dict(p) for p in await self._call("pods", app=app, type=type)]

    async def run(self, spec: RunSpec) -> RunResult:
        return wire.result_from_dict(await self._call("run", spec=wire.run_to_dict(spec)))

    async def logs(self, app: str, *, lines: int = 100) -> str:
        return str(await self._call("logs", app=app, lines=lines))

    async def log_event(self, app: str, source: str, message: str) -> None:
        await self._call("log_event", app=app, source=source, message=message)

    async def destroy(self, app: str) -> None:
        await self._call("destroy", app=app)

    async def route(self, spec: RouteSpec) -> None:
        await self._call("route", spec=wire.route_to_dict(spec))

    async def watch_routes(self) -> AsyncIterator[dict[str, Any]]:
        """The route table now, then again at every change (the edge router's feed). Ends
        with ``SchedulerUnavailable`` when the agent goes away."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket_path), limit=MESSAGE_LIMIT),
                self.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnavailable(NOT_RUNNING) from exc
        try:
            writer.write(json.dumps({"op": WATCH_ROUTES, "args": {}}).encode() + b"\n")
            await writer.drain()
            while line := await reader.readline():
                yield json.loads(line)["result"]
        except OSError as exc:
            raise SchedulerUnavailable(WENT_AWAY) from exc
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        raise SchedulerUnavailable(WENT_AWAY)

    async def aclose(self) -> None:
        return None


def agent_answers(root: Path) -> bool:
    """Whether an agent serves on ``root`` now: a blocking check, for the server's supervisor
    (which runs no event loop) and for tools."""

    async def ping() -> bool:
        client = LocalScheduler(root)
        try:
            return await client.ping()
        except SchedulerUnavailable:
            return False
        finally:
            await client.aclose()

    return asyncio.run(ping())


async def spawn_agent(
    root: Path,
    *,
    deploy_timeout: float = 120.0,
    run_timeout: float = 1200.0,
    app_user: str | None = "nobody",
    ready_timeout: float = 10.0,
) -> asyncio.subprocess.Process:
    """Start the agent as a child process and wait until it answers. Stop it with SIGTERM
    (app processes keep running)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dockyard.scheduler.local.agent",
        "--root",
        str(root),
        "--deploy-timeout",
        str(deploy_timeout),
        "--run-timeout",
        str(run_timeout),
        "--app-user",
        app_user or "",
        stdin=asyncio.subprocess.DEVNULL,
    )
    client = LocalScheduler(root)
    deadline = time.monotonic() + ready_timeout
    while True:
        with contextlib.suppress(SchedulerUnavailable):
            if await client.ping():
                return proc
        if proc.returncode is not None or time.monotonic() > deadline:
            if proc.returncode is None:
                proc.terminate()
            await proc.wait()
            raise SchedulerUnavailable(f"The scheduler agent did not start on {root}")
        await asyncio.sleep(0.1)
