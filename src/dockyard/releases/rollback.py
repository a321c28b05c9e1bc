"""Rollback: a new release that copies an older good release's build and config."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core.errors import Invalid, NotFound
from dockyard.releases import engine
from dockyard.releases.models import Build, Config, Release
from dockyard.scheduler.base import Scheduler

NO_BUILD = "Cannot roll back to a release without a build."

MAX_VERSION = 2**31 - 1  # releases.version is a 32-bit INTEGER column


async def _target(session: AsyncSession, app: App, version: int | None) -> Release:
    target = await _find_target(session, app, version)
    build = await session.get(Build, target.build_uuid) if target.build_uuid else None
    if build is not None and build.source_dir and not await _exists(build.source_dir):
        raise Invalid(
            f"Cannot roll back to v{target.version}: its slug was deleted (only the slugs of "
            "the last DOCKYARD_KEEP_RELEASES releases are kept). Deploy that code again."
        )
    if target.build_uuid is None:
        # Rolling a running app back to a config-only release would leave its processes
        # running a release that is no longer current (and scale/run without a build).
        current = await engine.current_release(session, app)
        if current.build_uuid is not None:
            raise Invalid(NO_BUILD)
    return target


async def _exists(directory: str) -> bool:
    return await asyncio.to_thread(Path(directory).is_dir)


async def _find_target(session: AsyncSession, app: App, version: int | None) -> Release:
    if version is None:
        current = await engine.current_release(session, app)
        target = await session.scalar(
            select(Release)
            .where(
                Release.app_uuid == app.uuid,
                Release.version < current.version,
                Release.failed.is_(False),
            )
            .order_by(Release.version.desc())
        )
        if target is None or target.version == 1:
            raise Invalid("Cannot roll back to initial release.")
        return target
    if version < 1:  # as the reference: v0 does not exist, and this is the message
        raise Invalid("version cannot be below 0")
    target = None
    if version <= MAX_VERSION:  # a bigger number cannot even be bound to the query
        target = await session.scalar(
            select(Release).where(Release.app_uuid == app.uuid, Release.version == version)
        )
    if target is None:
        raise NotFound(f"Release v{version} does not exist.")
    if target.version == 1:
        raise Invalid("Cannot roll back to initial release.")
    if target.failed:
        raise Invalid("Cannot roll back to failed release.")
    return target


async def rollback(
    *, session: AsyncSession, scheduler: Scheduler, app: App, actor: str, version: int | None
) -> Release:
    target = await _target(session, app, version)
    config = await session.get(Config, target.config_uuid)
    assert config is not None
    release = await engine.new_release(
        session=session,
        app=app,
        owner=actor,
        summary=f"{actor} rolled back to v{target.version}",
        config=config,
        build_uuid=target.build_uuid,
    )
    await engine.deploy(session=session, scheduler=scheduler, app=app, release=release)
    return release
