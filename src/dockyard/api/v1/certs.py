"""v1 routes for certificates, addressed by common name: list, upload (``certificate``,
``key`` and optionally ``common_name``), show and delete ``certs/<common name>``. The
answers are the v2 certificate object, a superset of v1's ``{common_name, expires, ...}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from dockyard.api.body import body, takes
from dockyard.api.deps import SchedulerDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.routing import certs, common_names
from dockyard.routing.schemas import MAX_PEM, CertOut, cert_out

router = APIRouter(tags=["v1 certs"])


class CertIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    certificate: str = Field(max_length=MAX_PEM)
    key: str = Field(max_length=MAX_PEM)
    common_name: str | None = Field(default=None, max_length=1024)


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
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    data: Annotated[CertIn, body(CertIn)],
) -> Response:
    view = await common_names.create_for_common_name(
        session=session,
        scheduler=scheduler,
        owner=actor,
        certificate=data.certificate,
        key=data.key,
        common_name=data.common_name,
        platform_domain=settings.platform_domain,
    )
    return JSON(cert_out(view), status_code=201)


@router.get("/certs/{common_name}", responses={200: {"model": CertOut}, **errors(401, 404)})
async def cert_detail(session: SessionDep, actor: UserDep, common_name: str) -> Response:
    view = await common_names.get_by_common_name(
        session=session, user=actor, common_name=common_name
    )
    return JSON(cert_out(view))


@router.delete("/certs/{common_name}", status_code=204, responses=errors(401, 404))
async def delete_cert(
    session: SessionDep,
    settings: SettingsDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    common_name: str,
) -> Response:
    await common_names.delete_by_common_name(
        session=session,
        scheduler=scheduler,
        user=actor,
        common_name=common_name,
        platform_domain=settings.platform_domain,
    )
    return no_content()
