"""Applications through the HTTP API: create, list, detail, transfer, destroy, release v1."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select, update

from dockyard.accounts.models import User
from dockyard.apps import service
from dockyard.apps.models import Collaborator
from dockyard.db.session import Database
from dockyard.releases.models import Config, Release
from tests.conftest import Account, Accounts, create_app_for

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
GENERATED = re.compile(r"^[a-z]+-[a-z]+$")
APP_ID_MESSAGE = (
    "App name must start with an alphabetic character, cannot end with a hyphen and can "
    "only contain a-z (lowercase), 0-9 and hyphens."
)
DENIED = {"detail": "You do not have permission to perform this action."}


def assert_app_shape(body: dict, app_id: str, owner: str) -> None:
    assert set(body) == {"uuid", "id", "owner", "structure", "url", "created", "updated"}
    assert UUID.match(body["uuid"])
    assert body["id"] == app_id
    assert body["owner"] == owner
    assert body["structure"] == {}
    assert body["url"] == f"{app_id}.example.test:8080"  # the edge router's port
    assert TIMESTAMP.match(body["created"])
    assert TIMESTAMP.match(body["updated"])


# --- create -------------------------------------------------------------------------------


async def test_create_with_id(client: httpx.AsyncClient, user: Account) -> None:
    r = await client.post("/v2/apps/", json={"id": "example-go"}, headers=user.headers)
    assert r.status_code == 201, r.text
    assert_app_shape(r.json(), "example-go", "alice")


async def test_create_with_empty_body_generates_name(
    client: httpx.AsyncClient, user: Account
) -> None:
    r = await client.post("/v2/apps", json={}, headers=user.headers)
    assert r.status_code == 201, r.text
    name = r.json()["id"]
    assert GENERATED.match(name), name
    assert_app_shape(r.json(), name, "alice")
    detail = await client.get(f"/v2/apps/{name}", headers=user.headers)
    assert detail.status_code == 200
    assert detail.json()["uuid"] == r.json()["uuid"]


async def test_create_with_no_body_at_all_generates_name(
    client: httpx.AsyncClient, user: Account
) -> None:
    r = await client.post("/v2/apps/", headers=user.headers)
    assert r.status_code == 201, r.text
    assert GENERATED.match(r.json()["id"]), r.json()
    # A second one gets a different name.
    r2 = await client.post("/v2/apps/", headers=user.headers)
    assert r2.status_code == 201, r2.text
    assert r2.json()["id"] != r.json()["id"]


async def test_generated_name_retries_on_collision_and_reserved(
    client: httpx.AsyncClient, user: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_app_for(client, user, "taken-name")
    candidates = iter(["taken-name", "reserved-app", "fresh-name"])
    monkeypatch.setattr(service, "generate_name", lambda: next(candidates))
    r = await client.post("/v2/apps/", json={}, headers=user.headers)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "fresh-name"


async def test_generated_name_falls_back_when_pairs_keep_colliding(
    client: httpx.AsyncClient, user: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_app_for(client, user, "taken-name")
    monkeypatch.setattr(service, "generate_name", lambda: "taken-name")
    r = await client.post("/v2/apps/", headers=user.headers)
    assert r.status_code == 201, r.text
    name = r.json()["id"]
    assert name != "taken-name"
    assert re.match(r"^[a-z]([a-z0-9-]*[a-z0-9])?$", name) and len(name) <= 63


async def test_create_requires_auth(client: httpx.AsyncClient) -> None:
    r = await client.post("/v2/apps/", json={"id": "no-auth"})
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not provided."}


INVALID_IDS = [
    "Upper",
    "1leading-digit",
    "trailing-hyphen-",
    "under_score",
    "a" * 64,
    "-lead",
    "dot.app",
]


async def test_create_invalid_id(client: httpx.AsyncClient, user: Account) -> None:
    for bad_id in INVALID_IDS:
        r = await client.post("/v2/apps/", json={"id": bad_id}, headers=user.headers)
        assert r.status_code == 400, (bad_id, r.text)
        assert r.json() == {"id": [APP_ID_MESSAGE]}, bad_id
    listing = await client.get("/v2/apps", headers=user.headers)
    assert listing.json()["count"] == 0


async def test_create_63_chars_and_single_letter_ok(
    client: httpx.AsyncClient, user: Account
) -> None:
    long_id = "a" + "b1-" * 20 + "cd"
    assert len(long_id) == 63
    for app_id in (long_id, "x"):
        r = await client.post("/v2/apps/", json={"id": app_id}, headers=user.headers)
        assert r.status_code == 201, r.text
        assert r.json()["id"] == app_id


async def test_create_reserved_name(client: httpx.AsyncClient, user: Account) -> None:
    r = await client.post("/v2/apps/", json={"id": "reserved-app"}, headers=user.headers)
    assert r.status_code == 400
    assert r.json() == {"id": ["reserved-app is a reserved name."]}


async def test_create_duplicate(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "taken")
    bob = await accounts.make("bob")
    for who in (user, bob):
        r = await client.post("/v2/apps/", json={"id": "taken"}, headers=who.headers)
        assert r.status_code == 400
        assert r.json() == {"id": ["Application with this id already exists."]}
    detail = await client.get("/v2/apps/taken", headers=user.headers)
    assert detail.json()["owner"] == "alice"


# --- list and detail ----------------------------------------------------------------------


async def test_list_shows_owned_and_shared_only_superuser_sees_all(
    client: httpx.AsyncClient, admin: Account, user: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    await create_app_for(client, user, "alice-app")
    await create_app_for(client, bob, "bob-private")
    await create_app_for(client, bob, "bob-shared")
    await create_app_for(client, admin, "admin-app")
    r = await client.post(
        "/v2/apps/bob-shared/perms", json={"username": "alice"}, headers=bob.headers
    )
    assert r.status_code == 201

    alice_list = (await client.get("/v2/apps", headers=user.headers)).json()
    assert alice_list["count"] == 2
    assert alice_list["next"] is None and alice_list["previous"] is None
    assert sorted(a["id"] for a in alice_list["results"]) == ["alice-app", "bob-shared"]
    shared = next(a for a in alice_list["results"] if a["id"] == "bob-shared")
    assert_app_shape(shared, "bob-shared", "bob")

    bob_list = (await client.get("/v2/apps", headers=bob.headers)).json()
    assert sorted(a["id"] for a in bob_list["results"]) == ["bob-private", "bob-shared"]

    admin_list = (await client.get("/v2/apps", headers=admin.headers)).json()
    assert admin_list["count"] == 4
    assert sorted(a["id"] for a in admin_list["results"]) == [
        "admin-app",
        "alice-app",
        "bob-private",
        "bob-shared",
    ]


async def test_list_requires_auth(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/apps")
    assert r.status_code == 401


async def test_detail(client: httpx.AsyncClient, user: Account) -> None:
    created = await create_app_for(client, user, "detail-app")
    r = await client.get("/v2/apps/detail-app/", headers=user.headers)
    assert r.status_code == 200
    assert r.json() == created


async def test_detail_stranger_forbidden_unknown_404(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "private-app")
    bob = await accounts.make("bob")
    r = await client.get("/v2/apps/private-app", headers=bob.headers)
    assert r.status_code == 403
    assert r.json() == DENIED
    for path in ("/v2/apps/private-app/releases", "/v2/apps/private-app/perms"):
        r = await client.get(path, headers=bob.headers)
        assert r.status_code == 403, path
    assert (await client.delete("/v2/apps/private-app", headers=bob.headers)).status_code == 403
    r = await client.get("/v2/apps/no-such-app", headers=user.headers)
    assert r.status_code == 404
    assert set(r.json()) == {"detail"}


# --- release v1 ---------------------------------------------------------------------------


async def test_create_makes_release_v1(client: httpx.AsyncClient, user: Account) -> None:
    app = await create_app_for(client, user, "rel-app")
    r = await client.get("/v2/apps/rel-app/releases/", headers=user.headers)
    assert r.status_code == 200
    page = r.json()
    assert page["count"] == 1
    assert page["next"] is None and page["previous"] is None
    (release,) = page["results"]
    assert set(release) == {
        "uuid",
        "app",
        "owner",
        "version",
        "summary",
        "failed",
        "config",
        "build",
        "created",
        "updated",
    }
    assert release["app"] == "rel-app"
    assert release["owner"] == "alice"
    assert release["version"] == 1
    assert release["summary"] == "alice created initial release"
    assert release["build"] is None
    assert release["failed"] is False
    assert UUID.match(release["uuid"]) and UUID.match(release["config"])
    assert TIMESTAMP.match(release["created"]) and TIMESTAMP.match(release["updated"])
    assert release["uuid"] != app["uuid"]

    for version in ("v1", "1", "v1/"):
        r = await client.get(f"/v2/apps/rel-app/releases/{version}", headers=user.headers)
        assert r.status_code == 200, version
        assert r.json() == release
    for version in ("v9", "9", "v0", "latest", "v-1"):
        r = await client.get(f"/v2/apps/rel-app/releases/{version}", headers=user.headers)
        assert r.status_code == 404, version
        assert set(r.json()) == {"detail"}


async def test_releases_of_unknown_app_404(client: httpx.AsyncClient, user: Account) -> None:
    assert (await client.get("/v2/apps/ghost/releases", headers=user.headers)).status_code == 404
    r = await client.get("/v2/apps/ghost/releases/v1", headers=user.headers)
    assert r.status_code == 404


# --- transfer -----------------------------------------------------------------------------


async def test_transfer_by_owner(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    created = await create_app_for(client, user, "moving")
    bob = await accounts.make("bob")
    r = await client.post("/v2/apps/moving", json={"owner": "bob"}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert r.json()["owner"] == "bob"
    assert r.json()["uuid"] == created["uuid"]
    assert TIMESTAMP.match(r.json()["updated"])

    r = await client.get("/v2/apps/moving", headers=bob.headers)
    assert r.status_code == 200
    assert r.json()["owner"] == "bob"
    r = await client.get("/v2/apps/moving", headers=user.headers)
    assert r.status_code == 403
    assert r.json() == DENIED
    bob_list = (await client.get("/v2/apps", headers=bob.headers)).json()
    assert [a["id"] for a in bob_list["results"]] == ["moving"]
    alice_list = (await client.get("/v2/apps", headers=user.headers)).json()
    assert alice_list["count"] == 0


async def test_transfer_without_owner_changes_nothing(
    client: httpx.AsyncClient, user: Account
) -> None:
    created = await create_app_for(client, user, "staying")
    r = await client.post("/v2/apps/staying/", json={}, headers=user.headers)
    assert r.status_code == 200
    assert r.json()["owner"] == "alice"
    assert r.json()["uuid"] == created["uuid"]


async def test_transfer_by_collaborator_forbidden(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "kept")
    bob = await accounts.make("bob")
    r = await client.post("/v2/apps/kept/perms", json={"username": "bob"}, headers=user.headers)
    assert r.status_code == 201
    r = await client.post("/v2/apps/kept", json={"owner": "bob"}, headers=bob.headers)
    assert r.status_code == 403
    assert r.json() == DENIED
    assert (await client.get("/v2/apps/kept", headers=user.headers)).json()["owner"] == "alice"


async def test_transfer_by_stranger_forbidden(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "kept")
    bob = await accounts.make("bob")
    r = await client.post("/v2/apps/kept", json={"owner": "bob"}, headers=bob.headers)
    assert r.status_code == 403
    assert (await client.get("/v2/apps/kept", headers=user.headers)).json()["owner"] == "alice"


async def test_transfer_to_unknown_user(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "kept")
    r = await client.post("/v2/apps/kept", json={"owner": "nobody"}, headers=user.headers)
    assert r.status_code == 404
    assert set(r.json()) == {"detail"}
    assert (await client.get("/v2/apps/kept", headers=user.headers)).json()["owner"] == "alice"


async def test_transfer_by_superuser(
    client: httpx.AsyncClient, admin: Account, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "seized")
    bob = await accounts.make("bob")
    r = await client.post("/v2/apps/seized", json={"owner": "bob"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["owner"] == "bob"
    assert (await client.get("/v2/apps/seized", headers=bob.headers)).status_code == 200
    assert (await client.get("/v2/apps/seized", headers=user.headers)).status_code == 403


async def test_transfer_to_collaborator_drops_their_share(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "handover")
    bob = await accounts.make("bob")
    await client.post("/v2/apps/handover/perms", json={"username": "bob"}, headers=user.headers)
    r = await client.post("/v2/apps/handover", json={"owner": "bob"}, headers=user.headers)
    assert r.status_code == 200
    perms = await client.get("/v2/apps/handover/perms", headers=bob.headers)
    assert perms.json() == {"users": []}


# --- destroy ------------------------------------------------------------------------------


async def test_destroy_by_owner(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "doomed")
    r = await client.delete("/v2/apps/doomed/", headers=user.headers)
    assert r.status_code == 204
    assert r.content == b""
    assert (await client.get("/v2/apps/doomed", headers=user.headers)).status_code == 404
    assert (await client.delete("/v2/apps/doomed", headers=user.headers)).status_code == 404
    assert (await client.get("/v2/apps", headers=user.headers)).json()["count"] == 0


async def test_destroy_by_collaborator_forbidden(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "survivor")
    bob = await accounts.make("bob")
    await client.post("/v2/apps/survivor/perms", json={"username": "bob"}, headers=user.headers)
    r = await client.delete("/v2/apps/survivor", headers=bob.headers)
    assert r.status_code == 403
    assert r.json() == DENIED
    assert (await client.get("/v2/apps/survivor", headers=user.headers)).status_code == 200


async def test_destroy_by_superuser(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    await create_app_for(client, user, "doomed")
    r = await client.delete("/v2/apps/doomed", headers=admin.headers)
    assert r.status_code == 204
    assert (await client.get("/v2/apps/doomed", headers=user.headers)).status_code == 404


async def test_destroy_removes_releases_and_collaborators(
    client: httpx.AsyncClient, user: Account, accounts: Accounts, clean_db: Database
) -> None:
    old = await create_app_for(client, user, "phoenix")
    bob = await accounts.make("bob")
    await client.post("/v2/apps/phoenix/perms", json={"username": "bob"}, headers=user.headers)
    assert (await client.delete("/v2/apps/phoenix", headers=user.headers)).status_code == 204

    async with clean_db.session() as session:
        for model in (Release, Config, Collaborator):
            left = await session.scalar(
                select(func.count()).select_from(model).where(model.app_uuid == old["uuid"])
            )
            assert left == 0, model.__name__

    new = await create_app_for(client, user, "phoenix")
    assert new["uuid"] != old["uuid"]
    assert (await client.get("/v2/apps/phoenix", headers=bob.headers)).status_code == 403
    perms = await client.get("/v2/apps/phoenix/perms", headers=user.headers)
    assert perms.json() == {"users": []}
    releases = (await client.get("/v2/apps/phoenix/releases", headers=user.headers)).json()
    assert releases["count"] == 1
    assert releases["results"][0]["version"] == 1
    assert releases["results"][0]["summary"] == "alice created initial release"


async def test_inactive_user_token_is_refused_on_every_path(
    client: httpx.AsyncClient, user: Account, database: Database
) -> None:
    await create_app_for(client, user, "inactive-app")
    async with database.session() as session:
        await session.execute(
            update(User).where(User.username == user.username).values(is_active=False)
        )
        await session.commit()
    # The list and detail authenticate through the reader, the rest through a session.
    for path in ("/v2/apps", "/v2/apps/inactive-app", "/v2/auth/whoami", "/v2/keys"):
        r = await client.get(path, headers=user.headers)
        assert r.status_code == 401, path
        assert r.json() == {"detail": "Invalid token."}, path


async def test_collaborator_reads_detail_and_list_count_past_the_end(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    created = await create_app_for(client, bob, "bob-shares")
    await create_app_for(client, bob, "bob-keeps")
    r = await client.post(
        "/v2/apps/bob-shares/perms", json={"username": "alice"}, headers=bob.headers
    )
    assert r.status_code == 201
    r = await client.get("/v2/apps/bob-shares", headers=user.headers)
    assert r.status_code == 200
    assert r.json() == created
    assert (await client.get("/v2/apps/bob-keeps", headers=user.headers)).status_code == 403
    for offset in ("1", "99999999999999999999999"):
        r = await client.get(f"/v2/apps?offset={offset}", headers=user.headers)
        assert r.status_code == 200, offset
        assert r.json()["count"] == 1 and r.json()["results"] == [], offset
