"""Helpers of the router tests: deploy the router test app through the API, wait for the
route table to show it, and talk to the router over plain sockets where httpx would hide
what is being tested (keep-alive, pipelining, upgrades, malformed requests)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from dockyard.router.server import Router
from tests.conftest import Account, create_app_for
from tests.releases.helpers import built


async def until(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> float:
    """Poll ``check`` until true; how long it took."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > within:
            raise AssertionError(f"not true within {within}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def backends(router: Router, app: str) -> tuple[int, ...]:
    route = router.proxy.table.apps.get(app)
    return route.backends if route else ()


async def deploy(
    client: httpx.AsyncClient,
    user: Account,
    router: Router,
    app: str,
    source: Path,
    *,
    web: int = 1,
) -> None:
    """Create the app, build it, scale web, and wait until the router has every pod."""
    await create_app_for(client, user, app)
    await built(client, user, app, source)
    if web != 1:
        r = await client.post(f"/v2/apps/{app}/scale", json={"web": web}, headers=user.headers)
        assert r.status_code == 204, r.text

    async def routed() -> bool:
        return len(backends(router, app)) == web

    await until(routed)


async def get(router: Router, host: str, path: str = "/", **kwargs: Any) -> httpx.Response:
    headers = {"Host": host, **kwargs.pop("headers", {})}
    async with httpx.AsyncClient(timeout=10) as c:
        return await c.get(f"http://127.0.0.1:{router.http_port}{path}", headers=headers, **kwargs)


async def raw_exchange(port: int, data: bytes, *, until_closed: bool = False) -> bytes:
    """Send ``data``; read until the server closes (or 1 s of silence)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        received = b""
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 10 if until_closed else 1)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
        return received
    finally:
        writer.close()
