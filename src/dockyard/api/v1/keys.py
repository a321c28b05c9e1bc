"""v1 routes for the caller's SSH keys: list (own keys only), add and remove
(``DELETE keys/<id>``). v1 asks and answers exactly what v2 does (the v2 key object is a
superset of the v1 one), so the v2 handlers serve both."""

from __future__ import annotations

from fastapi import APIRouter

from dockyard.accounts import key_routes as v2
from dockyard.api.v1.common import serve

router = APIRouter(tags=["v1 keys"])
serve(router, v2.router, v2.list_keys, v2.add_key, v2.remove_key)
