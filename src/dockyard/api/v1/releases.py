"""v1 routes for builds and releases: list and create builds (the new release number in
``X-Deis-Release`` and ``Deis-Release``), list releases newest first, show one (``v3`` or
``3``), and roll back (201 ``{"version": <new>}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.api.body import body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, release_headers
from dockyard.apps.service import hold_app, load_app
from dockyard.releases import builds, rollback, service
from dockyard.releases.schemas import (
    BuildIn,
    BuildOut,
    ReleaseOut,
    RollbackIn,
    VersionOut,
    build_out,
    release_out,
)

router = APIRouter(tags=["v1 releases"])
APP_ERRORS = errors(401, 403, 404)


@router.get("/apps/{app_id}/builds", responses={200: {"model": list[BuildOut]}, **APP_ERRORS})
async def list_builds(
    request: Request, session: SessionDep, actor: UserDep, app_id: str, page: PageDep
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    count, rows = await builds.list_builds(
        session=session, app=access.app, limit=page.limit, offset=page.offset
    )
    return JSON(paginated(request, page, count, [build_out(b, app_id) for b in rows]))


@router.post(
    "/apps/{app_id}/builds",
    status_code=201,
    openapi_extra=takes(BuildIn),
    responses={201: {"model": BuildOut}, **errors(400, 401, 403, 404)},
)
async def create_build(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[BuildIn, body(BuildIn)],
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        build, release = await builds.create_build(
            session=session,
            scheduler=scheduler,
            app=app,
            actor=actor.username,
            image=data.image,
            procfile=data.procfile,
            sha=data.sha,
            dockerfile=data.dockerfile,
            local=settings.scheduler == "local",
            source_roots=settings.source_roots,
            data_dir=settings.data_dir,
        )
    return JSON(build_out(build, app_id), status_code=201, headers=release_headers(release.version))


@router.get("/apps/{app_id}/releases", responses={200: {"model": list[ReleaseOut]}, **APP_ERRORS})
async def list_releases(
    request: Request, session: SessionDep, actor: UserDep, app_id: str, page: PageDep
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    count, rows = await service.list_releases(
        session=session, app=access.app, limit=page.limit, offset=page.offset
    )
    return JSON(paginated(request, page, count, [release_out(r, app_id) for r in rows]))


@router.post(
    "/apps/{app_id}/releases/rollback",
    status_code=201,
    openapi_extra=takes(RollbackIn, required=False),
    responses={201: {"model": VersionOut}, **errors(400, 401, 403, 404)},
)
async def rollback_release(
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[RollbackIn, body(RollbackIn)],
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        release = await rollback.rollback(
            session=session,
            scheduler=scheduler,
            app=app,
            actor=actor.username,
            version=data.version,
        )
    return JSON({"version": release.version}, status_code=201)


@router.get(
    "/apps/{app_id}/releases/{version}", responses={200: {"model": ReleaseOut}, **APP_ERRORS}
)
async def release_detail(
    session: SessionDep, actor: UserDep, app_id: str, version: str
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    release = await service.get_release(session=session, app=access.app, version=version)
    return JSON(release_out(release, app_id))
