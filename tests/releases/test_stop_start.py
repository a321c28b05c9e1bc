"""Stopping and starting process types (``POST /v2/apps/<id>/stop|start {"types": [...]}``)
through the HTTP API: a scale to 0 that remembers the counts, kept in the database, and
back; the errors; the permissions; and the services list (``GET /v2/apps/<id>/services``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.apps import service_ports
from dockyard.scheduler.base import ProcessSpec, ReleaseSpec
from dockyard.scheduler.kubernetes import manifests
from tests.conftest import Account, Accounts, create_app_for
from tests.releases.helpers import built, configured, logs, pods, scale, structure

DENIED = {"detail": "You do not have permission to perform this action."}
NO_TYPES = {"types": ["types is a required field: name at least one process type"]}


async def post(
    client: httpx.AsyncClient, user: Account, app: str, action: str, body: Any
) -> httpx.Response:
    return await client.post(f"/v2/apps/{app}/{action}/", json=body, headers=user.headers)


def counts(listed: list[dict[str, str]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for pod in listed:
        found[pod["type"]] = found.get(pod["type"], 0) + 1
    return found


async def test_stop_and_start(
    client: httpx.AsyncClient, user: Account, source: Path, marker: str
) -> None:
    await create_app_for(client, user, "halts")
    await built(client, user, "halts", source)
    assert (await scale(client, user, "halts", web=2, worker=1)).status_code == 204
    assert counts(await pods(client, user, "halts")) == {"web": 2, "worker": 1}

    r = await post(client, user, "halts", "stop", {"types": ["web"]})
    assert (r.status_code, r.content) == (204, b"")
    assert counts(await pods(client, user, "halts")) == {"worker": 1}
    assert await structure(client, user, "halts") == {"web": 0, "worker": 1}
    # Stopping again keeps the count remembered first.
    r = await post(client, user, "halts", "stop", {"types": ["web", "web"]})
    assert r.status_code == 204
    r = await post(client, user, "halts", "stop", {"types": ["worker"]})
    assert r.status_code == 204
    assert await pods(client, user, "halts") == []

    r = await post(client, user, "halts", "start", {"types": ["web", "worker"]})
    assert (r.status_code, r.content) == (204, b"")
    listed = await pods(client, user, "halts")
    assert counts(listed) == {"web": 2, "worker": 1}
    assert {p["state"] for p in listed} == {"up"}
    assert await structure(client, user, "halts") == {"web": 2, "worker": 1}
    # Nothing remembered any more: a second start leaves everything as it is.
    names = sorted(p["name"] for p in listed)
    r = await post(client, user, "halts", "start", {"types": ["web"]})
    assert r.status_code == 204
    assert sorted(p["name"] for p in await pods(client, user, "halts")) == names

    text = await logs(client, user, "halts")
    assert "alice stopped pods web" in text
    assert "alice started pods web=2 worker=1" in text


async def test_start_of_what_was_never_stopped_is_a_no_op(
    client: httpx.AsyncClient, user: Account, source: Path, marker: str
) -> None:
    await create_app_for(client, user, "idles")
    await built(client, user, "idles", source)  # web=1, worker never scaled
    r = await post(client, user, "idles", "start", {"types": ["worker", "web"]})
    assert r.status_code == 204
    assert counts(await pods(client, user, "idles")) == {"web": 1}
    # Stopping a type at 0 remembers nothing: starting it leaves it at 0.
    assert (await post(client, user, "idles", "stop", {"types": ["worker"]})).status_code == 204
    assert (await post(client, user, "idles", "start", {"types": ["worker"]})).status_code == 204
    assert await structure(client, user, "idles") == {"web": 1, "worker": 0}
    # A scale after a stop sets the count anew: start then has nothing to bring back.
    assert (await post(client, user, "idles", "stop", {"types": ["web"]})).status_code == 204
    assert (await scale(client, user, "idles", web=2)).status_code == 204
    assert (await scale(client, user, "idles", web=0)).status_code == 204
    assert (await post(client, user, "idles", "start", {"types": ["web"]})).status_code == 204
    assert await structure(client, user, "idles") == {"web": 0, "worker": 0}


async def test_remembered_counts_survive_a_restart(
    client: httpx.AsyncClient,
    user: Account,
    source: Path,
    marker: str,
    settings: Any,
    clean_db: Any,
    scheduler: Any,
) -> None:
    """The counts live in the database: a new API instance (a restarted server) starts
    what the old one stopped."""
    from dockyard.api.app import create_app

    await create_app_for(client, user, "sleeper")
    await built(client, user, "sleeper", source)
    assert (await scale(client, user, "sleeper", web=2)).status_code == 204
    assert (await post(client, user, "sleeper", "stop", {"types": ["web"]})).status_code == 204
    fresh = create_app(settings, database=clean_db, scheduler=scheduler)
    transport = httpx.ASGITransport(app=fresh)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        r = await post(other, user, "sleeper", "start", {"types": ["web"]})
        assert r.status_code == 204
        assert counts(await pods(other, user, "sleeper")) == {"web": 2}


@pytest.mark.parametrize("action", ["stop", "start"])
async def test_errors(
    client: httpx.AsyncClient, user: Account, source: Path, marker: str, action: str
) -> None:
    await create_app_for(client, user, "broken")
    r = await post(client, user, "broken", action, {"types": ["web"]})
    assert (r.status_code, r.json()) == (400, {"detail": "No build associated with this release"})
    await built(client, user, "broken", source)
    for body, answer in (
        ({}, NO_TYPES),
        ({"types": []}, NO_TYPES),
        ({"types": None}, NO_TYPES),
        (None, NO_TYPES),
        ({"types": ["clock"]}, {"detail": "Container type clock does not exist in application"}),
        (
            {"types": ["web", "clock", "Bad Type"]},
            {"detail": "Container types clock, Bad Type do not exist in application"},
        ),
        ({"types": "web"}, None),
        ({"types": [1]}, None),
        ({"types": ["x" * 64]}, None),
        ({"types": ["web"] * 101}, None),
        ({"types": {"web": 1}}, None),
    ):
        r = await post(client, user, "broken", action, body)
        assert r.status_code == 400, (body, r.text)
        if answer is not None:
            assert r.json() == answer, body
        else:
            assert list(r.json()) == ["types"], r.json()
    r = await client.post(
        f"/v2/apps/broken/{action}",
        content=b"[1",
        headers=user.headers | {"content-type": "application/json"},
    )
    assert r.status_code == 400
    r = await post(client, user, "nowhere", action, {"types": ["web"]})
    assert r.status_code == 404
    r = await client.post(f"/v2/apps/broken/{action}/", json={"types": ["web"]})
    assert r.status_code == 401
    r = await client.get(f"/v2/apps/broken/{action}/", headers=user.headers)
    assert r.status_code == 405
    assert counts(await pods(client, user, "broken")) == {"web": 1}


async def test_permissions(
    client: httpx.AsyncClient,
    user: Account,
    admin: Account,
    accounts: Accounts,
    source: Path,
    marker: str,
) -> None:
    bob = await accounts.make("bob")
    mallory = await accounts.make("mallory")
    await create_app_for(client, user, "shared-halt")
    await built(client, user, "shared-halt", source)
    r = await client.post(
        "/v2/apps/shared-halt/perms", json={"username": "bob"}, headers=user.headers
    )
    assert r.status_code == 201
    for action in ("stop", "start"):
        r = await post(client, mallory, "shared-halt", action, {"types": ["web"]})
        assert (r.status_code, r.json()) == (403, DENIED)
    r = await client.get("/v2/apps/shared-halt/services/", headers=mallory.headers)
    assert (r.status_code, r.json()) == (403, DENIED)
    assert (await post(client, bob, "shared-halt", "stop", {"types": ["web"]})).status_code == 204
    assert await pods(client, user, "shared-halt") == []
    assert (
        await post(client, admin, "shared-halt", "start", {"types": ["web"]})
    ).status_code == 204
    assert counts(await pods(client, user, "shared-halt")) == {"web": 1}


# --- services ---------------------------------------------------------------------------


async def services(client: httpx.AsyncClient, user: Account, app: str, query: str = "") -> Any:
    r = await client.get(f"/v2/apps/{app}/services/{query}", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()


WEB_SERVICE = {"procfile_type": "web", "port": 80, "protocol": "TCP", "target_port": 5000}


async def test_services(
    client: httpx.AsyncClient, user: Account, source: Path, marker: str, tmp_path: Path
) -> None:
    empty = {"count": 0, "next": None, "previous": None, "results": []}
    await create_app_for(client, user, "served")
    assert await services(client, user, "served") == empty  # no build yet
    await built(client, user, "served", source)
    assert await services(client, user, "served") == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [WEB_SERVICE],
    }
    r = await client.get("/v2/apps/served/services", headers=user.headers)
    assert r.json()["results"] == [WEB_SERVICE]
    page = await services(client, user, "served", "?limit=1&offset=1")
    assert (page["count"], page["results"]) == (1, [])
    assert page["previous"] is not None
    # A stopped web keeps its service; the config's PORT is where web processes listen.
    assert (await post(client, user, "served", "stop", {"types": ["web"]})).status_code == 204
    await configured(client, user, "served", values={"PORT": "8080"})
    assert (await services(client, user, "served"))["results"] == [
        {**WEB_SERVICE, "target_port": 8080}
    ]

    # No web type: no service.
    workers = tmp_path / "workers"
    workers.mkdir()
    (workers / "Procfile").write_text(f"worker: python3 -c pass {marker}\n")
    await create_app_for(client, user, "unserved")
    await built(client, user, "unserved", workers)
    assert await services(client, user, "unserved") == empty
    r = await client.get("/v2/apps/nowhere/services/", headers=user.headers)
    assert r.status_code == 404
    r = await client.get("/v2/apps/served/services/")
    assert r.status_code == 401


def test_service_numbers_match_the_kubernetes_service() -> None:
    """What the services list reports is what the Kubernetes scheduler creates."""
    for env, expected in (({}, 5000), ({"PORT": "8080"}, 8080)):
        release = ReleaseSpec(
            app="a", version=2, processes={"web": ProcessSpec(type="web", command="x")}, env=env
        )
        port = manifests.web_port(release)
        assert port == service_ports.web_port(env) == expected
        (spec,) = manifests.web_service("a", port)["spec"]["ports"]
        assert (spec["port"], spec["protocol"], spec["targetPort"]) == (
            service_ports.SERVICE_PORT,
            service_ports.PROTOCOL,
            port,
        )
