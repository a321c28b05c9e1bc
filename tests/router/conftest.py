"""Fixtures of the router tests: one in-process edge router for the session, fed by the
session's node agent (the same one the API's scheduler talks to) on free loopback ports,
and the router test app in a source directory. The release tests' marker and process-leak
guard apply here too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dockyard.router.server import Router
from tests.releases.conftest import marker, no_leaked_processes  # noqa: F401  (fixtures)
from tests.router.app import write_router_app


@pytest.fixture(scope="session")
async def router(agent_root: Path) -> AsyncIterator[Router]:
    r = Router(agent_root, http_port=0, https_port=0, platform_domain="example.test")
    fed = r.updated
    await r.start()
    # Subscribed and fed before any test begins: the agent's side of the subscription is
    # then part of every test's baseline of running tasks (tests/guards.py).
    await asyncio.wait_for(fed.wait(), timeout=10)
    try:
        yield r
    finally:
        await r.close()


@pytest.fixture
def app_source(tmp_path: Path, marker: str) -> Path:  # noqa: F811
    return write_router_app(tmp_path / "app", marker)
