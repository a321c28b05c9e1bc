"""v1 routes for processes, which v1 calls containers: list (all, or of one type), restart
(all, one type, or ``<type>.<num>``) and scale. A container is a pod shown as
``{owner, app, release, created, updated, uuid, type, num, state}`` with ``num`` counting
1..n per type (see ``common.numbers``); restarts answer the restarted containers as a bare
list, numbered as the next list will show them. Scaling is v2's own handler."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from dockyard.accounts.models import User
from dockyard.api.body import takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import Page, PageDep, paginated
from dockyard.api.responses import JSON
from dockyard.api.v1.common import containers, pod_named, serve
from dockyard.apps import process_routes, processes
from dockyard.apps.service import hold_app, load_app
from dockyard.core.errors import NotFound
from dockyard.db.locks import AppLocks
from dockyard.scheduler.base import PodStatus, Scheduler

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
    return _listed(request, page, pods, app_id=app_id, owner=access.owner)


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
    return _listed(request, page, pods, app_id=app_id, owner=access.owner)


def _listed(
    request: Request, page: Page, pods: list[PodStatus], *, app_id: str, owner: str
) -> Response:
    """One page of ``pods`` as containers, numbered among themselves."""
    shown = containers(pods, app_id=app_id, owner=owner, numbered_by=pods)
    window = shown[page.offset : page.offset + page.limit]
    return JSON(paginated(request, page, len(shown), window))


@router.post("/apps/{app_id}/containers/restart", responses=RESTARTED)
async def restart_all(
    session: SessionDep, scheduler: SchedulerDep, locks: LocksDep, actor: UserDep, app_id: str
) -> Response:
    return await _restart(
        session=session, scheduler=scheduler, locks=locks, actor=actor, app_id=app_id
    )


@router.post("/apps/{app_id}/containers/{ptype}/restart", responses=RESTARTED)
async def restart_type(
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    ptype: str,
) -> Response:
    return await _restart(
        session=session, scheduler=scheduler, locks=locks, actor=actor, app_id=app_id, ptype=ptype
    )


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
    return await _restart(
        session=session,
        scheduler=scheduler,
        locks=locks,
        actor=actor,
        app_id=app_id,
        ptype=ptype,
        num=num,
    )


async def _restart(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    locks: AppLocks,
    actor: User,
    app_id: str,
    ptype: str | None = None,
    num: int | None = None,
) -> Response:
    """Restart the app's containers: all, those of ``ptype``, or container ``<ptype>.<num>``.
    The answer numbers them as the next list will show them."""
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        name = None
        if ptype is not None and num is not None:
            before = await processes.pods(scheduler=scheduler, app=app, ptype=ptype)
            target = pod_named(before, ptype, num)
            if target is None:
                raise NotFound(f"Container {ptype}.{num} does not exist in application")
            name = target.name
        restarted = await processes.restart(
            scheduler=scheduler, app=app, actor=actor.username, ptype=ptype, name=name
        )
        pods = await processes.pods(scheduler=scheduler, app=app, ptype=ptype)
    return JSON(containers(restarted, app_id=app_id, owner=access.owner, numbered_by=pods))


# Scaling is v2's: the same body, rules and 204; only the body's description says containers.
serve(router, process_routes.router, process_routes.scale, openapi_extra=takes(ScaleIn))
