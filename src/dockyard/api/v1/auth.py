"""v1 routes for accounts: the ``/v1`` root the clients probe (401 without a token), register
and login (JSON or form-encoded, as the v1 Python client posts them), cancel, token
regeneration, password change, and the superuser's user list. Same services, same rules and
answers as v2."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.accounts import service
from dockyard.accounts.schemas import (
    CancelIn,
    LoginIn,
    PasswdIn,
    RegisterIn,
    TokenOut,
    TokensIn,
    UserOut,
    user_out,
)
from dockyard.api.body import body, takes
from dockyard.api.deps import OptionalUserDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content

router = APIRouter(tags=["v1 auth"])


@router.get("", responses=errors(401))
async def api_root(actor: UserDep) -> Response:
    """The v1 clients probe ``GET /v1/`` before register and login and refuse a server that
    does not answer 401 without a token."""
    return JSON({"username": actor.username})


@router.post(
    "/auth/register",
    status_code=201,
    openapi_extra=takes(RegisterIn),
    responses={201: {"model": UserOut}, **errors(400, 401, 403)},
)
async def register(
    session: SessionDep,
    settings: SettingsDep,
    actor: OptionalUserDep,
    data: Annotated[RegisterIn, body(RegisterIn)],
) -> Response:
    user = await service.register(
        session=session, mode=settings.registration_mode, actor=actor, data=data
    )
    return JSON(user_out(user), status_code=201)


@router.post(
    "/auth/login",
    openapi_extra=takes(LoginIn),
    responses={200: {"model": TokenOut}, **errors(400)},
)
async def login(session: SessionDep, data: Annotated[LoginIn, body(LoginIn)]) -> Response:
    token = await service.login(session=session, username=data.username, password=data.password)
    return JSON({"token": token})


@router.delete(
    "/auth/cancel",
    status_code=204,
    openapi_extra=takes(CancelIn, required=False),
    responses=errors(400, 401, 403, 404, 409),
)
async def cancel(
    session: SessionDep, actor: UserDep, data: Annotated[CancelIn, body(CancelIn)]
) -> Response:
    await service.cancel(session=session, actor=actor, username=data.username)
    return no_content()


@router.post(
    "/auth/tokens",
    openapi_extra=takes(TokensIn, required=False),
    responses={200: {"model": TokenOut}, **errors(400, 401, 403, 404)},
)
async def tokens(
    session: SessionDep, actor: UserDep, data: Annotated[TokensIn, body(TokensIn)]
) -> Response:
    token = await service.regenerate_tokens(
        session=session, actor=actor, username=data.username, everyone=data.all
    )
    if token is None:
        return JSON({"detail": "Every token was revoked; all users must log in again."})
    return JSON({"token": token})


@router.post(
    "/auth/passwd",
    openapi_extra=takes(PasswdIn),
    responses={200: {"description": "Password changed"}, **errors(400, 401, 403, 404)},
)
async def passwd(
    session: SessionDep, actor: UserDep, data: Annotated[PasswdIn, body(PasswdIn)]
) -> Response:
    await service.change_password(
        session=session,
        actor=actor,
        password=data.password,
        new_password=data.new_password,
        username=data.username,
    )
    return JSON({})


@router.get("/users", responses={200: {"model": list[UserOut]}, **errors(401, 403)})
async def users(request: Request, session: SessionDep, actor: UserDep, page: PageDep) -> Response:
    service.require_superuser(actor)
    count, rows = await service.list_users(session, limit=page.limit, offset=page.offset)
    return JSON(paginated(request, page, count, [user_out(u) for u in rows]))
