"""v1 builds and releases as the Deis v1 clients use them: ``deis builds:create`` (the new
release number in ``Deis-Release``), ``builds:list``, ``releases:list``, ``releases:info``
and ``releases:rollback``; v1 and v2 see the same releases."""

from __future__ import annotations

from pathlib import Path

import httpx

from dockyard.releases.sources import check_local_image, untagged
from tests.conftest import Account, Accounts, create_app_for
from tests.releases.helpers import configured, web_env, write_app
from tests.v1.helpers import TIMESTAMP, message, py

SHA = "060da68f654e75fac06dbedd1995d5f8ad9084db"
RELEASE_FIELDS = {
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


async def test_builds_create_and_list(
    client: httpx.AsyncClient, user: Account, source: Path, marker: str
) -> None:
    await py(client, user, "POST", "/v1/apps", {"id": "bld"})
    procfile = {"web": f"python3 web.py {marker}"}
    r = await py(
        client, user, "POST", "/v1/apps/bld/builds", {"image": str(source), "procfile": procfile}
    )
    assert r.status_code == 201, r.text
    assert r.headers["Deis-Release"] == r.headers["X-Deis-Release"] == "2"
    build = r.json()
    assert (build["app"], build["owner"], build["image"]) == ("bld", "alice", str(source))
    assert build["procfile"] == procfile
    assert TIMESTAMP.match(build["created"])

    # The Go v1 client: slashed path, page_size.
    r = await py(client, user, "GET", "/v1/apps/bld/builds/?page_size=10")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1
    assert body["results"][0]["uuid"] == build["uuid"]

    # The release v2 shows carries that build; the app runs.
    rel = (await client.get("/v2/apps/bld/releases/v2", headers=user.headers)).json()
    assert rel["build"] == build["uuid"]
    assert rel["summary"] == f"alice deployed {source}"
    assert (await client.get("/v2/apps/bld", headers=user.headers)).json()["structure"] == {
        "web": 1
    }


async def test_build_errors(client: httpx.AsyncClient, user: Account, source: Path) -> None:
    await create_app_for(client, user, "bld-err")
    r = await py(client, user, "POST", "/v1/apps/bld-err/builds", {})
    assert r.status_code == 400
    assert r.json() == {"image": ["This field is required."]}
    r = await py(
        client,
        user,
        "POST",
        "/v1/apps/bld-err/builds",
        {"image": str(source), "procfile": {"web": ""}},
    )
    assert r.status_code == 400
    assert "Command can't be empty for process type" in message(r)


async def test_releases_list_info_rollback(
    client: httpx.AsyncClient, user: Account, tmp_path: Path, marker: str, scheduler: object
) -> None:
    await py(client, user, "POST", "/v1/apps", {"id": "rel"})
    one = write_app(tmp_path / "one", marker, version="one")
    two = write_app(tmp_path / "two", marker, version="two")
    for src, sha in ((one, SHA), (two, "1" * 40)):
        r = await py(client, user, "POST", "/v1/apps/rel/builds", {"image": str(src), "sha": sha})
        assert r.status_code == 201, r.text
    await configured(client, user, "rel", values={"A": "1"})

    # deis releases:list
    r = await py(client, user, "GET", "/v1/apps/rel/releases")
    assert r.status_code == 200
    listed = r.json()["results"]
    assert [rel["version"] for rel in listed] == [4, 3, 2, 1]
    assert set(listed[0]) == RELEASE_FIELDS
    assert [rel["summary"] for rel in listed] == [
        "alice added A",
        "alice deployed 1111111",
        "alice deployed 060da68",
        "alice created initial release",
    ]
    assert listed[-1]["build"] is None
    assert all(TIMESTAMP.match(rel["created"]) for rel in listed)

    # deis releases:info v2 ; the docs' slashed form; a bare number
    for path in (
        "/v1/apps/rel/releases/v2",
        "/v1/apps/rel/releases/v2/",
        "/v1/apps/rel/releases/2",
    ):
        r = await py(client, user, "GET", path)
        assert r.status_code == 200, path
        assert r.json() == listed[2]
    r = await py(client, user, "GET", "/v1/apps/rel/releases/v99")
    assert r.status_code == 404
    assert r.json() == {"detail": "No Release matches the given query."}

    # deis releases:rollback v2
    r = await py(client, user, "POST", "/v1/apps/rel/releases/rollback", {"version": 2})
    assert r.status_code == 201, r.text
    assert r.json() == {"version": 5}
    (web,) = await web_env(scheduler, "rel")
    assert web["version"] == "one"
    # deis releases:rollback (one release back: to v4, the previous one)
    r = await py(client, user, "POST", "/v1/apps/rel/releases/rollback/", {})
    assert r.status_code == 201
    assert r.json() == {"version": 6}
    (web,) = await web_env(scheduler, "rel")
    assert (web["version"], web["env"]["A"]) == ("two", "1")

    # v2 shows the rollbacks made through v1.
    v2 = (await client.get("/v2/apps/rel/releases", headers=user.headers)).json()["results"]
    assert [rel["summary"] for rel in v2[:2]] == [
        "alice rolled back to v4",
        "alice rolled back to v2",
    ]

    for body, text in (
        ({"version": 1}, "Cannot roll back to initial release."),
        ({"version": -1}, "version cannot be below 0"),
    ):
        r = await py(client, user, "POST", "/v1/apps/rel/releases/rollback", body)
        assert r.status_code == 400
        assert message(r) == text
    r = await py(client, user, "POST", "/v1/apps/rel/releases/rollback", {"version": 42})
    assert r.status_code == 404


async def test_release_made_in_v1_shows_in_v2_and_back(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await py(client, user, "POST", "/v1/apps", {"id": "both"})
    await py(client, user, "POST", "/v1/apps/both/config", {"values": '{"X": "1"}'})
    await configured(client, user, "both", values={"Y": "2"})
    v1 = (await py(client, user, "GET", "/v1/apps/both/releases")).json()
    v2 = (await client.get("/v2/apps/both/releases", headers=user.headers)).json()
    assert v1["results"] == v2["results"]
    assert v1["count"] == 3

    bob = await accounts.make("bob")
    r = await py(client, bob, "GET", "/v1/apps/both/releases")
    assert r.status_code == 403


def test_untagged_local_sources(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    assert untagged(tmp_path / "app:latest") == app
    assert untagged(tmp_path / "app:v1.2_3") == app
    assert untagged(app) == app
    assert untagged(tmp_path / "gone:latest") == tmp_path / "gone:latest"
    assert untagged(tmp_path / ":latest") == tmp_path / ":latest"
    tagged = tmp_path / "real:tag"  # a path that exists as given wins
    tagged.mkdir()
    assert untagged(tagged) == tagged
    assert untagged(tmp_path / ("x" * 300 + ":latest")) == tmp_path / ("x" * 300 + ":latest")
    assert check_local_image(f"{app}:latest", [tmp_path]) == app


async def test_builds_create_with_a_tag(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    """``deis builds:create`` refuses an image without a tag: a local source takes one."""
    await py(client, user, "POST", "/v1/apps", {"id": "tagged"})
    r = await py(client, user, "POST", "/v1/apps/tagged/builds", {"image": f"{source}:latest"})
    assert r.status_code == 201, r.text
    assert r.headers["Deis-Release"] == "2"
    assert r.json()["image"] == f"{source}:latest"
