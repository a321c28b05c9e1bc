"""``/v2/apps/<id>/allowlist`` (later Drycc clients): the whitelist under its other name.
Same handlers, same stored list, same answers and permissions as ``whitelist``."""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute

from dockyard.routing.routes import router
from tests.conftest import Account, Accounts, create_app_for

DENIED = {"detail": "You do not have permission to perform this action."}


async def send(
    client: httpx.AsyncClient, method: str, path: str, by: Account, addresses: object = None
) -> httpx.Response:
    body = None if addresses is None else {"addresses": addresses}
    return await client.request(method, path, json=body, headers=by.headers)


@pytest.mark.parametrize("slash", ["", "/"])
async def test_allowlist_add_list_remove(
    client: httpx.AsyncClient, user: Account, slash: str
) -> None:
    await create_app_for(client, user, "allowed")
    allow = f"/v2/apps/allowed/allowlist{slash}"
    white = f"/v2/apps/allowed/whitelist{slash}"
    r = await send(client, "GET", allow, user)
    assert (r.status_code, r.json()) == (200, {"addresses": []})

    r = await send(client, "POST", allow, user, ["10.0.0.1", "192.168.1.5/24", "2001:DB8::1"])
    assert (r.status_code, r.json()) == (
        201,
        {"addresses": ["10.0.0.1", "192.168.1.0/24", "2001:db8::1"]},
    )
    # One stored list, whichever name it is read or changed by.
    r = await send(client, "GET", white, user)
    assert r.json() == {"addresses": ["10.0.0.1", "192.168.1.0/24", "2001:db8::1"]}
    r = await send(client, "POST", white, user, ["10.0.0.2"])
    assert r.status_code == 201
    r = await send(client, "POST", allow, user, ["10.0.0.2"])
    assert (r.status_code, r.json()) == (
        409,
        {"detail": "alice changed nothing - the addresses are already whitelisted"},
    )

    r = await send(client, "DELETE", allow, user, ["10.0.0.1", "192.168.1.0/24"])
    assert (r.status_code, r.content) == (204, b"")
    r = await send(client, "GET", allow, user)
    assert r.json() == {"addresses": ["2001:db8::1", "10.0.0.2"]}
    settings = (await client.get("/v2/apps/allowed/settings", headers=user.headers)).json()
    assert settings["whitelist"] == ["2001:db8::1", "10.0.0.2"]


async def test_allowlist_errors_match_whitelist(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "fenced-in")
    assert (
        await send(client, "POST", "/v2/apps/fenced-in/allowlist", user, ["10.0.0.1"])
    ).status_code == 201
    cases: list[tuple[str, object, int]] = [
        ("DELETE", ["10.9.9.9"], 422),
        ("POST", ["10.0.0.300"], 400),
        ("DELETE", ["10.0.0.300"], 400),
        ("POST", [], 400),
        ("POST", "10.0.0.5", 400),
        ("POST", None, 400),
        ("DELETE", None, 400),
    ]
    for method, addresses, status in cases:
        answers = [
            await send(client, method, f"/v2/apps/fenced-in/{name}", user, addresses)
            for name in ("allowlist", "whitelist")
        ]
        assert answers[0].status_code == answers[1].status_code == status, answers[0].text
        assert answers[0].json() == answers[1].json()
    r = await send(client, "DELETE", "/v2/apps/fenced-in/allowlist", user, ["10.9.9.9"])
    assert r.json() == {"detail": "10.9.9.9 does not exist in the whitelist"}
    r = await send(client, "POST", "/v2/apps/fenced-in/allowlist", user, ["10.0.0.300"])
    assert r.json() == {"addresses": ["The address 10.0.0.300 is not valid"]}
    r = await send(client, "GET", "/v2/apps/fenced-in/allowlist", user)
    assert r.json() == {"addresses": ["10.0.0.1"]}
    r = await send(client, "GET", "/v2/apps/nowhere/allowlist", user)
    assert r.status_code == 404
    r = await client.get("/v2/apps/fenced-in/allowlist")
    assert r.status_code == 401


async def test_allowlist_permissions(
    client: httpx.AsyncClient, user: Account, admin: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    mallory = await accounts.make("mallory")
    await create_app_for(client, user, "shared-allow")
    r = await client.post(
        "/v2/apps/shared-allow/perms", json={"username": "bob"}, headers=user.headers
    )
    assert r.status_code == 201
    path = "/v2/apps/shared-allow/allowlist"
    assert (await send(client, "POST", path, bob, ["10.0.0.1"])).status_code == 201
    assert (await send(client, "POST", path, admin, ["10.0.0.2"])).status_code == 201
    for r in (
        await send(client, "GET", path, mallory),
        await send(client, "POST", path, mallory, ["10.0.0.3"]),
        await send(client, "DELETE", path, mallory, ["10.0.0.1"]),
    ):
        assert (r.status_code, r.json()) == (403, DENIED)
    assert (await send(client, "GET", path, user)).json() == {"addresses": ["10.0.0.1", "10.0.0.2"]}


def test_one_handler_per_method() -> None:
    """The allowlist is the whitelist's handlers under a second path, not a copy."""
    routes = [r for r in router.routes if isinstance(r, APIRoute)]

    def endpoints(name: str) -> dict[str, object]:
        path = f"/apps/{{app_id}}/{name}"
        return {m: r.endpoint for r in routes if r.path == path for m in r.methods}

    allow, white = endpoints("allowlist"), endpoints("whitelist")
    assert set(allow) == {"GET", "POST", "DELETE"}
    assert allow == white
