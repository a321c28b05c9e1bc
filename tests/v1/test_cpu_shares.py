"""v1 CPU limits are Docker CPU shares, as JSON numbers: ``deis limits:set --cpu web=512``
(``POST /v1/apps/<id>/config/ {"cpu": {"web": 512}}``) and ``limits:list`` (``GET``) round-trip
512, while v2 sees the same limit as millicores (``"500m"``). The conversion itself is tested in
tests/core/test_cpu_shares.py."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Account, create_app_for
from tests.v1.helpers import assert_v1_headers, js, message, py

CPU_MESSAGE = "CPU limit format: <value> or <value>/<value>, where value must be a numeric"


async def go(
    client: httpx.AsyncClient, who: Account, method: str, path: str, body: Any = None
) -> httpx.Response:
    """A request as the Deis 1.x Go client sends it: trailing slash, a JSON body."""
    headers = {"content-type": "application/json", "Authorization": f"token {who.token}"}
    r = await client.request(method, path, json=body, headers=headers)
    assert_v1_headers(r)
    return r


async def v2_cpu(client: httpx.AsyncClient, who: Account, app: str) -> dict[str, Any]:
    r = await client.get(f"/v2/apps/{app}/config/", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json()["cpu"])


async def test_go_client_limits_round_trip(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "cpu-go")
    # deis limits:set --cpu web=512
    r = await go(client, user, "POST", "/v1/apps/cpu-go/config/", {"cpu": {"web": 512}})
    assert r.status_code == 201, r.text
    assert r.headers["Deis-Release"] == r.headers["X-Deis-Release"] == "2"
    assert r.json()["cpu"] == {"web": 512}
    # deis limits:list: numbers, not strings (the Go client decodes a map of numbers).
    r = await go(client, user, "GET", "/v1/apps/cpu-go/config/")
    assert r.status_code == 200
    assert r.json()["cpu"] == {"web": 512}
    assert isinstance(r.json()["cpu"]["web"], int)
    assert b'"cpu":{"web":512}' in r.content
    # v2 stores and shows millicores.
    assert await v2_cpu(client, user, "cpu-go") == {"web": "500m"}
    # The same limit posted again, in either unit, changes nothing.
    for same in (512, "500m", "512"):
        r = await go(client, user, "POST", "/v1/apps/cpu-go/config/", {"cpu": {"web": same}})
        assert r.status_code == 409, (same, r.text)
    # Another type, and one unset: each converted on its own.
    r = await go(
        client, user, "POST", "/v1/apps/cpu-go/config/", {"cpu": {"worker": 1024, "web": None}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["cpu"] == {"worker": 1024}
    assert await v2_cpu(client, user, "cpu-go") == {"worker": "1000m"}
    releases = (await client.get("/v2/apps/cpu-go/releases", headers=user.headers)).json()
    assert [rel["summary"] for rel in releases["results"][:2]] == [
        "alice changed limits for cpu",
        "alice changed limits for cpu",
    ]


async def test_python_client_shares_as_json_string(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "cpu-py")
    # deis.py limits:set -c web=256 worker=2048: the map as a JSON string, numbers in it.
    r = await py(
        client, user, "POST", "/v1/apps/cpu-py/config", {"cpu": js({"web": 256, "worker": "2048"})}
    )
    assert r.status_code == 201, r.text
    assert r.json()["cpu"] == {"web": 256, "worker": 2048}
    assert await v2_cpu(client, user, "cpu-py") == {"web": "250m", "worker": "2000m"}
    # Millicores written under v1 are taken as millicores.
    r = await py(client, user, "POST", "/v1/apps/cpu-py/config", {"cpu": js({"web": "125m"})})
    assert r.status_code == 201, r.text
    assert r.json()["cpu"] == {"web": 128, "worker": 2048}
    assert (await v2_cpu(client, user, "cpu-py"))["web"] == "125m"


async def test_v2_limits_read_under_v1(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "cpu-v2")
    # v2 keeps its string forms; v1 shows the shares of each (of the limit for a pair).
    cpu = {"web": "250m/500m", "worker": "1", "clock": "0.25", "big": 2}
    r = await client.post("/v2/apps/cpu-v2/config/", json={"cpu": cpu}, headers=user.headers)
    assert r.status_code == 201, r.text
    assert r.json()["cpu"] == {"web": "250m/500m", "worker": "1", "clock": "0.25", "big": "2"}
    r = await go(client, user, "GET", "/v1/apps/cpu-v2/config/")
    assert r.json()["cpu"] == {"web": 512, "worker": 1024, "clock": 256, "big": 2048}
    assert await v2_cpu(client, user, "cpu-v2") == {
        "web": "250m/500m",
        "worker": "1",
        "clock": "0.25",
        "big": "2",
    }
    # A v2 number stays CPUs under v2: 512 is 512 CPUs there, not shares.
    r = await client.post(
        "/v2/apps/cpu-v2/config/", json={"cpu": {"web": 512}}, headers=user.headers
    )
    assert r.status_code == 201
    assert r.json()["cpu"]["web"] == "512"
    r = await go(client, user, "GET", "/v1/apps/cpu-v2/config/")
    assert r.json()["cpu"]["web"] == 512 * 1024


async def test_bad_v1_cpu_limits(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "cpu-bad")
    for value in (0, -512, True, "fast", "0.1", [512], 10**17):
        r = await go(client, user, "POST", "/v1/apps/cpu-bad/config/", {"cpu": {"web": value}})
        assert r.status_code == 400, (value, r.text)
        assert list(r.json()) == ["cpu"], (value, r.json())
        assert message(r) == CPU_MESSAGE, value
    assert await v2_cpu(client, user, "cpu-bad") == {}
