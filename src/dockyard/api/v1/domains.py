"""v1 routes for an app's custom domains: list, add and remove (``DELETE domains/<d>``, no
trailing slash needed). Same rules as v2: normalised, unique across apps, never under the
platform domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.api.body import body, takes
from dockyard.api.deps import SchedulerDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.apps.service import load_app
from dockyard.routing import domains
from dockyard.routing.schemas import DomainIn, DomainOut, domain_out

router = APIRouter(tags=["v1 domains"])
APP_ERRORS = errors(401, 403, 404)


@router.get("/apps/{app_id}/domains", responses={200: {"model": list[DomainOut]}, **APP_ERRORS})
async def list_domains(
    request: Request, session: SessionDep, actor: UserDep, app_id: str, page: PageDep
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    count, rows = await domains.list_domains(
        session=session, access=access, limit=page.limit, offset=page.offset
    )
    return JSON(paginated(request, page, count, [domain_out(d, app_id) for d in rows]))


@router.post(
    "/apps/{app_id}/domains",
    status_code=201,
    openapi_extra=takes(DomainIn),
    responses={201: {"model": DomainOut}, **errors(400, 401, 403, 404)},
)
async def add_domain(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[DomainIn, body(DomainIn)],
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    row = await domains.add_domain(
        session=session,
        scheduler=scheduler,
        access=access,
        actor=actor.username,
        domain=data.domain,
        platform_domain=settings.platform_domain,
    )
    return JSON(domain_out(row, app_id), status_code=201)


@router.delete("/apps/{app_id}/domains/{domain}", status_code=204, responses=APP_ERRORS)
async def remove_domain(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    domain: str,
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    await domains.remove_domain(
        session=session,
        scheduler=scheduler,
        access=access,
        actor=actor.username,
        domain=domain,
        platform_domain=settings.platform_domain,
    )
    return no_content()
