"""Routes for an app's domains, TLS switch, settings and whitelist. Anyone with access to
the app (owner, collaborator, superuser) may read and change them; others get 403.

The whitelist is served under two paths by the same handlers: ``whitelist`` (Deis, Drycc
up to v2.3) and ``allowlist`` (the name later Drycc clients use)."""

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
from dockyard.routing import app_settings, domains
from dockyard.routing.schemas import (
    DomainIn,
    DomainOut,
    SettingsIn,
    SettingsOut,
    TLSIn,
    TLSOut,
    WhitelistIn,
    WhitelistOut,
    domain_out,
    settings_out,
    tls_out,
)
from dockyard.routing.settings_rules import SettingsChange

router = APIRouter()
APP_ERRORS = errors(401, 403, 404)


@router.get(
    "/apps/{app_id}/domains",
    tags=["domains"],
    responses={200: {"model": list[DomainOut]}, **APP_ERRORS},
)
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
    tags=["domains"],
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


@router.delete(
    "/apps/{app_id}/domains/{domain}", status_code=204, tags=["domains"], responses=APP_ERRORS
)
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


@router.get("/apps/{app_id}/tls", tags=["tls"], responses={200: {"model": TLSOut}, **APP_ERRORS})
async def get_tls(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    return JSON(tls_out(await app_settings.get_tls(session=session, access=access), app_id))


@router.post(
    "/apps/{app_id}/tls",
    status_code=201,
    tags=["tls"],
    openapi_extra=takes(TLSIn),
    responses={201: {"model": TLSOut}, **errors(400, 401, 403, 404, 409)},
)
async def set_tls(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[TLSIn, body(TLSIn)],
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    row = await app_settings.set_tls(
        session=session,
        scheduler=scheduler,
        access=access,
        actor=actor.username,
        https_enforced=data.https_enforced,
        platform_domain=settings.platform_domain,
    )
    return JSON(tls_out(row, app_id), status_code=201)


@router.get(
    "/apps/{app_id}/settings",
    tags=["settings"],
    responses={200: {"model": SettingsOut}, **APP_ERRORS},
)
async def get_settings(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    row = await app_settings.get_settings(session=session, access=access)
    return JSON(settings_out(row, app_id))


@router.post(
    "/apps/{app_id}/settings",
    status_code=201,
    tags=["settings"],
    openapi_extra=takes(SettingsIn),
    responses={201: {"model": SettingsOut}, **errors(400, 401, 403, 404, 409, 422)},
)
async def change_settings(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[SettingsIn, body(SettingsIn)],
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    row = await app_settings.change_settings(
        session=session,
        scheduler=scheduler,
        access=access,
        actor=actor.username,
        change=SettingsChange(**data.model_dump()),
        platform_domain=settings.platform_domain,
    )
    return JSON(settings_out(row, app_id), status_code=201)


@router.get(
    "/apps/{app_id}/allowlist",
    tags=["allowlist"],
    responses={200: {"model": WhitelistOut}, **APP_ERRORS},
)
@router.get(
    "/apps/{app_id}/whitelist",
    tags=["whitelist"],
    responses={200: {"model": WhitelistOut}, **APP_ERRORS},
)
async def get_whitelist(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    return JSON({"addresses": await app_settings.get_whitelist(session=session, access=access)})


@router.post(
    "/apps/{app_id}/allowlist",
    status_code=201,
    tags=["allowlist"],
    openapi_extra=takes(WhitelistIn),
    responses={201: {"model": WhitelistOut}, **errors(400, 401, 403, 404, 409)},
)
@router.post(
    "/apps/{app_id}/whitelist",
    status_code=201,
    tags=["whitelist"],
    openapi_extra=takes(WhitelistIn),
    responses={201: {"model": WhitelistOut}, **errors(400, 401, 403, 404, 409)},
)
async def add_whitelist(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[WhitelistIn, body(WhitelistIn)],
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    addresses = await app_settings.add_addresses(
        session=session,
        scheduler=scheduler,
        access=access,
        actor=actor.username,
        addresses=data.addresses,
        platform_domain=settings.platform_domain,
    )
    return JSON({"addresses": addresses}, status_code=201)


@router.delete(
    "/apps/{app_id}/allowlist",
    status_code=204,
    tags=["allowlist"],
    openapi_extra=takes(WhitelistIn),
    responses=errors(400, 401, 403, 404, 422),
)
@router.delete(
    "/apps/{app_id}/whitelist",
    status_code=204,
    tags=["whitelist"],
    openapi_extra=takes(WhitelistIn),
    responses=errors(400, 401, 403, 404, 422),
)
async def remove_whitelist(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[WhitelistIn, body(WhitelistIn)],
) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    await app_settings.remove_addresses(
        session=session,
        scheduler=scheduler,
        access=access,
        actor=actor.username,
        addresses=data.addresses,
        platform_domain=settings.platform_domain,
    )
    return no_content()
