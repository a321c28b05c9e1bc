"""Suite-wide guards, autouse in ``tests/conftest.py``: a test fails if it leaves a process
it started, or an asyncio task on the session's loop, running after its teardown.

Both compare with what ran when the test began: session and module fixtures (the in-process
agent, the CLI tests' server, the Kubernetes cluster) are set up before any function fixture,
so their processes and tasks are part of that baseline (such a fixture waits until what it
starts is up, or its first test would see it as new). A wider fixture a test starts on first
use (``request.getfixturevalue``) is set up after that baseline: the processes it starts are
recorded as it is set up (``SharedProcesses``, registered in ``tests/conftest.py``) and are
not the test's either. A leftover gets a few seconds to end
(a process sent SIGTERM in a teardown may still be exiting) and then fails the test that
left it; a leftover process is also killed, so that it cannot disturb the next tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

GRACE = 5.0
# The processes started by setting up session, package, module or class fixtures.
_SHARED: set[int] = set()


def _descendants(root: int) -> dict[int, str]:
    """Running (not zombie) descendants of ``root``, with their command lines."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] not in ("Z", "X"):
                parents[int(stat.parent.name)] = int(fields[1])
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    found[pid] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
                frontier.append(pid)
    return found


class SharedProcesses:
    """A plugin, registered by ``tests/conftest.py`` for the whole session (a conftest's own
    hooks do not see session fixtures set up from a subdirectory): it records the processes
    that setting up a wider fixture starts."""

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[object]) -> Iterator[object]:
        if fixturedef.scope == "function":
            return (yield)
        before = set(_descendants(os.getpid()))
        result = yield
        _SHARED.update(set(_descendants(os.getpid())) - before)
        return result


@pytest.fixture(autouse=True)
def no_stray_processes() -> Iterator[None]:
    before = set(_descendants(os.getpid()))
    yield
    deadline = time.monotonic() + GRACE
    while True:
        left = {p: c for p, c in _descendants(os.getpid()).items() if p not in before | _SHARED}
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running by this test: {left}"


@pytest.fixture(autouse=True)
async def no_stray_tasks() -> AsyncIterator[None]:
    # Setup and teardown may each run in a task of their own: neither counts.
    before = asyncio.all_tasks()
    yield
    deadline = time.monotonic() + GRACE
    while True:
        mine = {asyncio.current_task()}
        left = {t for t in asyncio.all_tasks() - before - mine if not t.done()}
        if not left or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    # Not cancelled: a task may belong to session infrastructure that a fixture started
    # without waiting for it, and cancelling it would break every later test.
    assert not left, f"asyncio tasks left running by this test: {sorted(map(repr, left))}"
