"""v1 routes for an app's custom domains: list, add and remove (``DELETE domains/<d>``, no
trailing slash needed). Same rules and answers as v2 (normalised, unique across apps, never
under the platform domain), so the v2 handlers serve both."""

from __future__ import annotations

from fastapi import APIRouter

from dockyard.api.v1.common import serve
from dockyard.routing import routes as v2

router = APIRouter(tags=["v1 domains"])
serve(router, v2.router, v2.list_domains, v2.add_domain, v2.remove_domain)
