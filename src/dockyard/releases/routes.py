"""Routes for listing releases and reading one by version (``v3`` or ``3``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.api.deps import SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON
from dockyard.apps.service import load_app
from dockyard.releases import service
from dockyard.releases.schemas import ReleaseOut, release_out

router = APIRouter(tags=["releases"])


@router.get(
    "/apps/{app_id}/releases",
    responses={200: {"model": list[ReleaseOut]}, **errors(401, 403, 404)},
)
async def list_releases(
    request: Request, session: SessionDep, actor: UserDep, app_id: str, page: PageDep
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    count, rows = await service.list_releases(
        session=session, app=access.app, limit=page.limit, offset=page.offset
    )
    return JSON(paginated(request, page, count, [release_out(r, app_id) for r in rows]))


@router.get(
    "/apps/{app_id}/releases/{version}",
    responses={200: {"model": ReleaseOut}, **errors(401, 403, 404)},
)
async def release_detail(
    session: SessionDep, actor: UserDep, app_id: str, version: str
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    release = await service.get_release(session=session, app=access.app, version=version)
    return JSON(release_out(release, app_id))
