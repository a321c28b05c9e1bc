"""Disabling and enabling users (``PATCH /v2/users/<username>/disable|enable``): admin only,
a disabled user's tokens are refused on every route (the ORM path, the driver-level reader
path of the app list and detail, v1, git over HTTP) and their logins too, until enabled."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import Account, Accounts, create_app_for

DENIED = {"detail": "You do not have permission to perform this action."}
INVALID_TOKEN = {"detail": "Invalid token."}
DISABLED = {"non_field_errors": ["User account is disabled."]}
BAD_CREDENTIALS = {"non_field_errors": ["Unable to log in with provided credentials."]}


async def patch(client: httpx.AsyncClient, path: str, by: Account | None) -> httpx.Response:
    return await client.patch(path, headers=by.headers if by else {})


async def login(
    client: httpx.AsyncClient, who: Account, password: str | None = None
) -> httpx.Response:
    body = {"username": who.username, "password": password or who.password}
    return await client.post("/v2/auth/login/", json=body)


async def users_active(client: httpx.AsyncClient, admin: Account) -> dict[str, bool]:
    r = await client.get("/v2/users/", headers=admin.headers)
    assert r.status_code == 200, r.text
    return {u["username"]: u["is_active"] for u in r.json()["results"]}


def basic(account: Account) -> dict[str, str]:
    pair = base64.b64encode(f"{account.username}:{account.token}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


async def refused_everywhere(client: httpx.AsyncClient, who: Account, app: str) -> None:
    for method, path in (
        ("GET", "/v2/"),
        ("GET", "/v2/auth/whoami/"),
        ("GET", "/v2/apps/"),  # the reader path
        ("GET", f"/v2/apps/{app}/"),  # the reader path
        ("GET", f"/v2/apps/{app}/config/"),
        ("GET", f"/v2/apps/{app}/allowlist/"),
        ("POST", "/v2/apps/"),
        ("GET", "/v2/keys/"),
        ("GET", "/v1/apps"),
    ):
        r = await client.request(method, path, headers=who.headers, json={})
        assert (r.status_code, r.json()) == (401, INVALID_TOKEN), (method, path)
    r = await client.get(
        f"/git/{app}.git/info/refs", params={"service": "git-receive-pack"}, headers=basic(who)
    )
    assert r.status_code == 401


async def test_disable_and_enable(client: httpx.AsyncClient, admin: Account, user: Account) -> None:
    await create_app_for(client, user, "alices-app")
    assert (await users_active(client, admin))[user.username] is True

    r = await patch(client, f"/v2/users/{user.username}/disable/", admin)
    assert (r.status_code, r.content) == (204, b"")
    await refused_everywhere(client, user, "alices-app")
    assert (await users_active(client, admin))[user.username] is False
    r = await login(client, user)
    assert (r.status_code, r.json()) == (400, DISABLED)
    # A wrong password still says only that the credentials are wrong.
    r = await login(client, user, "wrong-password")
    assert (r.status_code, r.json()) == (400, BAD_CREDENTIALS)
    # Disabling twice is no error.
    r = await patch(client, f"/v2/users/{user.username}/disable", admin)
    assert r.status_code == 204

    r = await patch(client, f"/v2/users/{user.username}/enable/", admin)
    assert (r.status_code, r.content) == (204, b"")
    assert (await users_active(client, admin))[user.username] is True
    # The tokens issued before work again, and so does logging in.
    r = await client.get("/v2/apps/alices-app/", headers=user.headers)
    assert r.status_code == 200
    r = await client.get("/v2/auth/whoami", headers=user.headers)
    assert (r.status_code, r.json()["is_active"]) == (200, True)
    r = await login(client, user)
    assert r.status_code == 200 and r.json()["token"]
    r = await patch(client, f"/v2/users/{user.username}/enable", admin)
    assert r.status_code == 204


async def test_administrators_only(
    client: httpx.AsyncClient, admin: Account, user: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    for action in ("disable", "enable"):
        for target in ("bob", "nobody", user.username):
            r = await patch(client, f"/v2/users/{target}/{action}/", user)
            assert (r.status_code, r.json()) == (403, DENIED)
        r = await patch(client, f"/v2/users/bob/{action}/", None)
        assert r.status_code == 401
        r = await patch(client, f"/v2/users/nobody/{action}/", admin)
        assert (r.status_code, r.json()) == (404, {"detail": "User nobody does not exist."})
        r = await client.post(f"/v2/users/bob/{action}/", headers=admin.headers)
        assert (r.status_code, r.json()) == (405, {"detail": 'Method "POST" not allowed.'})
    assert (await client.get("/v2/", headers=bob.headers)).status_code == 200


async def test_administrator_cannot_disable_themselves(
    client: httpx.AsyncClient, admin: Account, accounts: Accounts
) -> None:
    r = await patch(client, f"/v2/users/{admin.username}/disable/", admin)
    assert (r.status_code, r.json()) == (400, {"detail": "You cannot disable your own account."})
    assert (await client.get("/v2/auth/whoami/", headers=admin.headers)).status_code == 200
    # Enabling oneself is a no-op; another administrator may be disabled, and is refused.
    assert (await patch(client, f"/v2/users/{admin.username}/enable/", admin)).status_code == 204
    second = await accounts.make("second-admin")
    r = await client.post(
        "/v2/admin/perms/", json={"username": "second-admin"}, headers=admin.headers
    )
    assert r.status_code == 201
    assert (await patch(client, "/v2/users/second-admin/disable/", admin)).status_code == 204
    r = await client.get("/v2/users/", headers=second.headers)
    assert (r.status_code, r.json()) == (401, INVALID_TOKEN)
    r = await patch(client, f"/v2/users/{admin.username}/disable/", second)
    assert r.status_code == 401


@pytest.mark.parametrize("form", [False, True])
async def test_disabled_login_v1_and_form(
    client: httpx.AsyncClient, admin: Account, user: Account, form: bool
) -> None:
    assert (await patch(client, f"/v2/users/{user.username}/disable/", admin)).status_code == 204
    creds = {"username": user.username, "password": user.password}
    for path in ("/v2/auth/login/", "/v1/auth/login/"):
        r = await (client.post(path, data=creds) if form else client.post(path, json=creds))
        assert (r.status_code, r.json()) == (400, DISABLED), path
