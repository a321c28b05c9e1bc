"""HTTPS enforcement (``/v2/apps/<id>/tls``) through the HTTP API."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Account, Accounts, create_app_for

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DENIED = {"detail": "You do not have permission to perform this action."}


async def set_tls(
    client: httpx.AsyncClient, app_id: str, by: Account, value: object
) -> httpx.Response:
    return await client.post(
        f"/v2/apps/{app_id}/tls/", json={"https_enforced": value}, headers=by.headers
    )


async def test_default_then_toggle(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "secure")
    r = await client.get("/v2/apps/secure/tls", headers=user.headers)
    assert r.status_code == 200, r.text
    first = r.json()
    assert set(first) == {"app", "owner", "created", "updated", "uuid", "https_enforced"}
    assert first["app"] == "secure"
    assert first["owner"] == "alice"
    assert first["https_enforced"] is False
    assert TIMESTAMP.match(first["created"]) and TIMESTAMP.match(first["updated"])
    # Reading again shows the same object.
    assert (await client.get("/v2/apps/secure/tls/", headers=user.headers)).json() == first

    r = await set_tls(client, "secure", user, True)
    assert r.status_code == 201, r.text
    assert r.json()["https_enforced"] is True
    assert r.json()["uuid"] == first["uuid"]
    assert (await client.get("/v2/apps/secure/tls", headers=user.headers)).json()[
        "https_enforced"
    ] is True

    r = await set_tls(client, "secure", user, False)
    assert r.status_code == 201
    assert r.json()["https_enforced"] is False


async def test_posting_the_current_value_is_409(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "same")
    r = await set_tls(client, "same", user, False)
    assert r.status_code == 409
    assert r.json() == {"detail": "alice changed nothing - https_enforced is already false"}
    assert (await set_tls(client, "same", user, True)).status_code == 201
    r = await set_tls(client, "same", user, True)
    assert r.status_code == 409
    assert r.json() == {"detail": "alice changed nothing - https_enforced is already true"}


async def test_invalid_bodies(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "picky")
    r = await client.post("/v2/apps/picky/tls", json={}, headers=user.headers)
    assert r.status_code == 400
    assert r.json() == {"https_enforced": ["This field is required."]}
    for bad in (None, "maybe", [True]):
        r = await set_tls(client, "picky", user, bad)
        assert r.status_code == 400, bad
        assert list(r.json()) == ["https_enforced"]
    # Form posts carry booleans as text.
    r = await client.post(
        "/v2/apps/picky/tls", data={"https_enforced": "true"}, headers=user.headers
    )
    assert r.status_code == 201


async def test_permissions(client: httpx.AsyncClient, user: Account, accounts: Accounts) -> None:
    bob = await accounts.make("bob")
    mallory = await accounts.make("mallory")
    await create_app_for(client, user, "guarded-tls")
    r = await client.post(
        "/v2/apps/guarded-tls/perms", json={"username": "bob"}, headers=user.headers
    )
    assert r.status_code == 201
    r = await set_tls(client, "guarded-tls", bob, True)
    assert r.status_code == 201
    assert r.json()["owner"] == "bob"  # the last to change it
    r = await client.get("/v2/apps/guarded-tls/tls", headers=mallory.headers)
    assert (r.status_code, r.json()) == (403, DENIED)
    r = await set_tls(client, "guarded-tls", mallory, False)
    assert (r.status_code, r.json()) == (403, DENIED)
    assert (await client.get("/v2/apps/nope/tls", headers=user.headers)).status_code == 404


async def test_destroying_the_app_resets_tls(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "phoenix")
    assert (await set_tls(client, "phoenix", user, True)).status_code == 201
    assert (await client.delete("/v2/apps/phoenix", headers=user.headers)).status_code == 204
    await create_app_for(client, user, "phoenix")
    r = await client.get("/v2/apps/phoenix/tls", headers=user.headers)
    assert r.json()["https_enforced"] is False
