"""App collaborators (``/v2/apps/<id>/perms``) through the HTTP API."""

from __future__ import annotations

import httpx

from tests.conftest import Account, Accounts, create_app_for

DENIED = {"detail": "You do not have permission to perform this action."}


async def share(
    client: httpx.AsyncClient, app_id: str, by: Account, username: str
) -> httpx.Response:
    return await client.post(
        f"/v2/apps/{app_id}/perms/", json={"username": username}, headers=by.headers
    )


async def users_of(client: httpx.AsyncClient, app_id: str, by: Account) -> list[str]:
    r = await client.get(f"/v2/apps/{app_id}/perms", headers=by.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"users"}, body  # not paginated
    return body["users"]


async def test_list_is_collaborators_only_not_owner(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "team-app")
    assert await users_of(client, "team-app", user) == []
    await accounts.make("bob")
    await accounts.make("carol")
    assert (await share(client, "team-app", user, "carol")).status_code == 201
    assert (await share(client, "team-app", user, "bob")).status_code == 201
    users = await users_of(client, "team-app", user)
    assert sorted(users) == ["bob", "carol"]
    assert "alice" not in users


async def test_share_lets_collaborator_see_app(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "shared-app")
    bob = await accounts.make("bob")
    assert (await client.get("/v2/apps/shared-app", headers=bob.headers)).status_code == 403

    r = await share(client, "shared-app", user, "bob")
    assert r.status_code == 201, r.text

    r = await client.get("/v2/apps/shared-app/", headers=bob.headers)
    assert r.status_code == 200
    assert r.json()["owner"] == "alice"
    listing = (await client.get("/v2/apps", headers=bob.headers)).json()
    assert [a["id"] for a in listing["results"]] == ["shared-app"]
    assert await users_of(client, "shared-app", bob) == ["bob"]
    releases = await client.get("/v2/apps/shared-app/releases", headers=bob.headers)
    assert releases.status_code == 200
    assert releases.json()["count"] == 1


async def test_collaborator_cannot_share_or_destroy(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "guarded")
    bob = await accounts.make("bob")
    await accounts.make("carol")
    assert (await share(client, "guarded", user, "bob")).status_code == 201

    r = await share(client, "guarded", bob, "carol")
    assert r.status_code == 403
    assert r.json() == DENIED
    r = await client.delete("/v2/apps/guarded", headers=bob.headers)
    assert r.status_code == 403
    assert r.json() == DENIED
    assert await users_of(client, "guarded", user) == ["bob"]
    assert (await client.get("/v2/apps/guarded", headers=user.headers)).status_code == 200


async def test_stranger_cannot_list_or_share(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "closed")
    bob = await accounts.make("bob")
    r = await client.get("/v2/apps/closed/perms", headers=bob.headers)
    assert r.status_code == 403
    r = await share(client, "closed", bob, "bob")
    assert r.status_code == 403
    assert r.json() == DENIED
    assert await users_of(client, "closed", user) == []


async def test_share_errors(client: httpx.AsyncClient, user: Account, accounts: Accounts) -> None:
    await create_app_for(client, user, "errs")
    await accounts.make("bob")
    assert (await share(client, "errs", user, "bob")).status_code == 201

    dup = await share(client, "errs", user, "bob")
    assert dup.status_code == 409
    assert isinstance(dup.json()["detail"], str) and dup.json()["detail"]

    owner = await share(client, "errs", user, "alice")
    assert owner.status_code == 400
    assert owner.json()

    unknown = await share(client, "errs", user, "nobody")
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"detail"}

    missing = await client.post("/v2/apps/errs/perms", json={}, headers=user.headers)
    assert missing.status_code == 400
    assert missing.json() == {"username": ["This field is required."]}

    no_app = await share(client, "no-such-app", user, "bob")
    assert no_app.status_code == 404

    assert await users_of(client, "errs", user) == ["bob"]


async def test_unshare_by_owner(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "unshare")
    bob = await accounts.make("bob")
    await share(client, "unshare", user, "bob")
    assert (await client.get("/v2/apps/unshare", headers=bob.headers)).status_code == 200

    r = await client.delete("/v2/apps/unshare/perms/bob/", headers=user.headers)
    assert r.status_code == 204
    assert r.content == b""
    assert await users_of(client, "unshare", user) == []
    r = await client.get("/v2/apps/unshare", headers=bob.headers)
    assert r.status_code == 403
    assert r.json() == DENIED
    assert (await client.get("/v2/apps", headers=bob.headers)).json()["count"] == 0
    # Removing again: not a collaborator any more.
    again = await client.delete("/v2/apps/unshare/perms/bob", headers=user.headers)
    assert again.status_code == 404


async def test_unshare_self_and_others(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "selfish")
    bob = await accounts.make("bob")
    carol = await accounts.make("carol")
    await share(client, "selfish", user, "bob")
    await share(client, "selfish", user, "carol")

    r = await client.delete("/v2/apps/selfish/perms/carol", headers=bob.headers)
    assert r.status_code == 403
    assert r.json() == DENIED
    assert sorted(await users_of(client, "selfish", user)) == ["bob", "carol"]

    r = await client.delete("/v2/apps/selfish/perms/bob", headers=bob.headers)
    assert r.status_code == 204
    assert await users_of(client, "selfish", user) == ["carol"]
    assert (await client.get("/v2/apps/selfish", headers=bob.headers)).status_code == 403
    assert (await client.get("/v2/apps/selfish", headers=carol.headers)).status_code == 200


async def test_unshare_unknown(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "lonely")
    await accounts.make("bob")
    for name in ("nobody", "bob", "alice"):
        r = await client.delete(f"/v2/apps/lonely/perms/{name}", headers=user.headers)
        assert r.status_code == 404, name
        assert set(r.json()) == {"detail"}
    r = await client.delete("/v2/apps/no-such-app/perms/bob", headers=user.headers)
    assert r.status_code == 404


async def test_stranger_cannot_unshare(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "outsider")
    await accounts.make("bob")
    carol = await accounts.make("carol")
    await share(client, "outsider", user, "bob")
    r = await client.delete("/v2/apps/outsider/perms/bob", headers=carol.headers)
    assert r.status_code == 403
    assert await users_of(client, "outsider", user) == ["bob"]


async def test_superuser_can_do_all(
    client: httpx.AsyncClient, admin: Account, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "managed")
    bob = await accounts.make("bob")
    assert await users_of(client, "managed", admin) == []
    r = await share(client, "managed", admin, "bob")
    assert r.status_code == 201
    assert await users_of(client, "managed", admin) == ["bob"]
    assert (await client.get("/v2/apps/managed", headers=bob.headers)).status_code == 200
    # The superuser is not a collaborator, and the app is not theirs.
    assert (await client.get("/v2/apps/managed", headers=admin.headers)).json()["owner"] == "alice"

    r = await client.delete("/v2/apps/managed/perms/bob", headers=admin.headers)
    assert r.status_code == 204
    assert await users_of(client, "managed", admin) == []
    r = await client.get("/v2/apps/managed", headers=bob.headers)
    assert r.status_code == 403
