"""The edge router end to end: real app processes deployed through the API, reached over
real HTTP through an in-process router fed by the session's node agent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import httpx

from dockyard.router.proxy import Options
from dockyard.router.server import Router
from tests.conftest import Account, create_app_for
from tests.router.helpers import backends, deploy, get, raw_exchange, until


def seen(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    body: dict = r.json()
    return body


async def test_platform_hostname_and_forwarded_headers(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-basic", app_source)
    body = seen(await get(router, "rt-basic.example.test", "/hello?x=1"))
    assert body["pod"].startswith("rt-basic-web-")
    assert body["path"] == "/hello?x=1"
    headers = body["headers"]
    assert headers["Host"] == "rt-basic.example.test"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Port"] == str(router.http_port)
    assert len(headers["X-Request-Id"]) == 32
    # The Host header's case, a port and a trailing dot do not matter.
    assert seen(await get(router, "RT-Basic.Example.Test.:8080"))["pod"] == body["pod"]
    # An upstream X-Forwarded-For is kept and the client appended; a good request id is kept,
    # a bad one replaced.
    good_id = "a" * 24
    body = seen(
        await get(
            router,
            "rt-basic.example.test",
            headers={"X-Forwarded-For": "203.0.113.1", "X-Request-Id": good_id},
        )
    )
    assert body["headers"]["X-Forwarded-For"] == "203.0.113.1, 127.0.0.1"
    assert body["headers"]["X-Request-Id"] == good_id
    body = seen(await get(router, "rt-basic.example.test", headers={"X-Request-Id": "bad id"}))
    assert body["headers"]["X-Request-Id"] != "bad id"
    # Hop-by-hop headers stop at the router.
    body = seen(
        await get(
            router,
            "rt-basic.example.test",
            headers={"Connection": "keep-alive, X-Secret-Hop", "X-Secret-Hop": "1"},
        )
    )
    assert "X-Secret-Hop" not in body["headers"]


async def test_unknown_hosts_and_apps_without_pods(
    client: httpx.AsyncClient, user: Account, router: Router
) -> None:
    r = await get(router, "nobody-here.example.test")
    assert r.status_code == 404
    assert "No app is served at nobody-here.example.test" in r.text
    await create_app_for(client, user, "rt-empty")

    async def published() -> bool:
        return "rt-empty" in router.proxy.table.apps

    await until(published)
    r = await get(router, "rt-empty.example.test")
    assert r.status_code == 503
    assert "rt-empty has no web processes running" in r.text
    # No Host at all, and garbage: 400, and the connection is closed.
    answer = await raw_exchange(router.http_port, b"GET / HTTP/1.1\r\n\r\n", until_closed=True)
    assert answer.startswith(b"HTTP/1.1 400 ")
    answer = await raw_exchange(router.http_port, b"NONSENSE\r\n\r\n", until_closed=True)
    assert answer.startswith(b"HTTP/1.1 400 ")
    smuggle = (
        b"POST / HTTP/1.1\r\nHost: rt-empty.example.test\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    answer = await raw_exchange(router.http_port, smuggle, until_closed=True)
    assert answer.startswith(b"HTTP/1.1 400 ")


async def test_custom_and_wildcard_domains_apply_within_a_second(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-domains", app_source)
    for domain in ("www.rt-shop.test", "*.rt-shop.test"):
        r = await client.post(
            "/v2/apps/rt-domains/domains", json={"domain": domain}, headers=user.headers
        )
        assert r.status_code == 201, r.text
        started = time.monotonic()
        host = domain.replace("*", "any.thing")

        async def served(host: str = host) -> bool:
            return (await get(router, host)).status_code == 200

        await until(served, within=1.0)
        assert time.monotonic() - started < 1.0
    # IDNA: the Host header carries the ASCII form.
    r = await client.post(
        "/v2/apps/rt-domains/domains", json={"domain": "bücher.test"}, headers=user.headers
    )
    assert r.status_code == 201

    async def idna() -> bool:
        return (await get(router, "xn--bcher-kva.test")).status_code == 200

    await until(idna, within=1.0)
    r = await client.delete("/v2/apps/rt-domains/domains/www.rt-shop.test", headers=user.headers)
    assert r.status_code == 204

    async def still_wildcard() -> bool:  # www now falls to the wildcard, same app
        return "www.rt-shop.test" not in router.proxy.table.exact

    await until(still_wildcard, within=1.0)
    assert (await get(router, "www.rt-shop.test")).status_code == 200
    r = await client.delete("/v2/apps/rt-domains/domains/*.rt-shop.test", headers=user.headers)
    assert r.status_code == 204

    async def gone() -> bool:
        return (await get(router, "www.rt-shop.test")).status_code == 404

    await until(gone, within=1.0)


async def test_settings_answer_at_the_router(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    app, host = "rt-settings", "rt-settings.example.test"
    await deploy(client, user, router, app, app_source)

    async def post(path: str, body: dict) -> None:
        r = await client.post(f"/v2/apps/{app}/{path}", json=body, headers=user.headers)
        assert r.status_code == 201, r.text

    async def status_becomes(code: int) -> None:
        async def check() -> bool:
            return (await get(router, host)).status_code == code

        await until(check, within=1.0)

    await post("settings", {"maintenance": True})
    await status_becomes(503)
    r = await get(router, host)
    assert "down for maintenance" in r.text and r.headers["Retry-After"] == "60"
    await post("settings", {"maintenance": False})
    await status_becomes(200)

    await post("settings", {"routable": False})
    await status_becomes(404)
    await post("settings", {"routable": True})
    await status_becomes(200)

    await post("whitelist", {"addresses": ["10.0.0.0/8"]})
    await status_becomes(403)
    await post("whitelist", {"addresses": ["127.0.0.1"]})
    await status_becomes(200)
    r = await client.request(
        "DELETE",
        f"/v2/apps/{app}/whitelist",
        json={"addresses": ["127.0.0.1"]},
        headers=user.headers,
    )
    assert r.status_code == 204
    await status_becomes(403)  # only 10.0.0.0/8 is left

    r = await client.request(
        "DELETE",
        f"/v2/apps/{app}/whitelist",
        json={"addresses": ["10.0.0.0/8"]},
        headers=user.headers,
    )
    assert r.status_code == 204
    await status_becomes(200)

    await post("tls", {"https_enforced": True})
    await status_becomes(301)
    r = await get(router, host + ":8080", "/a/b?c=d")
    assert r.headers["Location"] == f"https://{host}:{router.https_port}/a/b?c=d"
    await post("tls", {"https_enforced": False})
    await status_becomes(200)


async def test_scale_spreads_requests_and_fails_over(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    app, host = "rt-scale", "rt-scale.example.test"
    await deploy(client, user, router, app, app_source, web=3)
    r = await client.get(f"/v2/apps/{app}/pods", headers=user.headers)
    pods = {p["name"] for p in r.json()["results"]}
    assert len(pods) == 3
    hits = [seen(await get(router, host))["pod"] for _ in range(30)]
    assert set(hits) == pods
    assert all(hits.count(p) == 10 for p in pods)  # round robin
    # Kill one pod's process: every request still gets an answer from the others.
    victim = hits[0]
    pid = _pid_of(victim)
    os.kill(pid, signal.SIGKILL)
    answers = [await get(router, host) for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20
    # The pod comes back (restarted by its supervisor) and the router uses it again.

    async def back() -> bool:
        return len(backends(router, app)) == 3 and victim in {
            seen(await get(router, host))["pod"] for _ in range(3)
        }

    await until(back, within=15)


def _pid_of(pod: str) -> int:
    """The app process (not the shim) carrying ``DOCKYARD_POD=<pod>``."""
    needle = f"DOCKYARD_POD={pod}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().split(b"\0")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in environ and b"app.py" in cmdline:
            return int(entry)
    raise AssertionError(f"no process for pod {pod}")


async def test_keep_alive_pipelining_and_head(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-keep", app_source)
    host = b"Host: rt-keep.example.test\r\n"
    # Two requests in one write; both answered, in order, on the same connection.
    answer = await raw_exchange(
        router.http_port,
        b"GET /one HTTP/1.1\r\n" + host + b"\r\nGET /two HTTP/1.1\r\n" + host + b"\r\n",
    )
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.index(b'"/one"') < answer.index(b'"/two"')
    # HEAD: the Content-Length is the app's, and no body follows; the connection goes on.
    answer = await raw_exchange(
        router.http_port,
        b"HEAD / HTTP/1.1\r\n" + host + b"\r\nGET /after HTTP/1.1\r\n" + host + b"\r\n",
    )
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: 1234" in head
    assert rest.startswith(b"HTTP/1.1 200 OK") and b'"/after"' in rest
    # HTTP/1.0 without keep-alive: one answer, then the router closes.
    answer = await raw_exchange(
        router.http_port, b"GET / HTTP/1.0\r\n" + host + b"\r\n", until_closed=True
    )
    assert answer.startswith(b"HTTP/1.1 200") and b"Connection: close" in answer
    # One httpx client reuses its connection: every request on the same source port.
    async with httpx.AsyncClient() as c:
        ports = set()
        for _ in range(5):
            r = await c.get(
                f"http://127.0.0.1:{router.http_port}/",
                headers={"Host": "rt-keep.example.test"},
            )
            ports.add(r.json()["headers"]["X-Forwarded-Port"])
        assert r.status_code == 200


async def test_streamed_bodies(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-stream", app_source)
    url = f"http://127.0.0.1:{router.http_port}"
    headers = {"Host": "rt-stream.example.test"}
    payload = os.urandom(3 * 1024 * 1024)

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(payload), 100_000):
            yield payload[i : i + 100_000]

    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.post(f"{url}/echo", content=payload, headers=headers)
        assert r.status_code == 200 and r.content == payload
        r = await c.post(f"{url}/echo", content=chunks(), headers=headers)  # chunked upload
        assert r.status_code == 200 and r.content == payload
        # A chunked answer arrives line by line, not when the app has finished.
        started = time.monotonic()
        arrivals = []
        async with c.stream("GET", f"{url}/stream?n=3&delay=0.4", headers=headers) as r:
            assert r.headers["transfer-encoding"] == "chunked"
            async for _line in r.aiter_lines():
                arrivals.append(time.monotonic() - started)
        assert len(arrivals) == 3
        assert arrivals[0] < 0.3 < arrivals[2]


async def test_upgrade_is_tunnelled(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-ws", app_source)
    reader, writer = await asyncio.open_connection("127.0.0.1", router.http_port)
    try:
        writer.write(
            b"GET /ws HTTP/1.1\r\nHost: rt-ws.example.test\r\nConnection: Upgrade\r\n"
            b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101")
        assert b"Upgrade: websocket" in head
        for message in (b"\x81\x05hello", b"any bytes at all" * 1000):
            writer.write(message)
            assert await asyncio.wait_for(reader.readexactly(len(message)), 5) == message
    finally:
        writer.close()


async def test_a_deploy_never_drops_requests(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    app, host = "rt-rolling", "rt-rolling.example.test"
    await deploy(client, user, router, app, app_source)
    before = seen(await get(router, host))["pod"]
    failures: list[int] = []
    done = asyncio.Event()

    async def hammer() -> int:
        count = 0
        async with httpx.AsyncClient(timeout=10) as c:
            while not done.is_set():
                r = await c.get(f"http://127.0.0.1:{router.http_port}/", headers={"Host": host})
                count += 1
                if r.status_code != 200:
                    failures.append(r.status_code)
        return count

    load = asyncio.gather(*(hammer() for _ in range(4)))
    await asyncio.sleep(0.3)
    r = await client.post(
        f"/v2/apps/{app}/config", json={"values": {"NEW": "1"}}, headers=user.headers
    )
    assert r.status_code == 201, r.text

    async def moved() -> bool:
        return seen(await get(router, host))["pod"] != before

    await until(moved, within=2)
    await asyncio.sleep(0.5)
    done.set()
    counts = await load
    assert sum(counts) > 20
    assert failures == []


async def test_destroying_the_app_removes_its_route(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-gone", app_source)
    r = await client.delete("/v2/apps/rt-gone", headers=user.headers)
    assert r.status_code == 204

    async def gone() -> bool:
        return (await get(router, "rt-gone.example.test")).status_code == 404

    await until(gone, within=1.0)


async def test_timeouts_answer_504_and_close_idle_clients(
    client: httpx.AsyncClient, user: Account, agent_root: Path, app_source: Path
) -> None:
    router = Router(
        agent_root,
        http_port=0,
        https_port=0,
        platform_domain="example.test",
        options=Options(response_timeout=0.5, header_timeout=0.5, idle_timeout=0.5),
    )
    await router.start()
    try:
        await deploy(client, user, router, "rt-slow", app_source)
        r = await get(router, "rt-slow.example.test", "/slow?delay=2")
        assert r.status_code == 504
        assert "rt-slow did not answer in time" in r.text
        # A client that sends nothing is disconnected after the header timeout.
        reader, writer = await asyncio.open_connection("127.0.0.1", router.http_port)
        try:
            assert await asyncio.wait_for(reader.read(), 5) == b""
        finally:
            writer.close()
    finally:
        await router.close()


async def test_json_bodies_pass_unchanged(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-json", app_source)
    data = {"unicode": "ünï", "n": list(range(100))}
    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"http://127.0.0.1:{router.http_port}/echo",
            json=data,
            headers={"Host": "rt-json.example.test"},
        )
    assert r.status_code == 200
    assert json.loads(r.content) == data


async def test_expect_continue_and_pipelined_bodies(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-expect", app_source)
    reader, writer = await asyncio.open_connection("127.0.0.1", router.http_port)
    try:
        writer.write(
            b"POST /echo HTTP/1.1\r\nHost: rt-expect.example.test\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim.startswith(b"HTTP/1.1 100")  # the app's, passed on
        # The body, then a second request with a chunked body, in one write.
        writer.write(
            b"hello"
            b"POST /echo HTTP/1.1\r\nHost: rt-expect.example.test\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        )
        for body in (b"hello", b"abc"):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200")
            assert await asyncio.wait_for(reader.readexactly(len(body)), 5) == body
    finally:
        writer.close()


async def test_an_answer_that_breaks_off_cuts_the_client_connection(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-partial", app_source)
    answer = await raw_exchange(
        router.http_port,
        b"GET /partial HTTP/1.1\r\nHost: rt-partial.example.test\r\n\r\n",
        until_closed=True,
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: 100" in head
    assert body == b"0123456789"  # what came, then the end of the connection
    # The router is none the worse for it.
    assert seen(await get(router, "rt-partial.example.test"))["path"] == "/"


async def test_a_client_that_goes_away_mid_answer(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    await deploy(client, user, router, "rt-gone-client", app_source)
    for _ in range(3):
        reader, writer = await asyncio.open_connection("127.0.0.1", router.http_port)
        writer.write(
            b"GET /stream?n=20&delay=0.05 HTTP/1.1\r\nHost: rt-gone-client.example.test\r\n\r\n"
        )
        await asyncio.wait_for(reader.readuntil(b"line 0"), 5)
        writer.close()
    await asyncio.sleep(0.3)
    body = seen(await get(router, "rt-gone-client.example.test"))
    assert body["path"] == "/"
