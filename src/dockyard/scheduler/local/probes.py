"""Executing health probes against a local pod: ``httpGet``, ``tcpSocket`` and ``exec``.

A local pod has no network namespace, so a probe's port means the pod's own ``PORT`` when it
has one (web) and the probe's number otherwise; the host defaults to 127.0.0.1. HTTP is spoken
by hand (one GET, status line only) to keep the shim free of client libraries; 200-399 passes,
as in Kubernetes. ``exec`` runs the argument list in the pod's directory, env and user, and is
killed with its process group on timeout. ``Tracker`` applies the success and failure
thresholds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dockyard.scheduler.base import Exec, HttpGet, Probe, TcpSocket


@dataclass
class Target:
    port: int | None
    cwd: str
    env: Mapping[str, str]
    preexec: Callable[[], None] | None = None


def _port(value: int | str, target: Target) -> int | None:
    if target.port is not None:
        return target.port
    return value if isinstance(value, int) else None


async def _http(action: HttpGet, target: Target, seconds: float) -> bool:
    port = _port(action.port, target)
    if port is None:
        return False
    host = action.host or "127.0.0.1"
    ctx = None
    if action.scheme == "HTTPS":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ctx), seconds)
    try:
        headers = {"Host": f"{host}:{port}", "User-Agent": "dockyard-probe", "Accept": "*/*"}
        headers.update(dict(action.headers))
        headers["Connection"] = "close"
        head = f"GET {action.path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        writer.write((head + "\r\n").encode("latin-1"))
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), seconds)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    parts = status.split()
    return len(parts) >= 2 and parts[1].isdigit() and 200 <= int(parts[1]) < 400


async def _tcp(action: TcpSocket, target: Target, seconds: float) -> bool:
    port = _port(action.port, target)
    if port is None:
        return False
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(action.host or "127.0.0.1", port), seconds
    )
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _exec(action: Exec, target: Target, seconds: float) -> bool:
    proc = await asyncio.create_subprocess_exec(
        *action.command,
        cwd=target.cwd,
        env=dict(target.env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=target.preexec,
    )
    try:
        return await asyncio.wait_for(proc.wait(), seconds) == 0
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


async def check(probe: Probe, target: Target) -> bool:
    """Run the probe once; any error or timeout is a failure."""
    try:
        action = probe.action
        if isinstance(action, HttpGet):
            return await _http(action, target, probe.timeout)
        if isinstance(action, TcpSocket):
            return await _tcp(action, target, probe.timeout)
        return await _exec(action, target, probe.timeout)
    except (OSError, TimeoutError, ssl.SSLError, ValueError):
        return False


class Tracker:
    """Consecutive results against a probe's thresholds."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.successes = 0
        self.failures = 0

    def record(self, ok: bool) -> bool | None:
        """True once passing, False once failing, None while undecided."""
        if ok:
            self.successes += 1
            self.failures = 0
            if self.successes >= self.probe.success_threshold:
                return True
        else:
            self.failures += 1
            self.successes = 0
            if self.failures >= self.probe.failure_threshold:
                return False
        return None
