"""Fixtures of the scheduler tests: a short-pathed root per test (unix socket paths are
limited to 108 bytes), a build directory with the test apps, an in-process node agent, and a
guard that fails any test leaving a shim, an agent or an app process behind."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dockyard.scheduler.local.agent import Agent
from dockyard.scheduler.local.node import NodeOptions
from tests.scheduler.apps import write_build

MARKERS = (b"dockyard.scheduler.local.shim", b"dockyard.scheduler.local.agent")


def our_processes() -> dict[int, str]:
    """Live shims, agents and app processes (marked by DOCKYARD_POD) on this host."""
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if stat[stat.rfind(")") + 2] in "ZX":
                continue
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if any(m in cmdline for m in MARKERS) or b"\0DOCKYARD_POD=" in b"\0" + environ:
            found[int(entry)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    before = set(our_processes())
    yield
    deadline = time.monotonic() + 5
    left = {}
    while time.monotonic() < deadline:
        left = {p: c for p, c in our_processes().items() if p not in before}
        if not left:
            return
        time.sleep(0.1)
    for pid in left:  # do not let one leaky test break the next ones
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    pytest.fail(f"processes left behind: {left}")


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dy", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def build_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dyb", dir="/tmp"))
    os.chmod(path, 0o755)
    write_build(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def app_name() -> str:
    return f"t{secrets.token_hex(3)}"


DEPLOY_TIMEOUT = 5.0


def make_agent(root: Path, **overrides: object) -> Agent:
    options = {
        "deploy_timeout": DEPLOY_TIMEOUT,
        "run_timeout": 5.0,
        "app_user": None,
        "monitor_interval": 0.2,
        "options": NodeOptions(settle=0.3, backoff_base=0.2, backoff_max=1.0),
    }
    options.update(overrides)
    return Agent(root, **options)  # type: ignore[arg-type]


async def shutdown(agent: Agent) -> None:
    """Destroy every app the agent has (stopping their processes), then close it."""
    for app in agent.node.app_dirs():
        await agent.destroy(app)
    await agent.close()
    assert len(agent.tasks) == 0


@pytest.fixture
async def agent(root: Path) -> AsyncIterator[Agent]:
    a = make_agent(root)
    await a.start()
    try:
        yield a
    finally:
        if a._server is None:  # the test closed it and started another one
            a = make_agent(root)
            await a.start()
        await shutdown(a)
