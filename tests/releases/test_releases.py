"""Releases through the HTTP API: list and detail, rollback (targets, errors, the restored
env), and failed deploys (marked failed, the previous release keeps serving)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from dockyard.scheduler.local.client import LocalScheduler
from tests.conftest import Account, create_app_for
from tests.releases.helpers import (
    build,
    built,
    configured,
    logs,
    message,
    pods,
    release,
    releases,
    run_output,
    scale,
    set_config,
    structure,
    web_env,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


async def rollback(
    client: httpx.AsyncClient, user: Account, app: str, version: object = ...
) -> httpx.Response:
    body = {} if version is ... else {"version": version}
    return await client.post(f"/v2/apps/{app}/releases/rollback", json=body, headers=user.headers)


async def config_values(client: httpx.AsyncClient, user: Account, app: str) -> dict[str, str]:
    r = await client.get(f"/v2/apps/{app}/config", headers=user.headers)
    assert r.status_code == 200
    return dict(r.json()["values"])


# --- list and detail ------------------------------------------------------------------------


async def test_list_and_detail(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "rel-list")
    for n in range(2, 6):
        await configured(client, user, "rel-list", values={f"K{n}": str(n)})
    r = await client.get("/v2/apps/rel-list/releases", headers=user.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 5
    assert [x["version"] for x in body["results"]] == [5, 4, 3, 2, 1]
    first = body["results"][-1]
    assert set(first) == {
        "uuid",
        "app",
        "owner",
        "created",
        "updated",
        "version",
        "summary",
        "failed",
        "config",
        "build",
    }
    assert UUID.match(first["uuid"]) and UUID.match(first["config"])
    assert TIMESTAMP.match(first["created"]) and TIMESTAMP.match(first["updated"])
    assert first["app"] == "rel-list" and first["owner"] == "alice"
    assert first["summary"] == "alice created initial release"
    assert first["failed"] is False and first["build"] is None
    assert len({x["config"] for x in body["results"]}) == 5

    # Pagination: newest first across pages.
    r = await client.get("/v2/apps/rel-list/releases?limit=2&offset=2", headers=user.headers)
    page = r.json()
    assert page["count"] == 5
    assert [x["version"] for x in page["results"]] == [3, 2]
    assert page["next"] and page["previous"]

    # Detail by "v3" or "3"; both equal the listed row.
    listed = {x["version"]: x for x in body["results"]}
    for ref in ("v3", "3", "v3/"):
        r = await client.get(f"/v2/apps/rel-list/releases/{ref}", headers=user.headers)
        assert r.status_code == 200, ref
        assert r.json() == listed[3]
    for ref in ("v9", "0", "vv3", "-1", "v", "99999999999"):
        r = await client.get(f"/v2/apps/rel-list/releases/{ref}", headers=user.headers)
        assert r.status_code == 404, ref


# --- rollback -------------------------------------------------------------------------------


async def test_rollback_restores_build_and_config(
    client: httpx.AsyncClient, user: Account, source: Path, scheduler: LocalScheduler
) -> None:
    await create_app_for(client, user, "rel-back")
    await configured(client, user, "rel-back", values={"GREETING": "one"})  # v2, no build
    first = await built(client, user, "rel-back", source)  # v3: version one, GREETING one
    # The previous release has no build: going back to it would leave the processes
    # running a release that is not current any more.
    for target in ({}, {"version": 2}):
        r = await client.post(
            "/v2/apps/rel-back/releases/rollback", json=target, headers=user.headers
        )
        assert r.status_code == 400
        assert r.json() == {"detail": "Cannot roll back to a release without a build."}
    await configured(client, user, "rel-back", values={"GREETING": "two"})  # v4
    (source / "version.txt").write_text("second\n")
    second = await built(client, user, "rel-back", source)  # v5: second, two
    (answer,) = await web_env(scheduler, "rel-back")
    assert (answer["version"], answer["env"]["GREETING"]) == ("second", "two")

    # The default target is the previous release: v4 (the first build, GREETING two).
    r = await rollback(client, user, "rel-back")
    assert r.status_code == 201, r.text
    assert r.json() == {"version": 6}
    v6, v4 = await release(client, user, "rel-back", 6), await release(client, user, "rel-back", 4)
    assert v6["summary"] == "alice rolled back to v4"
    assert (v6["build"], v6["config"]) == (v4["build"], v4["config"])
    assert v6["build"] == first["uuid"]
    (answer,) = await web_env(scheduler, "rel-back")
    assert (answer["version"], answer["env"]["GREETING"]) == ("one", "two")
    assert answer["env"]["WORKFLOW_RELEASE"] == "v6"
    assert answer["env"]["WORKFLOW_RELEASE_SUMMARY"] == "alice rolled back to v4"
    assert (await pods(client, user, "rel-back"))[0]["release"] == "v6"

    # An explicit target: v3 (GREETING one).
    r = await rollback(client, user, "rel-back", 3)
    assert r.status_code == 201
    assert r.json() == {"version": 7}
    assert await run_output(client, user, "rel-back", "echo $GREETING; cat version.txt") == (
        "one\none\n"
    )
    assert await config_values(client, user, "rel-back") == {"GREETING": "one"}
    # Forward again to the newest build, by a string version.
    r = await rollback(client, user, "rel-back", "5")
    assert r.json() == {"version": 8}
    (answer,) = await web_env(scheduler, "rel-back")
    assert (answer["version"], answer["env"]["GREETING"]) == ("second", "two")
    assert (await release(client, user, "rel-back", 8))["build"] == second["uuid"]
    # Config changes after a rollback start from the rolled-back config.
    r = await configured(client, user, "rel-back", values={"OTHER": "x"})
    assert r.json()["values"] == {"GREETING": "two", "OTHER": "x"}

    summaries = [x["summary"] for x in await releases(client, user, "rel-back")]
    assert summaries == [
        "alice added OTHER",
        "alice rolled back to v5",
        "alice rolled back to v3",
        "alice rolled back to v4",
        f"alice deployed {source}",
        "alice changed GREETING",
        f"alice deployed {source}",
        "alice added GREETING",
        "alice created initial release",
    ]
    assert "rel-back[dockyard]: alice rolled back to v5 (v8)" in await logs(
        client, user, "rel-back"
    )


async def test_rollback_without_a_build(client: httpx.AsyncClient, user: Account) -> None:
    """Rolling back config-only releases restores the config; nothing runs."""
    await create_app_for(client, user, "rel-nobuild")
    await configured(client, user, "rel-nobuild", values={"A": "1"})  # v2
    await configured(client, user, "rel-nobuild", values={"A": "2"})  # v3
    r = await rollback(client, user, "rel-nobuild")
    assert r.status_code == 201
    assert r.json() == {"version": 4}
    assert await config_values(client, user, "rel-nobuild") == {"A": "1"}
    assert (await release(client, user, "rel-nobuild", 4))["summary"] == "alice rolled back to v2"
    assert await pods(client, user, "rel-nobuild") == []
    # The previous release of v4 is v3.
    r = await rollback(client, user, "rel-nobuild")
    assert r.json() == {"version": 5}
    assert await config_values(client, user, "rel-nobuild") == {"A": "2"}
    assert (await release(client, user, "rel-nobuild", 5))["summary"] == "alice rolled back to v3"


async def test_rollback_errors(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "rel-err")
    # Only v1: there is nothing to go back to.
    r = await rollback(client, user, "rel-err")
    assert r.status_code == 400
    assert r.json() == {"detail": "Cannot roll back to initial release."}
    await configured(client, user, "rel-err", values={"A": "1"})  # v2
    r = await rollback(client, user, "rel-err")  # the previous one is v1
    assert r.status_code == 400
    assert r.json() == {"detail": "Cannot roll back to initial release."}
    r = await rollback(client, user, "rel-err", 1)
    assert r.status_code == 400
    assert r.json() == {"detail": "Cannot roll back to initial release."}
    for below in (-1, -100, 0):
        r = await rollback(client, user, "rel-err", below)
        assert r.status_code == 400, below
        assert r.json() == {"detail": "version cannot be below 0"}
    for missing in (99, 2**31, 2**62):
        r = await rollback(client, user, "rel-err", missing)
        assert r.status_code == 404
        assert message(r) == f"Release v{missing} does not exist."
    r = await rollback(client, user, "rel-err", "abc")
    assert r.status_code == 400
    assert r.json() == {"version": ["A valid integer is required."]}
    assert [x["version"] for x in await releases(client, user, "rel-err")] == [2, 1]


# --- failed deploys -------------------------------------------------------------------------


async def test_failed_build_keeps_the_previous_release_serving(
    client: httpx.AsyncClient,
    user: Account,
    source: Path,
    marker: str,
    scheduler: LocalScheduler,
) -> None:
    await create_app_for(client, user, "rel-fail")
    good = await built(client, user, "rel-fail", source)  # v2
    assert (await scale(client, user, "rel-fail", worker=1)).status_code == 204
    serving = sorted((p["name"], p["release"]) for p in await pods(client, user, "rel-fail"))
    (before,) = await web_env(scheduler, "rel-fail")

    # v3: web exits at once.
    procfile = {"web": "exit 3", "worker": f"python3 worker.py {marker}"}
    r = await build(client, user, "rel-fail", source, procfile=procfile)
    assert r.status_code == 400
    reason = message(r)
    assert re.match(r"^web pod rel-fail-web-\d+-[a-z0-9]{5} exited with status 3", reason), reason
    listed = await releases(client, user, "rel-fail")
    assert [(x["version"], x["failed"]) for x in listed] == [(3, True), (2, False), (1, False)]
    assert listed[0]["summary"] == f"alice deployed {source}"

    # The old pods still serve, untouched; the structure did not change.
    assert sorted((p["name"], p["release"]) for p in await pods(client, user, "rel-fail")) == (
        serving
    )
    assert all(p["state"] == "up" for p in await pods(client, user, "rel-fail"))
    (after,) = await web_env(scheduler, "rel-fail")
    assert after["pod"] == before["pod"]
    assert after["env"]["WORKFLOW_RELEASE"] == "v2"
    assert await structure(client, user, "rel-fail") == {"web": 1, "worker": 1}
    assert await run_output(client, user, "rel-fail", "echo $WORKFLOW_RELEASE") == "v2\n"
    assert f"deploy of v3 failed: {reason}" in await logs(client, user, "rel-fail")

    # A failed release cannot be a rollback target; the default target skips it.
    r = await rollback(client, user, "rel-fail", 3)
    assert r.status_code == 400
    assert r.json() == {"detail": "Cannot roll back to failed release."}

    # A config change after the failure builds on the release that runs (v2's build).
    r = await configured(client, user, "rel-fail", values={"GREETING": "after"})
    assert r.headers["Deis-Release"] == "4"
    v4 = await release(client, user, "rel-fail", 4)
    assert v4["build"] == good["uuid"]
    assert v4["failed"] is False
    assert await run_output(client, user, "rel-fail", "echo $GREETING $WORKFLOW_RELEASE") == (
        "after v4\n"
    )
    assert sorted((p["type"], p["release"]) for p in await pods(client, user, "rel-fail")) == [
        ("web", "v4"),
        ("worker", "v4"),
    ]
    r = await rollback(client, user, "rel-fail")
    assert r.json() == {"version": 5}
    assert (await release(client, user, "rel-fail", 5))["summary"] == "alice rolled back to v2"


async def test_failed_config_release_is_not_the_current_config(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    """A config that makes the processes crash: 400, the release is failed, the config the
    API shows and builds on is the one that runs."""
    await create_app_for(client, user, "rel-failcfg")
    await built(client, user, "rel-failcfg", source)  # v2
    await configured(client, user, "rel-failcfg", values={"GREETING": "ok"})  # v3
    web = [p["name"] for p in await pods(client, user, "rel-failcfg")]

    r = await set_config(client, user, "rel-failcfg", values={"CRASH": "4"})
    assert r.status_code == 400
    assert re.match(r"^web pod \S+ exited with status 4 before becoming ready$", message(r))
    assert (await release(client, user, "rel-failcfg", 4))["failed"] is True
    assert [p["name"] for p in await pods(client, user, "rel-failcfg")] == web
    assert await config_values(client, user, "rel-failcfg") == {"GREETING": "ok"}

    # CRASH is not in the running config: unsetting it is a 422, setting the same again a
    # new attempt (and a new failed release), and other changes start from the good config.
    r = await set_config(client, user, "rel-failcfg", values={"CRASH": None})
    assert r.status_code == 422
    r = await set_config(client, user, "rel-failcfg", values={"CRASH": "5"})
    assert r.status_code == 400
    assert "exited with status 5" in message(r)
    r = await configured(client, user, "rel-failcfg", values={"GREETING": "still"})
    assert r.headers["Deis-Release"] == "6"
    assert r.json()["values"] == {"GREETING": "still"}
    listed = await releases(client, user, "rel-failcfg")
    assert [(x["version"], x["failed"]) for x in listed] == [
        (6, False),
        (5, True),
        (4, True),
        (3, False),
        (2, False),
        (1, False),
    ]
    assert listed[0]["summary"] == "alice changed GREETING"
    # The default rollback target skips the failed ones: v3.
    r = await rollback(client, user, "rel-failcfg")
    assert r.json() == {"version": 7}
    assert (await release(client, user, "rel-failcfg", 7))["summary"] == ("alice rolled back to v3")
    assert await run_output(client, user, "rel-failcfg", "echo $GREETING") == "ok\n"


async def test_failed_first_build(
    client: httpx.AsyncClient, user: Account, source: Path, marker: str
) -> None:
    """The very first deploy fails: nothing runs, the structure stays empty, and the next
    good build starts web as usual."""
    await create_app_for(client, user, "rel-firstfail")
    r = await build(client, user, "rel-firstfail", source, procfile={"web": "exit 9"})
    assert r.status_code == 400
    assert "exited with status 9" in message(r)
    assert await pods(client, user, "rel-firstfail") == []
    assert await structure(client, user, "rel-firstfail") == {}
    # No good build: scale and run refuse as with no build at all.
    r = await scale(client, user, "rel-firstfail", web=1)
    assert r.status_code == 400
    assert message(r) == "No build associated with this release"
    r = await client.post(
        "/v2/apps/rel-firstfail/run", json={"command": "true"}, headers=user.headers
    )
    assert r.status_code == 400
    assert message(r) == "No build associated with this release to run this command"
    await built(client, user, "rel-firstfail", source)
    assert await structure(client, user, "rel-firstfail") == {"web": 1}
    assert [(p["type"], p["release"]) for p in await pods(client, user, "rel-firstfail")] == [
        ("web", "v3")
    ]


@pytest.mark.parametrize("version", [2.5, [2], "v2", {"v": 2}])
async def test_rollback_version_must_be_an_integer(
    client: httpx.AsyncClient, user: Account, version: object
) -> None:
    await create_app_for(client, user, "rel-int")
    await configured(client, user, "rel-int", values={"A": "1"})
    await configured(client, user, "rel-int", values={"A": "2"})
    r = await rollback(client, user, "rel-int", version)
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["version"]
