"""The agent's socket protocol: one JSON line in, one JSON line out, one request per
connection on ``<root>/agent.sock`` (mode 0600).

A request is ``{"op": <name>, "args": {...}}``; the answer is ``{"ok": true, "result": ...}``
or ``{"ok": false, "error": {"type": <SchedulerError subclass name>, "message": ...}}``. The
operations are the ``Scheduler`` methods plus ``ping``; dataclasses travel in the forms of
``wire``. Both sides import their half from here so the two cannot drift apart.

One operation streams: ``watch_routes`` (the edge router's subscription) answers with one
``{"ok": true, "result": <route table>}`` line now and another whenever the table changes,
until the client closes the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from dockyard.core.errors import DockyardError
from dockyard.scheduler.base import SchedulerError
from dockyard.scheduler.local import wire

if TYPE_CHECKING:
    from dockyard.scheduler.local.agent import Agent

SOCKET_NAME = "agent.sock"
MESSAGE_LIMIT = 64 * 1024 * 1024
log = logging.getLogger("dockyard.scheduler")
Operation = Callable[["Agent", dict[str, Any]], Awaitable[Any]]


async def _ping(agent: Agent, a: dict[str, Any]) -> str:
    return "pong"


async def _deploy(agent: Agent, a: dict[str, Any]) -> None:
    await agent.deploy(wire.deploy_from_dict(a["spec"]))


async def _scale(agent: Agent, a: dict[str, Any]) -> None:
    await agent.scale(wire.deploy_from_dict(a["spec"]))


async def _restart(agent: Agent, a: dict[str, Any]) -> list[dict[str, Any]]:
    pods = await agent.restart(a["app"], type=a.get("type"), name=a.get("name"))
    return [wire.status_to_dict(p) for p in pods]


async def _pods(agent: Agent, a: dict[str, Any]) -> list[dict[str, Any]]:
    return [wire.status_to_dict(p) for p in await agent.pods(a["app"], type=a.get("type"))]


async def _run(agent: Agent, a: dict[str, Any]) -> dict[str, Any]:
    return wire.result_to_dict(await agent.run(wire.run_from_dict(a["spec"])))


async def _logs(agent: Agent, a: dict[str, Any]) -> str:
    return await agent.logs(a["app"], lines=int(a["lines"]))


async def _log_event(agent: Agent, a: dict[str, Any]) -> None:
    await agent.log_event(a["app"], a["source"], a["message"])


async def _destroy(agent: Agent, a: dict[str, Any]) -> None:
    await agent.destroy(a["app"])


async def _route(agent: Agent, a: dict[str, Any]) -> None:
    await agent.route(wire.route_from_dict(a["spec"]))


OPERATIONS: dict[str, Operation] = {
    "ping": _ping,
    "deploy": _deploy,
    "scale": _scale,
    "restart": _restart,
    "pods": _pods,
    "run": _run,
    "logs": _logs,
    "log_event": _log_event,
    "destroy": _destroy,
    "route": _route,
}
WATCH_ROUTES = "watch_routes"


async def _watch(agent: Agent, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Stream the route table until the watcher hangs up."""

    async def send(table: object) -> None:
        writer.write(json.dumps({"ok": True, "result": table}).encode() + b"\n")
        await writer.drain()

    watch = asyncio.ensure_future(agent.feed.watch(send))
    hangup = asyncio.ensure_future(reader.read())  # EOF when the watcher closes
    try:
        await asyncio.wait((watch, hangup), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watch, hangup):
            task.cancel()
        await asyncio.gather(watch, hangup, return_exceptions=True)


async def handle(agent: Agent, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve one connection."""
    try:
        request = json.loads(await reader.readline())
        if request.get("op") == WATCH_ROUTES:
            try:
                await _watch(agent, reader, writer)
            finally:
                writer.close()
            return
        op = OPERATIONS.get(request.get("op"))
        if op is None:
            raise SchedulerError(f"Unknown operation {request.get('op')!r}")
        response: dict[str, Any] = {"ok": True, "result": await op(agent, request.get("args", {}))}
    except DockyardError as exc:
        response = {"ok": False, "error": {"type": type(exc).__name__, "message": exc.message}}
    except asyncio.CancelledError:
        # The agent is stopping mid-request (its pods of a half-done rollout are stopped
        # already). The connection's task ends quietly: on Python 3.11 the stream server
        # would log a cancelled handler as an error with a traceback.
        writer.close()
        return
    except Exception as exc:
        log.exception("scheduler agent request failed")
        error = {"type": "SchedulerError", "message": f"Scheduler agent error: {exc}"}
        response = {"ok": False, "error": error}
    try:
        writer.write(json.dumps(response).encode() + b"\n")
        await writer.drain()
    except OSError:
        pass  # the client went away; the operation itself is complete
    finally:
        writer.close()
