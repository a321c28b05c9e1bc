"""v1 routes for apps: list, create, detail and destroy (the v2 shapes), logs as a JSON
string (the v1 clients decode the body as JSON, or strip its quotes), and one-off runs
answered ``[exit_code, "output"]`` (1.6), or ``{"rc", "output"}`` to a client that sends
``X-Deis-Version: 1.2``."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import PlainTextResponse, Response

from dockyard.api.body import body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.api.v1.common import run_answer, wants_v12
from dockyard.apps import processes, service
from dockyard.apps.schemas import AppCreateIn, AppOut, app_out

router = APIRouter(tags=["v1 apps"])


class RunIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    command: str | None = None


RUN_ANSWER = {
    "description": "``[exit_code, output]``; ``{rc, output}`` for ``X-Deis-Version: 1.2``",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {
                        "type": "array",
                        "prefixItems": [{"type": "integer"}, {"type": "string"}],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                    {
                        "type": "object",
                        "properties": {"rc": {"type": "integer"}, "output": {"type": "string"}},
                        "required": ["rc", "output"],
                    },
                ]
            }
        }
    },
}
LOGS_ANSWER = {
    "description": "The log as a JSON-encoded string (``text/plain``, as the v1 reference)",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


@router.get("/apps", responses={200: {"model": list[AppOut]}, **errors(401)})
async def list_apps(
    request: Request, session: SessionDep, settings: SettingsDep, actor: UserDep, page: PageDep
) -> Response:
    count, rows = await service.list_apps(
        session=session, user=actor, limit=page.limit, offset=page.offset
    )
    domain = settings.app_domain
    return JSON(paginated(request, page, count, [app_out(a, o, domain) for a, o in rows]))


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
    )
    return JSON(app_out(app, actor.username, settings.app_domain), status_code=201)


@router.get("/apps/{app_id}", responses={200: {"model": AppOut}, **errors(401, 403, 404)})
async def app_detail(
    session: SessionDep, settings: SettingsDep, actor: UserDep, app_id: str
) -> Response:
    access = await service.load_app(session=session, user=actor, app_id=app_id)
    return JSON(app_out(access.app, access.owner, settings.app_domain))


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
            builds_root=settings.data_dir / "builds",
        )
    return no_content()


@router.get(
    "/apps/{app_id}/logs",
    response_class=PlainTextResponse,
    responses={200: LOGS_ANSWER, 204: {"description": "No logs yet"}, **errors(401, 403, 404)},
)
async def logs(
    session: SessionDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    log_lines: Annotated[int, Query(ge=1, le=100_000)] = 100,
) -> Response:
    access = await service.load_app(session=session, user=actor, app_id=app_id)
    text = await processes.logs(scheduler=scheduler, app=access.app, lines=log_lines)
    if not text:
        return no_content()
    return PlainTextResponse(orjson.dumps(text))


@router.post(
    "/apps/{app_id}/run",
    openapi_extra=takes(RunIn),
    responses={200: RUN_ANSWER, **errors(400, 401, 403, 404)},
)
async def run(
    request: Request,
    session: SessionDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[RunIn, body(RunIn)],
) -> Response:
    access = await service.load_app(session=session, user=actor, app_id=app_id)
    result = await processes.run(
        session=session,
        scheduler=scheduler,
        app=access.app,
        actor=actor.username,
        command=data.command,
    )
    return JSON(run_answer(result.exit_code, result.output, v12=wants_v12(request)))
