"""Health, readiness and the authenticated API root."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from dockyard.api.deps import UserDep, get_database
from dockyard.api.errors import errors
from dockyard.api.responses import JSON

router = APIRouter(tags=["health"])


@router.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> Response:
    return PlainTextResponse("OK")


@router.get(
    "/readiness",
    response_class=PlainTextResponse,
    responses={503: {"description": "The database is not reachable"}},
)
async def readiness(request: Request) -> Response:
    try:
        await get_database(request).ping()
    except Exception:  # any driver error means "not ready", never a 500
        return PlainTextResponse("database unavailable", status_code=503)
    return PlainTextResponse("OK")


@router.get("/v2", responses=errors(401))
async def api_root(actor: UserDep) -> Response:
    """The v2 CLI probes this before register/login: unauthenticated it must answer 401."""
    return JSON({"username": actor.username})
