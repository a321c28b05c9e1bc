"""The user list and the superuser grants (``admin/perms``), through the API."""

from __future__ import annotations

import httpx

from tests.conftest import Account, Accounts

PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}


async def test_users_list_is_admin_only(client: httpx.AsyncClient, user: Account) -> None:
    for path in ("/v2/users", "/v2/users/"):
        r = await client.get(path, headers=user.headers)
        assert r.status_code == 403
        assert r.json() == PERMISSION_DENIED


async def test_users_list_paginated(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.get("/v2/users/", headers=admin.headers)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert body["next"] is None and body["previous"] is None
    assert [u["username"] for u in body["results"]] == [admin.username, user.username]
    alice = body["results"][1]
    assert alice["is_superuser"] is False
    assert alice["email"] == "alice@example.com"
    assert "password" not in alice and "password_hash" not in alice

    r = await client.get("/v2/users?limit=1", headers=admin.headers)
    assert r.status_code == 200
    page1 = r.json()
    assert page1["count"] == 2
    assert [u["username"] for u in page1["results"]] == [admin.username]
    assert page1["previous"] is None
    nxt = page1["next"]
    assert isinstance(nxt, str) and nxt.startswith("http://testserver/v2/users")

    r = await client.get(nxt, headers=admin.headers)
    assert r.status_code == 200
    page2 = r.json()
    assert page2["count"] == 2
    assert [u["username"] for u in page2["results"]] == [user.username]
    assert page2["next"] is None
    assert isinstance(page2["previous"], str)
    back = await client.get(page2["previous"], headers=admin.headers)
    assert [u["username"] for u in back.json()["results"]] == [admin.username]

    r = await client.get("/v2/users/?limit=10&offset=1", headers=admin.headers)
    assert [u["username"] for u in r.json()["results"]] == [user.username]
    r = await client.get("/v2/users/?offset=5", headers=admin.headers)
    assert r.json()["count"] == 2
    assert r.json()["results"] == []


async def test_admin_perms_list(client: httpx.AsyncClient, admin: Account, user: Account) -> None:
    r = await client.get("/v2/admin/perms/", headers=admin.headers)
    assert r.status_code == 200
    assert r.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [{"username": admin.username, "is_superuser": True}],
    }


async def test_admin_perms_need_superuser(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.get("/v2/admin/perms", headers=user.headers)
    assert r.status_code == 403
    assert r.json() == PERMISSION_DENIED

    r = await client.post(
        "/v2/admin/perms/", json={"username": user.username}, headers=user.headers
    )
    assert r.status_code == 403
    assert r.json() == PERMISSION_DENIED

    r = await client.delete(f"/v2/admin/perms/{admin.username}", headers=user.headers)
    assert r.status_code == 403
    assert r.json() == PERMISSION_DENIED

    # Nothing changed: alice is still no admin, the admin still is.
    me = (await client.get("/v2/auth/whoami", headers=user.headers)).json()
    assert me["is_superuser"] is False
    r = await client.get("/v2/admin/perms", headers=admin.headers)
    assert [a["username"] for a in r.json()["results"]] == [admin.username]

    r = await client.get("/v2/admin/perms")
    assert r.status_code == 401


async def test_grant_and_revoke_admin(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.post(
        "/v2/admin/perms/", json={"username": user.username}, headers=admin.headers
    )
    assert r.status_code == 201, r.text

    me = (await client.get("/v2/auth/whoami", headers=user.headers)).json()
    assert me["is_superuser"] is True
    assert me["is_staff"] is True

    # The new admin can use admin-only endpoints.
    r = await client.get("/v2/users", headers=user.headers)
    assert r.status_code == 200
    assert r.json()["count"] == 2
    r = await client.get("/v2/admin/perms", headers=user.headers)
    assert sorted(a["username"] for a in r.json()["results"]) == sorted(
        [admin.username, user.username]
    )
    assert r.json()["count"] == 2

    r = await client.delete(f"/v2/admin/perms/{user.username}/", headers=admin.headers)
    assert r.status_code == 204
    assert r.content == b""
    me = (await client.get("/v2/auth/whoami", headers=user.headers)).json()
    assert me["is_superuser"] is False
    assert (await client.get("/v2/users", headers=user.headers)).status_code == 403
    r = await client.get("/v2/admin/perms", headers=admin.headers)
    assert [a["username"] for a in r.json()["results"]] == [admin.username]


async def test_grant_is_idempotent(client: httpx.AsyncClient, admin: Account) -> None:
    r = await client.post(
        "/v2/admin/perms", json={"username": admin.username}, headers=admin.headers
    )
    assert r.status_code == 201
    r = await client.get("/v2/admin/perms", headers=admin.headers)
    assert r.json()["count"] == 1


async def test_grant_unknown_user_is_404(client: httpx.AsyncClient, admin: Account) -> None:
    r = await client.post("/v2/admin/perms/", json={"username": "ghost"}, headers=admin.headers)
    assert r.status_code == 404
    assert "detail" in r.json()


async def test_grant_without_username_is_400(client: httpx.AsyncClient, admin: Account) -> None:
    r = await client.post("/v2/admin/perms/", json={}, headers=admin.headers)
    assert r.status_code == 400
    assert r.json() == {"username": ["This field is required."]}


async def test_revoke_non_admin_is_404(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    for name in (user.username, "ghost"):
        r = await client.delete(f"/v2/admin/perms/{name}", headers=admin.headers)
        assert r.status_code == 404, name
        assert "detail" in r.json()


async def test_revoking_the_last_admin_is_409(
    client: httpx.AsyncClient, admin: Account, accounts: Accounts
) -> None:
    r = await client.delete(f"/v2/admin/perms/{admin.username}", headers=admin.headers)
    assert r.status_code == 409
    assert "detail" in r.json()
    me = (await client.get("/v2/auth/whoami", headers=admin.headers)).json()
    assert me["is_superuser"] is True

    # With a second admin, an admin may step down; then the other one is the last.
    second = await accounts.make("second-admin")
    r = await client.post(
        "/v2/admin/perms", json={"username": second.username}, headers=admin.headers
    )
    assert r.status_code == 201
    r = await client.delete(f"/v2/admin/perms/{admin.username}", headers=admin.headers)
    assert r.status_code == 204
    assert (await client.get("/v2/users", headers=admin.headers)).status_code == 403
    r = await client.delete(f"/v2/admin/perms/{second.username}", headers=second.headers)
    assert r.status_code == 409
