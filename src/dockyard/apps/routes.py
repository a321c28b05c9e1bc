"""Routes for apps (list, create, detail, transfer, destroy) and their collaborators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.accounts.schemas import UsernameIn
from dockyard.api.body import body, takes
from dockyard.api.deps import (
    ActorDep,
    LocksDep,
    SchedulerDep,
    SessionDep,
    SettingsDep,
    UserDep,
    get_database,
)
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.apps import perms, service
from dockyard.apps.schemas import AppCreateIn, AppOut, AppUpdateIn, PermsOut, app_out

router = APIRouter(tags=["apps"])


@router.get("/apps", responses={200: {"model": list[AppOut]}, **errors(401)})
async def list_apps(
    request: Request, settings: SettingsDep, actor: ActorDep, page: PageDep
) -> Response:
    count, rows = await service.list_apps(
        reader=get_database(request).reader, actor=actor, limit=page.limit, offset=page.offset
    )
    domain = settings.app_domain
    return JSON(paginated(request, page, count, [app_out(row, row.owner, domain) for row in rows]))


@router.post(
    "/apps",
    status_code=201,
    openapi_extra=takes(AppCreateIn, required=False),
    responses={201: {"model": AppOut}, **errors(400, 401)},
)
async def create_app(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    data: Annotated[AppCreateIn, body(AppCreateIn)],
) -> Response:
    app = await service.create_app(
        session=session,
        scheduler=scheduler,
        owner=actor,
        app_id=data.id,
        reserved=settings.reserved,
        platform_domain=settings.platform_domain,
        uid_range=settings.uid_range,
    )
    response = JSON(app_out(app, actor.username, settings.app_domain), status_code=201)
    # Where `git push` goes over SSH: the CLI builds the app's git remote with this port.
    response.headers["Dockyard-Git-SSH-Port"] = str(settings.ssh_port)
    return response


@router.get("/apps/{app_id}", responses={200: {"model": AppOut}, **errors(401, 403, 404)})
async def app_detail(
    request: Request, settings: SettingsDep, actor: ActorDep, app_id: str
) -> Response:
    app = await service.read_app(reader=get_database(request).reader, actor=actor, app_id=app_id)
    return JSON(app_out(app, app.owner, settings.app_domain))


@router.post(
    "/apps/{app_id}",
    openapi_extra=takes(AppUpdateIn),
    responses={200: {"model": AppOut}, **errors(400, 401, 403, 404)},
)
async def update_app(
    session: SessionDep,
    settings: SettingsDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[AppUpdateIn, body(AppUpdateIn)],
) -> Response:
    access = await service.load_app(session=session, user=actor, app_id=app_id)
    owner = access.owner
    if data.owner is not None:
        owner = await service.transfer(session=session, access=access, new_owner=data.owner)
    return JSON(app_out(access.app, owner, settings.app_domain))


@router.delete("/apps/{app_id}", status_code=204, responses=errors(401, 403, 404))
async def destroy_app(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
) -> Response:
    access = await service.load_app(session=session, user=actor, app_id=app_id)
    async with service.hold_app(session, locks, access.app):
        await service.destroy(
            session=session,
            access=access,
            scheduler=scheduler,
            data_dir=settings.data_dir,
        )
    return no_content()


@router.get("/apps/{app_id}/perms", responses={200: {"model": PermsOut}, **errors(401, 403, 404)})
async def list_perms(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    access = await service.load_app(session=session, user=actor, app_id=app_id)
    return JSON({"users": await perms.list_collaborators(session=session, access=access)})


@router.post(
    "/apps/{app_id}/perms",
    status_code=201,
    openapi_extra=takes(UsernameIn),
    responses={201: {"description": "Shared"}, **errors(400, 401, 403, 404, 409)},
)
async def add_perm(
    session: SessionDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[UsernameIn, body(UsernameIn)],
) -> Response:
    access = await service.load_app(session=session, user=actor, app_id=app_id)
    await perms.add_collaborator(session=session, access=access, username=data.username)
    return JSON({"username": data.username}, status_code=201)


@router.delete("/apps/{app_id}/perms/{username}", status_code=204, responses=errors(401, 403, 404))
async def remove_perm(session: SessionDep, actor: UserDep, app_id: str, username: str) -> Response:
    access = await service.load_app(session=session, user=actor, app_id=app_id)
    await perms.remove_collaborator(session=session, access=access, actor=actor, username=username)
    return no_content()
