"""The Deis v1 API (1.2 and 1.6) under ``/v1``: a thin adapter over the same services as
v2, so v1 and v2 clients see the same users, apps, releases and processes.

One module per resource group; ``ROUTERS`` is what ``create_app`` mounts at ``/v1``. Where
v1 asks and answers exactly what v2 does, the v2 handler itself serves it (``common.serve``).
What differs from v2 is shape only, and only that has a v1 handler: processes are
``containers`` numbered 1..n per type, ``run`` answers ``[exit_code, output]``, logs are a
JSON string, config maps may be posted as JSON strings, certificates are addressed by common
name, and the version headers are 1.6 ones (``api.middleware``)."""

from __future__ import annotations

from fastapi import APIRouter

from dockyard.api.v1 import apps, auth, certs, config, containers, domains, keys, perms, releases

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    apps.router,
    perms.router,
    config.router,
    containers.router,
    releases.router,
    domains.router,
    keys.router,
    certs.router,
)
