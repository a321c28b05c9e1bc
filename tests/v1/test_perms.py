"""v1 permissions as the Deis v1 clients use them: ``deis perms:list|create|delete`` on an
app and with ``--admin``; the reference's status codes (201 create, 204 delete) and 403s."""

from __future__ import annotations

import httpx

from tests.conftest import Account, Accounts, create_app_for
from tests.v1.helpers import py

DENIED = {"detail": "You do not have permission to perform this action."}


async def test_app_perms(client: httpx.AsyncClient, user: Account, accounts: Accounts) -> None:
    bob = await accounts.make("bob")
    await create_app_for(client, user, "shared")
    assert (await py(client, bob, "GET", "/v1/apps/shared")).status_code == 403

    r = await py(client, user, "POST", "/v1/apps/shared/perms", {"username": "bob"})
    assert r.status_code == 201, r.text
    r = await py(client, user, "GET", "/v1/apps/shared/perms")
    assert r.status_code == 200
    assert r.json() == {"users": ["bob"]}
    # The collaborator now sees and uses the app, but may not destroy it.
    assert (await py(client, bob, "GET", "/v1/apps")).json()["count"] == 1
    assert (await py(client, bob, "GET", "/v1/apps/shared/")).status_code == 200
    r = await py(client, bob, "DELETE", "/v1/apps/shared")
    assert r.status_code == 403
    assert r.json() == DENIED
    r = await py(client, bob, "POST", "/v1/apps/shared/perms", {"username": "alice"})
    assert r.status_code in (400, 403)

    r = await py(client, user, "POST", "/v1/apps/shared/perms", {"username": "bob"})
    assert r.status_code == 409
    r = await py(client, user, "POST", "/v1/apps/shared/perms", {"username": "nobody"})
    assert r.status_code == 404

    r = await py(client, user, "DELETE", "/v1/apps/shared/perms/bob")
    assert r.status_code == 204
    assert r.content == b""
    assert (await py(client, user, "GET", "/v1/apps/shared/perms/")).json() == {"users": []}
    assert (await py(client, bob, "GET", "/v1/apps/shared")).status_code == 403

    # The v1.2 reference documents removal as a POST to perms/<user>.
    await py(client, user, "POST", "/v1/apps/shared/perms", {"username": "bob"})
    r = await py(client, user, "POST", "/v1/apps/shared/perms/bob")
    assert r.status_code == 204
    assert (await py(client, user, "GET", "/v1/apps/shared/perms")).json() == {"users": []}
    # A collaborator may remove themselves.
    await py(client, user, "POST", "/v1/apps/shared/perms", {"username": "bob"})
    assert (await py(client, bob, "DELETE", "/v1/apps/shared/perms/bob")).status_code == 204


async def test_admin_perms(
    client: httpx.AsyncClient, admin: Account, user: Account, accounts: Accounts
) -> None:
    r = await py(client, admin, "GET", "/v1/admin/perms")
    assert r.status_code == 200
    assert r.json()["results"] == [{"username": "admin-user", "is_superuser": True}]
    r = await py(client, user, "GET", "/v1/admin/perms/")
    assert r.status_code == 403
    assert r.json() == DENIED
    r = await py(client, user, "POST", "/v1/admin/perms", {"username": "alice"})
    assert r.status_code == 403

    r = await py(client, admin, "POST", "/v1/admin/perms", {"username": "alice"})
    assert r.status_code == 201
    r = await py(client, admin, "GET", "/v1/admin/perms?page_size=1")
    assert r.json()["count"] == 2 and len(r.json()["results"]) == 1
    # Alice is a superuser now: she sees every app and the user list.
    bob = await accounts.make("bob")
    await create_app_for(client, bob, "bobs")
    assert (await py(client, user, "GET", "/v1/apps/bobs")).status_code == 200

    r = await py(client, admin, "DELETE", "/v1/admin/perms/alice")
    assert r.status_code == 204
    assert (await py(client, user, "GET", "/v1/apps/bobs")).status_code == 403
    r = await py(client, admin, "DELETE", "/v1/admin/perms/alice")
    assert r.status_code == 404
