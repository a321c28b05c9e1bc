"""Routes for auth (register, login, passwd, cancel, tokens, whoami), users and admin perms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.accounts import service
from dockyard.accounts.schemas import (
    AdminOut,
    CancelIn,
    LoginIn,
    PasswdIn,
    RegisterIn,
    TokenOut,
    TokensIn,
    UsernameIn,
    UserOut,
    user_out,
)
from dockyard.api.body import body, takes
from dockyard.api.deps import AddressDep, OptionalUserDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content

router = APIRouter()


@router.post(
    "/auth/register",
    status_code=201,
    tags=["auth"],
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
    tags=["auth"],
    openapi_extra=takes(LoginIn),
    responses={200: {"model": TokenOut}, **errors(400, 429)},
)
async def login(
    session: SessionDep, address: AddressDep, data: Annotated[LoginIn, body(LoginIn)]
) -> Response:
    token = await service.login(
        session=session, username=data.username, password=data.password, address=address
    )
    return JSON({"token": token})


@router.post(
    "/auth/passwd",
    tags=["auth"],
    openapi_extra=takes(PasswdIn),
    responses={200: {"description": "Password changed"}, **errors(400, 401, 403, 404, 429)},
)
async def passwd(
    session: SessionDep,
    actor: UserDep,
    address: AddressDep,
    data: Annotated[PasswdIn, body(PasswdIn)],
) -> Response:
    await service.change_password(
        session=session,
        actor=actor,
        password=data.password,
        new_password=data.new_password,
        username=data.username,
        address=address,
    )
    return JSON({})


@router.delete(
    "/auth/cancel",
    status_code=204,
    tags=["auth"],
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
    tags=["auth"],
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


@router.get("/auth/whoami", tags=["auth"], responses={200: {"model": UserOut}, **errors(401)})
async def whoami(actor: UserDep) -> Response:
    return JSON(user_out(actor))


@router.get("/users", tags=["users"], responses={200: {"model": list[UserOut]}, **errors(401, 403)})
async def users(request: Request, session: SessionDep, actor: UserDep, page: PageDep) -> Response:
    service.require_superuser(actor)
    count, rows = await service.list_users(session, limit=page.limit, offset=page.offset)
    return JSON(paginated(request, page, count, [user_out(u) for u in rows]))


@router.patch(
    "/users/{username}/disable",
    status_code=204,
    tags=["users"],
    responses=errors(400, 401, 403, 404),
)
async def disable_user(session: SessionDep, actor: UserDep, username: str) -> Response:
    """Refuse the user's tokens and logins until an administrator enables them again."""
    await service.set_active(session=session, actor=actor, username=username, active=False)
    return no_content()


@router.patch(
    "/users/{username}/enable",
    status_code=204,
    tags=["users"],
    responses=errors(401, 403, 404),
)
async def enable_user(session: SessionDep, actor: UserDep, username: str) -> Response:
    await service.set_active(session=session, actor=actor, username=username, active=True)
    return no_content()


@router.get(
    "/admin/perms", tags=["admin"], responses={200: {"model": list[AdminOut]}, **errors(401, 403)}
)
async def list_admins(
    request: Request, session: SessionDep, actor: UserDep, page: PageDep
) -> Response:
    service.require_superuser(actor)
    count, rows = await service.list_users(
        session, limit=page.limit, offset=page.offset, superusers_only=True
    )
    results = [{"username": u.username, "is_superuser": u.is_superuser} for u in rows]
    return JSON(paginated(request, page, count, results))


@router.post(
    "/admin/perms",
    status_code=201,
    tags=["admin"],
    openapi_extra=takes(UsernameIn),
    responses={201: {"model": AdminOut}, **errors(400, 401, 403, 404)},
)
async def grant_admin(
    session: SessionDep, actor: UserDep, data: Annotated[UsernameIn, body(UsernameIn)]
) -> Response:
    user = await service.grant_admin(session=session, actor=actor, username=data.username)
    return JSON({"username": user.username, "is_superuser": True}, status_code=201)


@router.delete(
    "/admin/perms/{username}",
    status_code=204,
    tags=["admin"],
    responses=errors(401, 403, 404, 409),
)
async def revoke_admin(session: SessionDep, actor: UserDep, username: str) -> Response:
    await service.revoke_admin(session=session, actor=actor, username=username)
    return no_content()
