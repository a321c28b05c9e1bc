"""v1 routes for certificates, addressed by common name: list, upload (``certificate``,
``key`` and optionally ``common_name``), show and delete ``certs/<common name>``. The
answers are the v2 certificate object, a superset of v1's ``{common_name, expires, ...}``;
the list is v2's own handler, the rest address certificates by common name, not v2's name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from dockyard.api.body import body, takes
from dockyard.api.deps import SchedulerDep, SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.responses import JSON, no_content
from dockyard.api.v1.common import serve
from dockyard.routing import cert_routes as v2
from dockyard.routing import common_names
from dockyard.routing.schemas import MAX_PEM, CertOut, cert_out

router = APIRouter(tags=["v1 certs"])
serve(router, v2.router, v2.list_certs)


class CertIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    certificate: str = Field(max_length=MAX_PEM)
    key: str = Field(max_length=MAX_PEM)
    common_name: str | None = Field(default=None, max_length=1024)


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
