"""Routes for config, builds and releases (list, detail, rollback). The v2.0 references also
document ``apps/<id>/build`` (singular): creating a build there, and reading the newest one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from dockyard.accounts.models import User
from dockyard.api.body import body, read_body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, release_headers
from dockyard.apps.service import hold_app, load_app
from dockyard.db.locks import AppLocks
from dockyard.releases import builds, config_service, rollback, service
from dockyard.releases.schemas import (
    BuildIn,
    BuildOut,
    ConfigIn,
    ConfigOut,
    ReleaseOut,
    RollbackIn,
    VersionOut,
    build_out,
    config_out,
    release_out,
)
from dockyard.scheduler.base import Scheduler

router = APIRouter()
APP_ERRORS = errors(401, 403, 404)


@router.get(
    "/apps/{app_id}/releases",
    tags=["releases"],
    responses={200: {"model": list[ReleaseOut]}, **APP_ERRORS},
)
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
    tags=["releases"],
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
    "/apps/{app_id}/releases/{version}",
    tags=["releases"],
    responses={200: {"model": ReleaseOut}, **APP_ERRORS},
)
async def release_detail(
    session: SessionDep, actor: UserDep, app_id: str, version: str
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    release = await service.get_release(session=session, app=access.app, version=version)
    return JSON(release_out(release, app_id))


@router.get(
    "/apps/{app_id}/config", tags=["config"], responses={200: {"model": ConfigOut}, **APP_ERRORS}
)
async def get_config(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    config = await config_service.current_config(session, access.app)
    return JSON(config_out(config, app_id))


@router.post(
    "/apps/{app_id}/config",
    status_code=201,
    tags=["config"],
    openapi_extra=takes(ConfigIn),
    responses={201: {"model": ConfigOut}, **errors(400, 401, 403, 404, 409, 422)},
)
async def set_config(
    request: Request,
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
) -> Response:
    changes = await read_body(request)
    return await save_config(
        session=session,
        scheduler=scheduler,
        locks=locks,
        actor=actor,
        app_id=app_id,
        changes=changes,
    )


async def save_config(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    locks: AppLocks,
    actor: User,
    app_id: str,
    changes: dict[str, Any],
) -> Response:
    """A config POST once its body is read: the v2 and v1 handlers differ only in reading it
    (v1 maps may arrive as JSON strings). They read it first, so a bad body is a 400 before
    the app is looked up."""
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        config, release = await config_service.set_config(
            session=session, scheduler=scheduler, app=app, actor=actor.username, changes=changes
        )
    return JSON(
        config_out(config, app_id),
        status_code=201,
        headers=release_headers(release.version),
    )


@router.get(
    "/apps/{app_id}/builds",
    tags=["builds"],
    responses={200: {"model": list[BuildOut]}, **APP_ERRORS},
)
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
    tags=["builds"],
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
            keep_releases=settings.keep_releases,
        )
    return JSON(
        build_out(build, app_id),
        status_code=201,
        headers=release_headers(release.version),
    )


router.add_api_route(
    "/apps/{app_id}/build",
    create_build,
    methods=["POST"],
    status_code=201,
    tags=["builds"],
    openapi_extra=takes(BuildIn),
    responses={201: {"model": BuildOut}, **errors(400, 401, 403, 404)},
    name="create_build_singular",
    description="The v2.0 references' path for creating a build.",
)


@router.get(
    "/apps/{app_id}/build",
    tags=["builds"],
    responses={200: {"model": BuildOut}, **APP_ERRORS},
)
async def latest_build(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    """The newest build, as the v2.0 references document ``GET apps/<id>/build``."""
    access = await load_app(session=session, user=actor, app_id=app_id)
    return JSON(build_out(await builds.latest_build(session=session, app=access.app), app_id))


@router.get(
    "/apps/{app_id}/builds/{build_uuid}",
    tags=["builds"],
    responses={200: {"model": BuildOut}, **APP_ERRORS},
)
async def build_detail(
    session: SessionDep, actor: UserDep, app_id: str, build_uuid: str
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    build = await builds.get_build(session=session, app=access.app, build_uuid=build_uuid)
    return JSON(build_out(build, app_id))
