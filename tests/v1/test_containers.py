"""v1 processes as the Deis v1 clients see them: ``containers`` numbered 1..n per type
(``deis ps:list`` prints ``web.1 up (v2)``), restarts of all, one type or ``web.2``,
``ps:scale``, and ``deis run`` answered ``[exit_code, output]`` (or the 1.2 object)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import Account, Accounts, create_app_for
from tests.releases.helpers import built, pods
from tests.v1.helpers import TIMESTAMP, UUID, message, py

CONTAINER_FIELDS = {
    "owner",
    "app",
    "release",
    "created",
    "updated",
    "uuid",
    "type",
    "num",
    "state",
}


def ps_list(containers: list[dict]) -> list[str]:
    """What ``deis ps:list`` prints for each container."""
    return ["{type}.{num} {state} ({release})".format(**c) for c in containers]


async def containers(
    client: httpx.AsyncClient, user: Account, app: str, ptype: str = ""
) -> list[dict]:
    r = await py(client, user, "GET", f"/v1/apps/{app}/containers" + (f"/{ptype}" if ptype else ""))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == len(body["results"])
    return list(body["results"])


async def test_list_scale_and_numbering(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    await create_app_for(client, user, "ctr")
    assert await containers(client, user, "ctr") == []
    await built(client, user, "ctr", source)

    (web,) = await containers(client, user, "ctr")
    assert set(web) == CONTAINER_FIELDS
    assert (web["owner"], web["app"], web["type"], web["num"]) == ("alice", "ctr", "web", 1)
    assert (web["state"], web["release"]) == ("up", "v2")
    assert UUID.match(web["uuid"])
    assert TIMESTAMP.match(web["created"]) and web["created"] == web["updated"]

    # deis ps:scale web=3 worker=1 (the Python client: JSON, no slash; answers 204)
    r = await py(client, user, "POST", "/v1/apps/ctr/scale", {"web": 3, "worker": 1})
    assert r.status_code == 204, r.text
    assert r.content == b""
    listed = await containers(client, user, "ctr")
    assert ps_list(listed) == [
        "web.1 up (v2)",
        "web.2 up (v2)",
        "web.3 up (v2)",
        "worker.1 up (v2)",
    ]
    # Scaling up kept the first container's number (and uuid).
    assert listed[0]["uuid"] == web["uuid"]
    # The same pods v2 lists.
    v2 = await pods(client, user, "ctr")
    assert len(v2) == 4 and {p["type"] for p in v2} == {"web", "worker"}

    # By type, and the Go v1 client's slashed, page_size form.
    webs = await containers(client, user, "ctr", "web")
    assert [c["num"] for c in webs] == [1, 2, 3]
    r = await py(client, user, "GET", "/v1/apps/ctr/containers/?page_size=2")
    page = r.json()
    assert (page["count"], len(page["results"])) == (4, 2)
    assert page["next"] is not None
    assert await containers(client, user, "ctr", "clock") == []

    # Scaling down keeps numbers dense.
    r = await py(client, user, "POST", "/v1/apps/ctr/scale/", {"web": 1, "worker": 0})
    assert r.status_code == 204
    assert ps_list(await containers(client, user, "ctr")) == ["web.1 up (v2)"]


async def test_restarts(client: httpx.AsyncClient, user: Account, source: Path) -> None:
    await create_app_for(client, user, "rst")
    await built(client, user, "rst", source)
    await py(client, user, "POST", "/v1/apps/rst/scale", {"web": 2, "worker": 1})
    before = {(c["type"], c["num"]): c["uuid"] for c in await containers(client, user, "rst")}

    # deis ps:restart web.2
    r = await py(client, user, "POST", "/v1/apps/rst/containers/web/2/restart")
    assert r.status_code == 200, r.text
    (restarted,) = r.json()
    assert set(restarted) == CONTAINER_FIELDS
    assert (restarted["type"], restarted["state"]) == ("web", "up")
    after = {(c["type"], c["num"]): c["uuid"] for c in await containers(client, user, "rst")}
    assert after[("web", 1)] == before[("web", 1)]  # web.1 untouched
    assert before[("web", 2)] not in after.values()  # web.2 replaced
    assert restarted["uuid"] in after.values()
    assert after[("worker", 1)] == before[("worker", 1)]

    # deis ps:restart worker
    r = await py(client, user, "POST", "/v1/apps/rst/containers/worker/restart")
    assert r.status_code == 200
    assert [(c["type"], c["num"]) for c in r.json()] == [("worker", 1)]
    assert r.json()[0]["uuid"] != after[("worker", 1)]

    # deis ps:restart (all), the documented slashed form
    r = await py(client, user, "POST", "/v1/apps/rst/containers/restart/")
    assert r.status_code == 200
    restarted_all = r.json()
    assert isinstance(restarted_all, list)
    assert sorted((c["type"], c["num"]) for c in restarted_all) == [
        ("web", 1),
        ("web", 2),
        ("worker", 1),
    ]
    now = {c["uuid"] for c in await containers(client, user, "rst")}
    assert now == {c["uuid"] for c in restarted_all}

    for path in ("/v1/apps/rst/containers/web/9/restart", "/v1/apps/rst/containers/db/1/restart"):
        r = await py(client, user, "POST", path)
        assert r.status_code == 404, path
    assert message(await py(client, user, "POST", "/v1/apps/rst/containers/web/9/restart")) == (
        "Container web.9 does not exist in application"
    )
    r = await py(client, user, "POST", "/v1/apps/rst/containers/web/zero/restart")
    assert r.status_code == 400


async def test_scale_errors(client: httpx.AsyncClient, user: Account, source: Path) -> None:
    await create_app_for(client, user, "scl")
    r = await py(client, user, "POST", "/v1/apps/scl/scale", {"web": 1})
    assert r.status_code == 400
    assert r.json() == {"detail": "No build associated with this release"}
    await built(client, user, "scl", source)
    r = await py(client, user, "POST", "/v1/apps/scl/scale", {"web": -1})
    assert r.status_code == 400
    assert message(r).startswith("Invalid scaling format: ")
    r = await py(client, user, "POST", "/v1/apps/scl/scale", {"clock": 1})
    assert r.status_code == 404
    assert r.json() == {"detail": "Container type clock does not exist in application"}


async def test_run(client: httpx.AsyncClient, user: Account, source: Path) -> None:
    await create_app_for(client, user, "runner")
    r = await py(client, user, "POST", "/v1/apps/runner/run", {"command": "echo hi"})
    assert r.status_code == 400
    assert r.json() == {"detail": "No build associated with this release to run this command"}
    await built(client, user, "runner", source)

    # deis run: rc, output = json.loads(response.content); the 1.6 shape.
    r = await py(client, user, "POST", "/v1/apps/runner/run", {"command": "echo hi; exit 3"})
    assert r.status_code == 200, r.text
    rc, output = r.json()
    assert (rc, output) == (3, "hi\n")
    # The Go v1 client: out[0].(float64), out[1].(string)
    r = await py(client, user, "POST", "/v1/apps/runner/run/", {"command": "echo $DEIS_APP"})
    assert r.json() == [0, "runner\n"]

    # A client asking for API 1.2 gets the 1.2 reference's object.
    r = await py(
        client,
        user,
        "POST",
        "/v1/apps/runner/run",
        {"command": "echo hi"},
        **{"X-Deis-Version": "1.2"},
    )
    assert r.json() == {"rc": 0, "output": "hi\n"}

    r = await py(client, user, "POST", "/v1/apps/runner/run", {})
    assert r.status_code == 400
    assert r.json() == {"detail": "command is a required field"}


async def test_strangers_get_403(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "private")
    bob = await accounts.make("bob")
    for method, path in (
        ("GET", "/v1/apps/private/containers"),
        ("GET", "/v1/apps/private/containers/web"),
        ("POST", "/v1/apps/private/containers/restart"),
        ("POST", "/v1/apps/private/containers/web/restart"),
        ("POST", "/v1/apps/private/containers/web/1/restart"),
        ("POST", "/v1/apps/private/scale"),
        ("POST", "/v1/apps/private/run"),
        ("GET", "/v1/apps/private/logs"),
    ):
        r = await py(client, bob, method, path, {"web": 1} if path.endswith("scale") else None)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json() == {"detail": "You do not have permission to perform this action."}
    r = await py(client, bob, "GET", "/v1/apps/nope/containers")
    assert r.status_code == 404
