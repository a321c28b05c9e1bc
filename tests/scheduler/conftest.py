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


class Tracked:
    """The roots and app names of one test: what its leftover processes would carry."""

    def __init__(self) -> None:
        self.roots: list[bytes] = []
        self.apps: list[bytes] = []

    def processes(self) -> dict[int, str]:
        """Live shims and agents of our roots, and app processes (``DOCKYARD_POD``) of our apps.
        Other test runs may share the host, so nothing else counts."""
        found: dict[int, str] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                if stat[stat.rfind(")") + 2] in "ZX":
                    continue
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            ours = any(m in cmdline for m in MARKERS) and any(r in cmdline for r in self.roots)
            pods = [e[len(b"DOCKYARD_POD=") :] for e in environ if e.startswith(b"DOCKYARD_POD=")]
            if ours or any(p.startswith(a + b"-") for p in pods for a in self.apps):
                found[int(entry)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
        return found


@pytest.fixture(autouse=True)
def tracked() -> Iterator[Tracked]:
    """Fails any test that leaves a shim, an agent or an app process behind."""
    t = Tracked()
    yield t
    deadline = time.monotonic() + 5
    left: dict[int, str] = {}
    while time.monotonic() < deadline:
        left = t.processes()
        if not left:
            return
        time.sleep(0.1)
    for pid in left:  # do not let one leaky test break the next ones
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    pytest.fail(f"processes left behind: {left}")


@pytest.fixture
def root(tracked: Tracked) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dy", dir="/tmp"))
    tracked.roots.append(str(path).encode())
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
def app_name(tracked: Tracked) -> str:
    name = f"t{secrets.token_hex(3)}"
    tracked.apps.append(name.encode())
    return name


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
