"""v1 routes for accounts: the ``/v1`` root the clients probe (401 without a token), register
and login (JSON or form-encoded, as the v1 Python client posts them), cancel, token
regeneration, password change, and the superuser's user list. Only the root is v1's own: the
rest asks and answers exactly what v2 does, so the v2 handlers serve both."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from dockyard.accounts import routes as v2
from dockyard.api.deps import UserDep
from dockyard.api.errors import errors
from dockyard.api.responses import JSON
from dockyard.api.v1.common import serve

router = APIRouter(tags=["v1 auth"])


@router.get("", responses=errors(401))
async def api_root(actor: UserDep) -> Response:
    """The v1 clients probe ``GET /v1/`` before register and login and refuse a server that
    does not answer 401 without a token."""
    return JSON({"username": actor.username})


serve(router, v2.router, v2.register, v2.login, v2.cancel, v2.tokens, v2.passwd, v2.users)
