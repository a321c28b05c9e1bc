"""Bringing apps back at a server's start (``releases.converge``): an app that should run
but of which the scheduler has no pod is deployed again with its current release and
recorded structure; apps with pods, without a build, or scaled to 0 are left alone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import select, update

from dockyard.apps.models import App
from dockyard.db.locks import AppLocks
from dockyard.db.session import Database
from dockyard.releases import engine
from dockyard.releases.converge import converge_all, repair, wanted
from dockyard.releases.models import Release
from dockyard.scheduler.base import DeploySpec, PodState, PodStatus
from dockyard.scheduler.local.client import LocalScheduler
from tests.conftest import Account, create_app_for
from tests.releases.helpers import built, configured, logs, pods, scale


def locks(database: Database, tmp_path: Path) -> AppLocks:
    return AppLocks(database, tmp_path / "locks")


def pod(release: str, ptype: str = "web", state: PodState = PodState.up) -> PodStatus:
    started = datetime(2026, 1, 1)
    return PodStatus(name=f"a-{ptype}", type=ptype, release=release, state=state, started=started)


def test_what_an_app_needs() -> None:
    assert repair("v3", {"web": 1}, []) == ("deploy", "no pod was running")
    assert repair("v3", {}, []) is None
    assert repair("v3", {"web": 1}, [pod("v3")]) is None
    assert repair("v3", {"web": 1}, [pod("v2")]) == ("deploy", "pods ran v2")
    assert repair("v3", {"web": 2}, [pod("v3")]) == ("scale", "pods were web=1")
    assert repair("v3", {"web": 1}, [pod("v3"), pod("v3", "worker")]) == (
        "scale",
        "pods were web=1 worker=1",
    )
    # Pods on their way out do not count.
    assert repair("v3", {"web": 1}, [pod("v3"), pod("v2", state=PodState.terminating)]) is None
    assert repair("v3", {}, [pod("v2", state=PodState.terminating)]) is None


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
    tmp_path: Path,
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
        restored = await converge_all(
            session=session, scheduler=scheduler, locks=locks(clean_db, tmp_path)
        )

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


async def test_pods_of_another_release_or_count_are_brought_to_the_database_s(
    client: httpx.AsyncClient,
    clean_db: Database,
    scheduler: LocalScheduler,
    user: Account,
    source: Path,
    tmp_path: Path,
) -> None:
    """As after a deploy or scale that the agent finished but the database never heard of
    (the server died first): the agent runs v3 at web=3, the database says v2 at web=1."""
    await create_app_for(client, user, "drift")
    await built(client, user, "drift", source)  # v2
    assert (await scale(client, user, "drift", web=1)).status_code == 204
    await built(client, user, "drift", source)  # v3
    running = await pods(client, user, "drift")
    assert {p["release"] for p in running} == {"v3"}
    async with clean_db.session() as session:
        await session.execute(update(Release).where(Release.version == 3).values(failed=True))
        await session.commit()
        app = await session.scalar(select(App).where(App.id == "drift"))
        assert app is not None
        spec = await engine.spec_for(session, app, await engine.latest_release(session, app))
        assert spec is not None and spec.version == 3
    await scheduler.scale(DeploySpec(release=spec, structure={"web": 3}))

    async with clean_db.session() as session:
        assert await converge_all(
            session=session, scheduler=scheduler, locks=locks(clean_db, tmp_path)
        ) == ["drift"]
    listed = await pods(client, user, "drift")
    assert [(p["release"], p["state"]) for p in listed] == [("v2", "up")]
    assert "v2 started again (web=1): pods ran v3" in await logs(client, user, "drift")

    # Counts alone: the agent runs v2 at web=2, the database says web=1.
    async with clean_db.session() as session:
        app = await session.scalar(select(App).where(App.id == "drift"))
        assert app is not None
        spec = await engine.spec_for(session, app, await engine.current_release(session, app))
        assert spec is not None
    await scheduler.scale(DeploySpec(release=spec, structure={"web": 2}))
    async with clean_db.session() as session:
        assert await converge_all(
            session=session, scheduler=scheduler, locks=locks(clean_db, tmp_path)
        ) == ["drift"]
        # Converged: a second pass has nothing to do.
        assert (
            await converge_all(
                session=session, scheduler=scheduler, locks=locks(clean_db, tmp_path)
            )
            == []
        )
    assert len(await pods(client, user, "drift")) == 1
    assert "v2 started again (web=1): pods were web=2" in await logs(client, user, "drift")
