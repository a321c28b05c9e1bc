"""Routes for stopping and starting an app's process types (Drycc's ``stop`` and ``start``,
Heroku's ``ps:stop``/``ps:start``) and for listing its services (process types and ports).
Permission is the app's ``use`` right, as for scale and every read of the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from dockyard.api.body import body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.apps import processes, service_ports
from dockyard.apps.service import hold_app, load_app

router = APIRouter(tags=["processes"])

ProcessType = Annotated[str, Field(max_length=63)]


class TypesIn(BaseModel):
    """The process types to stop or start, e.g. ``{"types": ["web", "worker"]}``."""

    model_config = ConfigDict(extra="ignore")
    types: list[ProcessType] | None = Field(default=None, max_length=100)


class ServiceOut(BaseModel):
    procfile_type: str
    port: int
    protocol: str
    target_port: int


class ServicesOut(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[ServiceOut]


async def _scale_types(
    operation: Callable[..., Awaitable[None]],
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    data: TypesIn,
) -> Response:
    """Run ``processes.stop`` or ``processes.start`` under the app's lock, as scale does."""
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        await operation(
            session=session, scheduler=scheduler, app=app, actor=actor.username, types=data.types
        )
    return no_content()


@router.post(
    "/apps/{app_id}/stop",
    status_code=204,
    openapi_extra=takes(TypesIn),
    responses=errors(400, 401, 403, 404),
)
async def stop(
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[TypesIn, body(TypesIn)],
) -> Response:
    """Scale the types to 0 and remember their counts for ``start``."""
    return await _scale_types(processes.stop, session, scheduler, locks, actor, app_id, data)


@router.post(
    "/apps/{app_id}/start",
    status_code=204,
    openapi_extra=takes(TypesIn),
    responses=errors(400, 401, 403, 404),
)
async def start(
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[TypesIn, body(TypesIn)],
) -> Response:
    """Bring the stopped types back to their remembered counts (others are left alone)."""
    return await _scale_types(processes.start, session, scheduler, locks, actor, app_id, data)


@router.get(
    "/apps/{app_id}/services",
    tags=["services"],
    responses={200: {"model": ServicesOut}, **errors(401, 403, 404)},
)
async def services(
    request: Request, session: SessionDep, actor: UserDep, app_id: str, page: PageDep
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    found = [s.as_api() for s in await service_ports.services(session=session, app=access.app)]
    shown = found[page.offset : page.offset + page.limit]
    return JSON(paginated(request, page, len(found), shown))
