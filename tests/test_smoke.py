"""The API root and health endpoints, through the real ASGI app."""

from __future__ import annotations

import httpx

from tests.conftest import Account, create_app_for


async def test_root_requires_auth(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/")
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not provided."}
    assert r.headers["www-authenticate"] == "Token"
    assert r.headers["deis_api_version"] == "2.3"
    assert r.headers["drycc_api_version"] == "2.3"


async def test_healthz_without_auth_has_version_headers(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.text == "OK"
    assert r.headers["drycc_api_version"] == "2.3"
    assert "deis_platform_version" in r.headers


async def test_readiness_checks_database(client: httpx.AsyncClient) -> None:
    r = await client.get("/readiness/")
    assert r.status_code == 200


async def test_app_list_with_and_without_slash(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "smoke-app")
    for path in ("/v2/apps", "/v2/apps/"):
        r = await client.get(path, headers=user.headers)
        assert r.status_code == 200
        assert [a["id"] for a in r.json()["results"]] == ["smoke-app"]
