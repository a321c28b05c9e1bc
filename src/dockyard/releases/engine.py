"""The release engine: turn (build, config) into a numbered release and make the scheduler
run it.

Deploy order (ARCHITECTURE.md): record the intent and commit, ask the scheduler, record the
outcome. No transaction is open during the scheduler call. A failed deploy marks the
release ``failed``, keeps the previous release serving, and answers 400 with the reason.
Callers hold the app's lock (``AppLocks.hold(app.uuid)``) around every function here that
creates a release or talks to the scheduler.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core import layout
from dockyard.core.errors import Invalid
from dockyard.releases.models import Build, Config, Release
from dockyard.scheduler.base import (
    DeploySpec,
    ReleaseSpec,
    Scheduler,
    SchedulerError,
    SchedulerUnavailable,
)
from dockyard.scheduler.parse import build_processes

EVENT_SOURCE = "dockyard"
IMAGE_DEFAULT_TYPE = "cmd"


async def latest_release(session: AsyncSession, app: App) -> Release:
    release = await session.scalar(
        select(Release).where(Release.app_uuid == app.uuid).order_by(Release.version.desc())
    )
    assert release is not None, "every app has release v1"
    return release


async def current_release(session: AsyncSession, app: App) -> Release:
    """The release that is (or should be) running: the newest one that did not fail."""
    release = await session.scalar(
        select(Release)
        .where(Release.app_uuid == app.uuid, Release.failed.is_(False))
        .order_by(Release.version.desc())
    )
    return release if release is not None else await latest_release(session, app)


async def next_version(session: AsyncSession, app: App) -> int:
    top = await session.scalar(
        select(func.max(Release.version)).where(Release.app_uuid == app.uuid)
    )
    return int(top or 0) + 1


def config_fields(config: Config) -> dict[str, dict[str, Any]]:
    return {
        "values": dict(config.values or {}),
        "memory": dict(config.memory or {}),
        "cpu": dict(config.cpu or {}),
        "tags": dict(config.tags or {}),
        "registry": dict(config.registry_info or {}),
        "healthcheck": dict(config.healthcheck or {}),
    }


def procfile_of(build: Build) -> dict[str, str]:
    """Process types of a build. A container image with no procfile runs its default
    command as the ``cmd`` type (an empty command means "the image's own")."""
    procfile = dict(build.procfile or {})
    if not procfile and build.source_dir is None:
        return {IMAGE_DEFAULT_TYPE: ""}
    return procfile


def release_spec(app: App, release: Release, build: Build, config: Config) -> ReleaseSpec:
    fields = config_fields(config)
    return ReleaseSpec(
        app=app.id,
        version=release.version,
        processes=build_processes(
            procfile_of(build),
            memory=fields["memory"],
            cpu=fields["cpu"],
            healthcheck=fields["healthcheck"],
        ),
        env=fields["values"],
        source_dir=build.source_dir,
        image=None if build.source_dir else build.image,
        summary=release.summary,
        created=release.created,
        sha=build.sha or None,
        tags=fields["tags"],
        registry={str(k): str(v) for k, v in fields["registry"].items() if v is not None},
        uid=app.uid,
    )


async def spec_for(session: AsyncSession, app: App, release: Release) -> ReleaseSpec | None:
    """The scheduler's view of a release, or None when it has no build yet."""
    if release.build_uuid is None:
        return None
    build = await session.get(Build, release.build_uuid)
    config = await session.get(Config, release.config_uuid)
    if build is None or config is None:
        return None
    return release_spec(app, release, build, config)


async def record(scheduler: Scheduler, app: App, message: str) -> None:
    """A controller event in the app's log (``release created``, ``scaled``...)."""
    await scheduler.log_event(app.id, EVENT_SOURCE, message)


async def new_release(
    *,
    session: AsyncSession,
    app: App,
    owner: str,
    summary: str,
    config: Config,
    build_uuid: str | None,
) -> Release:
    """Write and commit a release (the intent) before anything is deployed."""
    release = Release(
        app_uuid=app.uuid,
        owner=owner,
        version=await next_version(session, app),
        summary=summary,
        config_uuid=config.uuid,
        build_uuid=build_uuid,
    )
    session.add(release)
    await session.commit()
    return release


async def deploy(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app: App,
    release: Release,
    structure: Mapping[str, int] | None = None,
) -> None:
    """Run ``release`` with ``structure`` (default: the app's). On failure mark the release
    failed, log why, and raise 400 with the reason; the previous release keeps running."""
    spec = await spec_for(session, app, release)
    if spec is None:
        await record(scheduler, app, f"{release.summary} (v{release.version})")
        return
    # Types the release no longer has are scaled to 0 (dropped from the structure).
    requested = app.structure if structure is None else structure
    wanted = {t: n for t, n in (requested or {}).items() if t in spec.processes}
    try:
        await scheduler.deploy(DeploySpec(release=spec, structure=wanted))
    except SchedulerError as exc:
        await session.execute(
            update(Release).where(Release.uuid == release.uuid).values(failed=True)
        )
        await session.commit()
        release.failed = True
        with contextlib.suppress(SchedulerUnavailable):
            await record(scheduler, app, f"deploy of v{release.version} failed: {exc.message}")
        if isinstance(exc, SchedulerUnavailable):
            raise  # 503: the agent or cluster is away, not the release at fault
        raise Invalid(exc.message) from exc
    if dict(app.structure or {}) != wanted:
        app.structure = wanted
        await session.commit()
    await record(scheduler, app, f"{release.summary} (v{release.version})")


def builds_dir(data_dir: Path, app: App) -> Path:
    return layout.slugs_dir(data_dir, app.id)
