"""Releases: the initial release of a new app, listing (newest first) and lookup by version."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core.errors import NotFound
from dockyard.db.paging import page_rows
from dockyard.releases.models import Config, Release

VERSION_RE = re.compile(r"^v?(\d{1,9})$")


async def create_initial_release(*, session: AsyncSession, app: App, owner: str) -> Release:
    """Release v1: no build, an empty config. Flushes; the caller commits."""
    config = Config(app_uuid=app.uuid, owner=owner)
    session.add(config)
    await session.flush()
    release = Release(
        app_uuid=app.uuid,
        owner=owner,
        version=1,
        summary=f"{owner} created initial release",
        config_uuid=config.uuid,
        build_uuid=None,
    )
    session.add(release)
    await session.flush()
    return release


async def list_releases(
    *, session: AsyncSession, app: App, limit: int, offset: int
) -> tuple[int, list[Release]]:
    stmt = select(Release).where(Release.app_uuid == app.uuid).order_by(Release.version.desc())
    return await page_rows(session, stmt, limit=limit, offset=offset)


async def get_release(*, session: AsyncSession, app: App, version: str) -> Release:
    match = VERSION_RE.match(version)
    release = None
    if match:
        release = await session.scalar(
            select(Release).where(
                Release.app_uuid == app.uuid, Release.version == int(match.group(1))
            )
        )
    if release is None:
        raise NotFound("No Release matches the given query.")
    return release
