"""Fixtures of the release-engine tests: a per-test marker carried by every app process the
test starts, a guard that fails the test if any of them outlives it, and the sample app."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.releases.helpers import marked_pids, write_app

MARKER_PREFIX = "dyrt-"


@pytest.fixture
def marker() -> str:
    return MARKER_PREFIX + secrets.token_hex(4)


@pytest.fixture(autouse=True)
def no_leaked_processes(marker: str) -> Iterator[None]:
    """Set up before ``client`` (autouse), so this runs after conftest destroyed every app."""
    yield
    deadline = time.monotonic() + 10
    left = marked_pids(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = marked_pids(marker)
    for pid in left:  # do not let one leaky test disturb the next ones
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"app processes left behind: {left}"


@pytest.fixture
def source(tmp_path: Path, marker: str) -> Path:
    """The sample app in a directory under the source roots (``tmp_path``)."""
    return write_app(tmp_path / "src", marker)
