"""v1 routes for builds and releases: list and create builds (the new release number in
``X-Deis-Release`` and ``Deis-Release``), list releases newest first, show one (``v3`` or
``3``), and roll back (201 ``{"version": <new>}``). All of it is what v2 answers, so the v2
handlers serve both."""

from __future__ import annotations

from fastapi import APIRouter

from dockyard.api.v1.common import serve
from dockyard.releases import routes as v2

router = APIRouter(tags=["v1 releases"])
serve(
    router,
    v2.router,
    v2.list_builds,
    v2.create_build,
    v2.list_releases,
    v2.rollback_release,
    v2.release_detail,
)
