"""v1 routes for permissions: an app's collaborators (``{"users": [...]}``, not paginated)
and the superusers (``admin/perms``). Removing a collaborator answers both ``DELETE`` (v1.6)
and ``POST`` (what the v1.2 reference documents) on ``perms/<username>``. Each is what v2
answers, so the v2 handlers serve both."""

from __future__ import annotations

from fastapi import APIRouter

from dockyard.accounts import routes as accounts
from dockyard.api.v1.common import serve
from dockyard.apps import routes as apps

router = APIRouter(tags=["v1 perms"])
serve(router, apps.router, apps.list_perms, apps.add_perm, apps.remove_perm)
serve(
    router,
    apps.router,
    apps.remove_perm,
    methods=["POST"],
    name="remove_perm_v12",
    description="The v1.2 reference documents removal as a POST.",
)
serve(router, accounts.router, accounts.list_admins, accounts.grant_admin, accounts.revoke_admin)
