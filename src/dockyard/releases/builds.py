"""Builds: create one (which makes and deploys a release), list them, read one.

On the local scheduler the ``image`` names a source on this host (see ``sources``) that is
copied into the data dir; on Kubernetes it is a container image reference.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core.errors import Invalid, NotFound
from dockyard.db.base import new_uuid
from dockyard.db.paging import page_rows
from dockyard.releases import engine, slugs, sources
from dockyard.releases.config_service import current_config
from dockyard.releases.models import Build, BuildLog, Release
from dockyard.releases.procfile import check_procfile, parse_procfile
from dockyard.releases.summary import build_summary
from dockyard.scheduler.base import Scheduler


def initial_structure(previous: dict[str, int], procfile: dict[str, str]) -> dict[str, int]:
    """The structure after a build (pure): types that vanished are dropped; an empty
    structure starts ``web: 1`` when there is a web type, or ``cmd: 1`` for an image run
    with its default command."""
    kept = {t: n for t, n in previous.items() if t in procfile}
    if kept:
        return kept
    if "web" in procfile:
        return {"web": 1}
    if set(procfile) == {engine.IMAGE_DEFAULT_TYPE}:
        return {engine.IMAGE_DEFAULT_TYPE: 1}
    return {}


async def _local_source(
    image: str, roots: list[Path], dest: Path, data_dir: Path, gid: int | None
) -> tuple[Path, str | None]:
    source = sources.check_local_image(image, roots, data_dir=data_dir)
    await asyncio.to_thread(sources.import_source, source, dest, gid)
    return dest, await asyncio.to_thread(sources.read_procfile, dest)


def _check_image_reference(image: str) -> None:
    if sources.source_path(image) is not None:
        raise Invalid(
            "The kubernetes scheduler runs container images; a host path cannot be deployed "
            "there. Push the image to a registry and pass its reference.",
            field="image",
        )
    if not sources.IMAGE_RE.match(image):
        raise Invalid(f"{image} is not a valid container image reference", field="image")


async def create_build(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app: App,
    actor: str,
    image: str,
    procfile: dict[str, Any] | None,
    sha: str,
    dockerfile: str,
    local: bool,
    source_roots: list[Path],
    data_dir: Path,
    keep_releases: int = 20,
) -> tuple[Build, Release]:
    image = image.strip()
    if not image:
        raise Invalid("This field may not be blank.", field="image")
    checked = check_procfile(procfile) if procfile else None
    build_uuid = new_uuid()
    source_dir: Path | None = None
    if local:
        dest = engine.builds_dir(data_dir, app) / build_uuid
        source_dir, found = await _local_source(image, source_roots, dest, data_dir, app.uid)
        if checked is None:
            try:
                checked = parse_procfile(found) if found else {}
            except Invalid:
                shutil.rmtree(dest, ignore_errors=True)
                raise
        if not checked:
            shutil.rmtree(dest, ignore_errors=True)
            raise Invalid(
                "No Procfile: add one to the source or pass procfile in the request",
                field="procfile",
            )
    else:
        _check_image_reference(image)
    build = Build(
        uuid=build_uuid,
        app_uuid=app.uuid,
        owner=actor,
        image=image,
        sha=sha,
        procfile=checked or {},
        dockerfile=dockerfile,
        source_dir=str(source_dir) if source_dir else None,
    )
    session.add(build)
    release = await release_build(session=session, scheduler=scheduler, app=app, build=build)
    if local:
        await slugs.prune(session=session, app=app, data_dir=data_dir, keep=keep_releases)
    return build, release


async def release_build(
    *, session: AsyncSession, scheduler: Scheduler, app: App, build: Build
) -> Release:
    """Write the release of a finished build (with the current config) and deploy it. The
    caller holds the app's lock; a failed deploy marks the release failed and raises 400."""
    config = await current_config(session, app)
    release = await engine.new_release(
        session=session,
        app=app,
        owner=build.owner,
        summary=build_summary(build.owner, sha=build.sha or None, image=build.image),
        config=config,
        build_uuid=build.uuid,
    )
    structure = initial_structure(dict(app.structure or {}), engine.procfile_of(build))
    await engine.deploy(
        session=session, scheduler=scheduler, app=app, release=release, structure=structure
    )
    return release


async def list_builds(
    *, session: AsyncSession, app: App, limit: int, offset: int
) -> tuple[int, list[Build]]:
    stmt = select(Build).where(Build.app_uuid == app.uuid).order_by(Build.created.desc())
    return await page_rows(session, stmt, limit=limit, offset=offset)


async def latest_build(*, session: AsyncSession, app: App) -> Build:
    """The app's newest build (what the v2.0 references' ``GET apps/<id>/build`` shows)."""
    build = await session.scalar(
        select(Build).where(Build.app_uuid == app.uuid).order_by(Build.created.desc()).limit(1)
    )
    if build is None:
        raise NotFound("No Build matches the given query.")
    return build


async def get_build(*, session: AsyncSession, app: App, build_uuid: str) -> Build:
    build = await session.scalar(
        select(Build).where(Build.app_uuid == app.uuid, Build.uuid == build_uuid)
    )
    if build is None:
        raise NotFound("No Build matches the given query.")
    return build


async def build_log(*, session: AsyncSession, build: Build) -> str:
    """What a build from source printed ("" for image and host-source builds)."""
    text = await session.scalar(select(BuildLog.text).where(BuildLog.build_uuid == build.uuid))
    return text or ""
