"""v1 routes for config, which also carries limits (``memory``, ``cpu``) and ``tags``: the v1
clients read and write all three through ``apps/<id>/config``. Reading is v2's own handler. A
POST takes each map as a JSON object or, as the v1 Python client sends it, as a JSON string
inside the JSON body; once decoded it is v2's (``save_config``): 201 with the new release
number in ``X-Deis-Release`` and ``Deis-Release``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.api.body import read_body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.v1.common import decode_maps, serve
from dockyard.releases import config_rules
from dockyard.releases import routes as v2
from dockyard.releases.schemas import ConfigIn, ConfigOut

router = APIRouter(tags=["v1 config"])
serve(router, v2.router, v2.get_config)


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
    return await v2.save_config(
        session=session,
        scheduler=scheduler,
        locks=locks,
        actor=actor,
        app_id=app_id,
        changes=changes,
    )
