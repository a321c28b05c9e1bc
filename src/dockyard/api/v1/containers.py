"""v1 routes for processes, which v1 calls containers: list (all, or of one type), restart
(all, one type, or ``<type>.<num>``) and scale. A container is a pod shown as
``{owner, app, release, created, updated, uuid, type, num, state}`` with ``num`` counting
1..n per type (see ``common.numbers``); restarts answer the restarted containers as a bare
list, numbered as the next list will show them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from dockyard.api.body import read_body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.api.v1.common import containers, pod_named
from dockyard.apps import processes
from dockyard.apps.service import hold_app, load_app
from dockyard.core.errors import NotFound

router = APIRouter(tags=["v1 containers"])
MAX_NUM = 10_000  # far above any scale (1000 per type)


class ContainerOut(BaseModel):
    owner: str
    app: str
    release: str
    created: str
    updated: str
    uuid: str
    type: str
    num: int
    state: str


class ScaleIn(BaseModel):
    """Process type to number of containers, e.g. ``{"web": 3, "worker": 1}``."""

    model_config = ConfigDict(extra="allow")


LISTED: dict[int | str, dict[str, Any]] = {
    200: {"model": list[ContainerOut]},
    **errors(401, 403, 404),
}
RESTARTED: dict[int | str, dict[str, Any]] = {
    200: {"model": list[ContainerOut]},
    **errors(400, 401, 403, 404),
}


@router.get("/apps/{app_id}/containers", responses=LISTED)
async def list_containers(
    request: Request,
    session: SessionDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    page: PageDep,
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    pods = await processes.pods(scheduler=scheduler, app=access.app)
    shown = containers(pods, app_id=app_id, owner=access.owner, numbered_by=pods)
    window = shown[page.offset : page.offset + page.limit]
    return JSON(paginated(request, page, len(shown), window))


@router.get("/apps/{app_id}/containers/{ptype}", responses=LISTED)
async def list_containers_of_type(
    request: Request,
    session: SessionDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    ptype: str,
    page: PageDep,
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    pods = await processes.pods(scheduler=scheduler, app=access.app, ptype=ptype)
    shown = containers(pods, app_id=app_id, owner=access.owner, numbered_by=pods)
    window = shown[page.offset : page.offset + page.limit]
    return JSON(paginated(request, page, len(shown), window))


@router.post("/apps/{app_id}/containers/restart", responses=RESTARTED)
async def restart_all(
    session: SessionDep, scheduler: SchedulerDep, locks: LocksDep, actor: UserDep, app_id: str
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        restarted = await processes.restart(scheduler=scheduler, app=app, actor=actor.username)
        pods = await processes.pods(scheduler=scheduler, app=app)
    return JSON(containers(restarted, app_id=app_id, owner=access.owner, numbered_by=pods))


@router.post("/apps/{app_id}/containers/{ptype}/restart", responses=RESTARTED)
async def restart_type(
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    ptype: str,
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        restarted = await processes.restart(
            scheduler=scheduler, app=app, actor=actor.username, ptype=ptype
        )
        pods = await processes.pods(scheduler=scheduler, app=app, ptype=ptype)
    return JSON(containers(restarted, app_id=app_id, owner=access.owner, numbered_by=pods))


@router.post("/apps/{app_id}/containers/{ptype}/{num}/restart", responses=RESTARTED)
async def restart_one(
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    ptype: str,
    num: Annotated[int, Path(ge=1, le=MAX_NUM)],
) -> Response:
    """Container ``<ptype>.<num>`` as ``ps:list`` shows it (``deis ps:restart web.2``)."""
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        before = await processes.pods(scheduler=scheduler, app=app, ptype=ptype)
        target = pod_named(before, ptype, num)
        if target is None:
            raise NotFound(f"Container {ptype}.{num} does not exist in application")
        restarted = await processes.restart(
            scheduler=scheduler, app=app, actor=actor.username, ptype=ptype, name=target.name
        )
        pods = await processes.pods(scheduler=scheduler, app=app, ptype=ptype)
    return JSON(containers(restarted, app_id=app_id, owner=access.owner, numbered_by=pods))


@router.post(
    "/apps/{app_id}/scale",
    status_code=204,
    openapi_extra=takes(ScaleIn),
    responses=errors(400, 401, 403, 404),
)
async def scale(
    request: Request,
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
) -> Response:
    changes = processes.parse_structure(await read_body(request))
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        await processes.scale(
            session=session, scheduler=scheduler, app=app, actor=actor.username, changes=changes
        )
    return no_content()
