"""v1 routes for apps: list, create, detail and destroy (v2's own handlers: v1 asks and
answers the same), logs as a JSON string (the v1 clients decode the body as JSON, or strip
its quotes), and one-off runs answered ``[exit_code, "output"]`` (1.6), or ``{"rc", "output"}``
to a client that sends ``X-Deis-Version: 1.2``."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from dockyard.api.body import body, takes
from dockyard.api.deps import SchedulerDep, SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.responses import JSON, no_content
from dockyard.api.v1.common import run_answer, serve, wants_v12
from dockyard.apps import process_routes
from dockyard.apps import routes as v2
from dockyard.apps.process_routes import LogLines, RunIn

router = APIRouter(tags=["v1 apps"])
serve(router, v2.router, v2.list_apps, v2.create_app, v2.app_detail, v2.destroy_app)

RUN_ANSWER = {
    "description": "``[exit_code, output]``; ``{rc, output}`` for ``X-Deis-Version: 1.2``",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {
                        "type": "array",
                        "prefixItems": [{"type": "integer"}, {"type": "string"}],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                    {
                        "type": "object",
                        "properties": {"rc": {"type": "integer"}, "output": {"type": "string"}},
                        "required": ["rc", "output"],
                    },
                ]
            }
        }
    },
}
LOGS_ANSWER = {
    "description": "The log as a JSON-encoded string (``text/plain``, as the v1 reference)",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


@router.get(
    "/apps/{app_id}/logs",
    response_class=PlainTextResponse,
    responses={200: LOGS_ANSWER, 204: {"description": "No logs yet"}, **errors(401, 403, 404)},
)
async def logs(
    session: SessionDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    log_lines: LogLines = 100,
) -> Response:
    text = await process_routes.read_logs(
        session=session, scheduler=scheduler, actor=actor, app_id=app_id, lines=log_lines
    )
    if not text:
        return no_content()
    return PlainTextResponse(orjson.dumps(text))


@router.post(
    "/apps/{app_id}/run",
    openapi_extra=takes(RunIn),
    responses={200: RUN_ANSWER, **errors(400, 401, 403, 404)},
)
async def run(
    request: Request,
    session: SessionDep,
    scheduler: SchedulerDep,
    actor: UserDep,
    app_id: str,
    data: Annotated[RunIn, body(RunIn)],
) -> Response:
    result = await process_routes.run_command(
        session=session, scheduler=scheduler, actor=actor, app_id=app_id, command=data.command
    )
    return JSON(run_answer(result.exit_code, result.output, v12=wants_v12(request)))
