"""v1 routes for the caller's SSH keys: list (own keys only), add and remove
(``DELETE keys/<id>``). The v2 key object is a superset of the v1 one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from dockyard.accounts import keys
from dockyard.accounts.schemas import KeyIn, KeyOut, key_out
from dockyard.api.body import body, takes
from dockyard.api.deps import SessionDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content

router = APIRouter(tags=["v1 keys"])


@router.get("/keys", responses={200: {"model": list[KeyOut]}, **errors(401)})
async def list_keys(
    request: Request, session: SessionDep, actor: UserDep, page: PageDep
) -> Response:
    count, rows = await keys.list_keys(
        session=session, owner=actor, limit=page.limit, offset=page.offset
    )
    return JSON(paginated(request, page, count, [key_out(k, actor.username) for k in rows]))


@router.post(
    "/keys",
    status_code=201,
    openapi_extra=takes(KeyIn),
    responses={201: {"model": KeyOut}, **errors(400, 401)},
)
async def add_key(
    session: SessionDep, actor: UserDep, data: Annotated[KeyIn, body(KeyIn)]
) -> Response:
    key = await keys.add_key(session=session, owner=actor, key_id=data.id, public=data.public)
    return JSON(key_out(key, actor.username), status_code=201)


@router.delete("/keys/{key_id}", status_code=204, responses=errors(401, 404))
async def remove_key(session: SessionDep, actor: UserDep, key_id: str) -> Response:
    await keys.remove_key(session=session, owner=actor, key_id=key_id)
    return no_content()
