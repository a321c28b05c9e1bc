"""Bringing apps back at a server's start (``releases.converge``): an app that should run
but of which the scheduler has no pod is deployed again with its current release and
recorded structure; apps with pods, without a build, or scaled to 0 are left alone."""

from __future__ import annotations

from pathlib import Path

import httpx

from dockyard.db.session import Database
from dockyard.releases.converge import redeploy_missing, wanted
from dockyard.scheduler.local.client import LocalScheduler
from tests.conftest import Account, create_app_for
from tests.releases.helpers import built, configured, logs, pods, scale


def test_the_structure_to_bring_back() -> None:
    assert wanted({"web": 2, "worker": 1}, {"web", "worker"}) == {"web": 2, "worker": 1}
    assert wanted({"web": 2, "gone": 1}, {"web"}) == {"web": 2}
    assert wanted({"web": 0, "worker": 1}, {"web", "worker"}) == {"web": 0, "worker": 1}
    assert wanted({"web": 0}, {"web"}) == {}
    assert wanted({}, {"web"}) == {}
    assert wanted(None, {"web"}) == {}


async def test_an_app_without_pods_is_deployed_again(
    client: httpx.AsyncClient,
    clean_db: Database,
    scheduler: LocalScheduler,
    user: Account,
    source: Path,
) -> None:
    for app in ("lost", "kept", "empty", "stopped"):
        await create_app_for(client, user, app)
    for app in ("lost", "kept", "stopped"):
        await configured(client, user, app, values={"GREETING": f"hi-{app}"})
        await built(client, user, app, source)
    assert (await scale(client, user, "lost", web=1, worker=1)).status_code == 204
    assert (await scale(client, user, "stopped", web=0)).status_code == 204
    before = {p["name"] for p in await pods(client, user, "kept")}
    await scheduler.destroy("lost")  # as after a restore: the scheduler has nothing of it
    assert await pods(client, user, "lost") == []

    async with clean_db.session() as session:
        restored = await redeploy_missing(session=session, scheduler=scheduler)

    assert restored == ["lost"]
    listed = await pods(client, user, "lost")
    assert sorted(p["type"] for p in listed) == ["web", "worker"]
    assert {p["state"] for p in listed} == {"up"}
    assert {p["release"] for p in listed} == {"v3"}
    assert "v3 started again (web=1 worker=1): no pod was running" in await logs(
        client, user, "lost"
    )
    assert {p["name"] for p in await pods(client, user, "kept")} == before
    assert await pods(client, user, "empty") == []
    assert await pods(client, user, "stopped") == []
