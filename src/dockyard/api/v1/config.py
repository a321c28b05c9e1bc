"""v1 routes for config, which also carries limits (``memory``, ``cpu``) and ``tags``: the v1
clients read and write all three through ``apps/<id>/config``. A POST takes each map as a
JSON object or, as the v1 Python client sends it, as a JSON string inside the JSON body; it
answers 201 with the new release number in ``X-Deis-Release`` and ``Deis-Release``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.api.body import read_body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.responses import JSON, release_headers
from dockyard.api.v1.common import decode_maps
from dockyard.apps.service import hold_app, load_app
from dockyard.releases import config_rules, config_service
from dockyard.releases.schemas import ConfigIn, ConfigOut, config_out

router = APIRouter(tags=["v1 config"])


@router.get("/apps/{app_id}/config", responses={200: {"model": ConfigOut}, **errors(401, 403, 404)})
async def get_config(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    access = await load_app(session=session, user=actor, app_id=app_id)
    config = await config_service.current_config(session, access.app)
    return JSON(config_out(config, app_id))


@router.post(
    "/apps/{app_id}/config",
    status_code=201,
    openapi_extra=takes(ConfigIn),
    responses={201: {"model": ConfigOut}, **errors(400, 401, 403, 404, 409, 422)},
)
async def set_config(
    request: Request,
    session: SessionDep,
    scheduler: SchedulerDep,
    locks: LocksDep,
    actor: UserDep,
    app_id: str,
) -> Response:
    changes = decode_maps(await read_body(request), config_rules.FIELDS)
    access = await load_app(session=session, user=actor, app_id=app_id)
    async with hold_app(session, locks, access.app) as app:
        config, release = await config_service.set_config(
            session=session, scheduler=scheduler, app=app, actor=actor.username, changes=changes
        )
    return JSON(
        config_out(config, app_id), status_code=201, headers=release_headers(release.version)
    )
