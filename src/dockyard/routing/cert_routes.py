"""Routes for certificates: list, upload, show, delete, attach to and detach from a domain.
Only the owner and superusers see a certificate; for anyone else it is 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.api.body import body, takes
from dockyard.api.deps import SchedulerDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.routing import certs
from dockyard.routing.schemas import CertDomainIn, CertIn, CertOut, cert_out

router = APIRouter(tags=["certs"])


@router.get("/certs", responses={200: {"model": list[CertOut]}, **errors(401)})
async def list_certs(
    request: Request, session: SessionDep, actor: UserDep, page: PageDep
) -> Response:
    count, views = await certs.list_certs(
        session=session, user=actor, limit=page.limit, offset=page.offset
    )
    return JSON(paginated(request, page, count, [cert_out(v) for v in views]))


@router.post(
    "/certs",
    status_code=201,
    openapi_extra=takes(CertIn),
    responses={201: {"model": CertOut}, **errors(400, 401)},
)
async def create_cert(
    session: SessionDep, actor: UserDep, data: Annotated[CertIn, body(CertIn)]
) -> Response:
    view = await certs.create_cert(
        session=session, owner=actor, name=data.name, certificate=data.certificate, key=data.key
    )
    return JSON(cert_out(view), status_code=201)


@router.get("/certs/{name}", responses={200: {"model": CertOut}, **errors(401, 404)})
async def cert_detail(session: SessionDep, actor: UserDep, name: str) -> Response:
    return JSON(cert_out(await certs.get_cert(session=session, user=actor, name=name)))


@router.delete("/certs/{name}", status_code=204, responses=errors(401, 404))
async def delete_cert(
    session: SessionDep, settings: SettingsDep, scheduler: SchedulerDep, actor: UserDep, name: str
) -> Response:
    await certs.delete_cert(
        session=session,
        scheduler=scheduler,
        user=actor,
        name=name,
        platform_domain=settings.platform_domain,
    )
    return no_content()


@router.post(
    "/certs/{name}/domain",
    status_code=201,
    openapi_extra=takes(CertDomainIn),
    responses={201: {"model": CertOut}, **errors(400, 401, 403, 404, 409)},
)
async def attach_domain(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    name: str,
    data: Annotated[CertDomainIn, body(CertDomainIn)],
) -> Response:
    view = await certs.attach(
        session=session,
        scheduler=scheduler,
        user=actor,
        name=name,
        domain=data.domain,
        platform_domain=settings.platform_domain,
    )
    return JSON(cert_out(view), status_code=201)


@router.delete("/certs/{name}/domain/{domain}", status_code=204, responses=errors(401, 404))
async def detach_domain(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    name: str,
    domain: str,
) -> Response:
    await certs.detach(
        session=session,
        scheduler=scheduler,
        user=actor,
        name=name,
        domain=domain,
        platform_domain=settings.platform_domain,
    )
    return no_content()
