"""Routes for an app's processes: scale, pods, restart, run and logs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import PlainTextResponse, Response

from dockyard.accounts.models import User
from dockyard.api.body import body, read_body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.negotiation import wants_json
from dockyard.api.responses import JSON, no_content
from dockyard.apps import processes
from dockyard.apps.service import hold_app, load_app
from dockyard.scheduler.base import RunResult, Scheduler

router = APIRouter(tags=["processes"])


class ScaleIn(BaseModel):
    """Process type to number of pods, e.g. ``{"web": 3, "worker": 1}``."""

    model_config = ConfigDict(extra="allow")


class RunIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    command: str | None = None


# How many lines of the log to answer (``?log_lines=``), for v2 and v1 alike.
LogLines = Annotated[int, Query(ge=1, le=100_000)]


class PodOut(BaseModel):
    name: str
    state: str
    release: str
    type: str
    started: str


class RunOut(BaseModel):
    exit_code: int
    output: str


def _pods(pods: list[Any]) -> list[dict[str, str]]:
    return [p.as_api() for p in pods]


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


@router.get(
    "/apps/{app_id}/pods", responses={200: {"model": list[PodOut]}, **errors(401, 403, 404)}
)
async def list_pods(
    session: SessionDep, scheduler: SchedulerDep, actor: UserDep, app_id: str
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    pods = _pods(await processes.pods(scheduler=scheduler, app=access.app))
    return JSON({"count": len(pods), "next": None, "previous": None, "results": pods})


@router.post(
    "/apps/{app_id}/pods/restart",
    responses={200: {"model": list[PodOut]}, **errors(400, 401, 403, 404)},
)
async def restart_all(
    session: SessionDep, scheduler: SchedulerDep, locks: LocksDep, actor: UserDep, app_id: str
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        pods = await processes.restart(scheduler=scheduler, app=app, actor=actor.username)
    return JSON(_pods(pods))


@router.get(
    "/apps/{app_id}/pods/{ptype}",
    responses={200: {"model": list[PodOut]}, **errors(401, 403, 404)},
)
async def list_pods_of_type(
    session: SessionDep, scheduler: SchedulerDep, actor: UserDep, app_id: str, ptype: str
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    pods = _pods(await processes.pods(scheduler=scheduler, app=access.app, ptype=ptype))
    return JSON({"count": len(pods), "next": None, "previous": None, "results": pods})


@router.post(
    "/apps/{app_id}/pods/{target}/restart",
    responses={200: {"model": list[PodOut]}, **errors(400, 401, 403, 404)},
)
async def restart_type_or_pod(
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    target: str,
) -> Response:
    """``target`` is a process type, or a pod name (``<app>-<type>-<digits>-<5 chars>``)."""
    is_pod = processes.POD_NAME_RE.match(target) is not None
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        pods = await processes.restart(
            scheduler=scheduler,
            app=app,
            actor=actor.username,
            ptype=None if is_pod else target,
            name=target if is_pod else None,
        )
    return JSON(_pods(pods))


@router.post(
    "/apps/{app_id}/pods/{ptype}/{name}/restart",
    responses={200: {"model": list[PodOut]}, **errors(400, 401, 403, 404)},
)
async def restart_pod(
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    ptype: str,
    name: str,
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        pods = await processes.restart(
            scheduler=scheduler, app=app, actor=actor.username, ptype=ptype, name=name
        )
    return JSON(_pods(pods))


@router.post(
    "/apps/{app_id}/run",
    openapi_extra=takes(RunIn),
    responses={200: {"model": RunOut}, **errors(400, 401, 403, 404)},
)
async def run(
    session: SessionDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[RunIn, body(RunIn)],
) -> Response:
    result = await run_command(
        session=session, scheduler=scheduler, actor=actor, app_id=app_id, command=data.command
    )
    return JSON({"exit_code": result.exit_code, "output": result.output})


async def run_command(
    *, session: AsyncSession, scheduler: Scheduler, actor: User, app_id: str, command: str | None
) -> RunResult:
    """A one-off run, as the v2 and v1 ``run`` handlers share it (they differ in the answer)."""
    access = await load_app(session=session, user=actor, app_id=app_id)
    return await processes.run(
        session=session,
        scheduler=scheduler,
        app=access.app,
        actor=actor.username,
        command=command,
    )


@router.get(
    "/apps/{app_id}/logs",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "The log as plain text; as a JSON string (the v2.3 reference's "
            "example) to a client whose ``Accept`` prefers ``application/json``",
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "string"}},
            },
        },
        204: {"description": "No logs yet"},
        **errors(401, 403, 404),
    },
)
async def logs(
    request: Request,
    session: SessionDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    log_lines: LogLines = 100,
) -> Response:
    """Go clients send no ``Accept`` and print the body; the npm ``deis-api`` library sends
    ``Accept: application/json`` and parses it (``api.negotiation``)."""
    text = await read_logs(
        session=session, scheduler=scheduler, actor=actor, app_id=app_id, lines=log_lines
    )
    if not text:
        return no_content()
    vary = {"Vary": "Accept"}
    if wants_json(request):
        return JSON(text, headers=vary)
    return PlainTextResponse(text, headers=vary)


async def read_logs(
    *, session: AsyncSession, scheduler: Scheduler, actor: User, app_id: str, lines: int
) -> str:
    """The tail of an app's log, as the v2 and v1 ``logs`` handlers share it (v1 answers it
    as a JSON string)."""
    access = await load_app(session=session, user=actor, app_id=app_id)
    return await processes.logs(scheduler=scheduler, app=access.app, lines=lines)
