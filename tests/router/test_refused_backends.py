"""When every backend the router knows refuses the connection, it waits briefly for a newer
route table (during a rollout the old pods stop just after the new ones are announced) and
tries the backends that table adds; with none, the client gets 502."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dockyard.router.proxy import Options
from dockyard.router.server import Router
from dockyard.scheduler.base import RouteSpec
from dockyard.scheduler.local import wire
from tests.servers import free_port

HOST = "blue.example.test"


def table(*backends: int) -> dict[str, object]:
    route = wire.route_to_dict(RouteSpec(app="blue", hosts=(HOST,)))
    return {"apps": {"blue": {**route, "backends": list(backends)}}}


@pytest.fixture
async def lone_router(tmp_path: Path) -> AsyncIterator[Router]:
    """A router with no agent behind it: the tests hand it its tables."""
    r = Router(
        tmp_path / "no-agent",
        http_port=0,
        https_port=0,
        platform_domain="example.test",
        options=Options(table_wait=2.0),
    )
    await r.start()
    try:
        yield r
    finally:
        await r.close()


@pytest.fixture
async def app_port() -> AsyncIterator[int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfresh")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def fetch(router: Router) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(f"http://127.0.0.1:{router.http_port}/", headers={"Host": HOST})


async def test_a_request_refused_everywhere_takes_the_backends_of_the_next_table(
    lone_router: Router, app_port: int
) -> None:
    await lone_router.apply(table(free_port()))  # a pod that has just stopped
    request = asyncio.ensure_future(fetch(lone_router))
    await asyncio.sleep(0.3)
    assert not request.done()  # waiting for a newer table, not failed
    await lone_router.apply(table(app_port))
    r = await request
    assert (r.status_code, r.text) == (200, "fresh")


async def test_with_no_newer_table_it_is_a_502(lone_router: Router) -> None:
    await lone_router.apply(table(free_port()))
    r = await fetch(lone_router)
    assert r.status_code == 502
    assert "blue did not accept the connection." in r.text


async def test_a_newer_table_with_only_the_refusing_backends_is_a_502(
    lone_router: Router,
) -> None:
    dead = free_port()
    await lone_router.apply(table(dead))
    request = asyncio.ensure_future(fetch(lone_router))
    await asyncio.sleep(0.3)
    await lone_router.apply(table(dead))
    r = await request
    assert r.status_code == 502
