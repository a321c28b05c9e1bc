"""v1 routes for config, which also carries limits (``memory``, ``cpu``) and ``tags``: the v1
clients read and write all three through ``apps/<id>/config``. A POST takes each map as a JSON
object or, as the v1 Python client sends it, as a JSON string inside the JSON body; once
decoded it is v2's (``save_config``): 201 with the new release number in ``X-Deis-Release``
and ``Deis-Release``.

CPU limits are Docker CPU shares in v1 (numbers, ``{"web": 512}``) and millicores in v2
(``"500m"``): a v1 POST stores shares as millicores, and both v1 answers (GET and POST) show
the stored limits as shares (``common.cpu_limits_in``/``cpu_limits_out``, converted by
``core.cpu_shares``). Everything else is v2's answer as it is."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.api.body import read_body, takes
from dockyard.api.deps import LocksDep, SchedulerDep, SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.responses import JSON
from dockyard.api.v1.common import cpu_limits_in, cpu_limits_out, decode_maps
from dockyard.releases import config_rules
from dockyard.releases import routes as v2
from dockyard.releases.schemas import ConfigIn, ConfigOut

router = APIRouter(tags=["v1 config"])


class ConfigOutV1(ConfigOut):
    """v2's config, with CPU limits as shares (a value that does not parse stays a string)."""

    cpu: dict[str, int | str]  # type: ignore[assignment]


def _with_shares(answer: Response) -> Response:
    """v2's config answer with its CPU limits as shares; status and headers (the release
    number of a POST) kept."""
    content: dict[str, Any] = orjson.loads(answer.body)
    content["cpu"] = cpu_limits_out(content.get("cpu") or {})
    headers = {
        k: v for k, v in answer.headers.items() if k not in ("content-length", "content-type")
    }
    return JSON(content, status_code=answer.status_code, headers=headers)


@router.get("/apps/{app_id}/config", responses={200: {"model": ConfigOutV1}, **v2.APP_ERRORS})
async def get_config(session: SessionDep, actor: UserDep, app_id: str) -> Response:
    return _with_shares(await v2.get_config(session=session, actor=actor, app_id=app_id))


@router.post(
    "/apps/{app_id}/config",
    status_code=201,
    openapi_extra=takes(ConfigIn),
    responses={201: {"model": ConfigOutV1}, **errors(400, 401, 403, 404, 409, 422)},
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
    if "cpu" in changes:
        changes["cpu"] = cpu_limits_in(changes["cpu"])
    answer = await v2.save_config(
        session=session,
        scheduler=scheduler,
        locks=locks,
        actor=actor,
        app_id=app_id,
        changes=changes,
    )
    return _with_shares(answer)
