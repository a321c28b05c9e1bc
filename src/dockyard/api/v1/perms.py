"""v1 routes for permissions: an app's collaborators (``{"users": [...]}``, not paginated)
and the superusers (``admin/perms``). Removing a collaborator answers both ``DELETE`` (v1.6)
and ``POST`` (what the v1.2 reference documents) on ``perms/<username>``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.accounts import service as accounts
from dockyard.accounts.schemas import AdminOut, UsernameIn
from dockyard.api.body import body, takes
from dockyard.api.deps import SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.apps import perms
from dockyard.apps.schemas import PermsOut
from dockyard.apps.service import load_app

router = APIRouter(tags=["v1 perms"])


@router.get("/apps/{app_id}/perms", responses={200: {"model": PermsOut}, **errors(401, 403, 404)})
async def list_perms(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
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
    access = await load_app(session=session, user=actor, app_id=app_id)
    await perms.add_collaborator(session=session, access=access, username=data.username)
    return JSON({"username": data.username}, status_code=201)


async def _unshare(session: SessionDep, actor: UserDep, app_id: str, username: str) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    await perms.remove_collaborator(session=session, access=access, actor=actor, username=username)
    return no_content()


router.add_api_route(
    "/apps/{app_id}/perms/{username}",
    _unshare,
    methods=["DELETE"],
    status_code=204,
    responses=errors(401, 403, 404),
    name="remove_perm",
)
router.add_api_route(
    "/apps/{app_id}/perms/{username}",
    _unshare,
    methods=["POST"],
    status_code=204,
    responses=errors(401, 403, 404),
    name="remove_perm_v12",
    description="The v1.2 reference documents removal as a POST.",
)


@router.get("/admin/perms", responses={200: {"model": list[AdminOut]}, **errors(401, 403)})
async def list_admins(
    request: Request, session: SessionDep, actor: UserDep, page: PageDep
) -> Response:
    accounts.require_superuser(actor)
    count, rows = await accounts.list_users(
        session, limit=page.limit, offset=page.offset, superusers_only=True
    )
    results = [{"username": u.username, "is_superuser": u.is_superuser} for u in rows]
    return JSON(paginated(request, page, count, results))


@router.post(
    "/admin/perms",
    status_code=201,
    openapi_extra=takes(UsernameIn),
    responses={201: {"model": AdminOut}, **errors(400, 401, 403, 404)},
)
async def grant_admin(
    session: SessionDep, actor: UserDep, data: Annotated[UsernameIn, body(UsernameIn)]
) -> Response:
    user = await accounts.grant_admin(session=session, actor=actor, username=data.username)
    return JSON({"username": user.username, "is_superuser": True}, status_code=201)


@router.delete("/admin/perms/{username}", status_code=204, responses=errors(401, 403, 404, 409))
async def revoke_admin(session: SessionDep, actor: UserDep, username: str) -> Response:
    await accounts.revoke_admin(session=session, actor=actor, username=username)
    return no_content()
