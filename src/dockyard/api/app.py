"""``create_app()``: the FastAPI application with every router, the conventions middleware
and the error mapping. The database is opened in the lifespan (or passed in by tests)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from dockyard import API_VERSION, __version__
from dockyard.accounts import key_routes as key_routes
from dockyard.accounts import routes as account_routes
from dockyard.accounts import secrets
from dockyard.api import errors, root, v1
from dockyard.api.middleware import APIConventions
from dockyard.api.runtime import make_scheduler
from dockyard.apps import lifecycle_routes, process_routes
from dockyard.apps import routes as app_routes
from dockyard.builder import routes as builder_routes
from dockyard.builder.intake import git_http
from dockyard.builder.pipeline import Builder
from dockyard.builder.runner import LocalRunner
from dockyard.core.settings import Settings
from dockyard.db.locks import AppLocks
from dockyard.db.session import Database
from dockyard.releases import routes as release_routes
from dockyard.routing import cert_routes
from dockyard.routing import routes as routing_routes
from dockyard.scheduler.base import Scheduler

log = logging.getLogger("dockyard")

V2_ROUTERS = (
    account_routes.router,
    key_routes.router,
    app_routes.router,
    release_routes.router,
    process_routes.router,
    lifecycle_routes.router,
    routing_routes.router,
    cert_routes.router,
    builder_routes.router,
)


def make_builder(app: FastAPI, settings: Settings) -> Builder:
    return Builder(
        settings=settings,
        database=app.state.db,
        scheduler=app.state.scheduler,
        locks=app.state.locks,
        runner=LocalRunner(memory=settings.build_memory, timeout=settings.build_timeout),
    )


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    scheduler: Scheduler | None = None,
) -> FastAPI:
    """The API. Tests pass their own database and scheduler; the server builds both from
    settings in the lifespan."""
    settings = settings or Settings()
    secrets.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        if owned:
            app.state.db = Database(settings.resolved_database_url, pool_size=settings.db_pool_size)
            app.state.locks = AppLocks(app.state.db, settings.data_dir / "locks")
        if scheduler is None:
            app.state.scheduler = make_scheduler(settings)
        if not hasattr(app.state, "builder"):
            app.state.builder = make_builder(app, settings)
        if owned:
            # A served worker: move everything loaded so far (modules, routes, schemas) out of
            # the collector's reach, so full collections scan only what requests allocate.
            gc.freeze()
        try:
            yield
        finally:
            await app.state.builder.close()
            if scheduler is None:
                await app.state.scheduler.aclose()
            if owned:
                await app.state.db.close()

    app = FastAPI(
        title="Dockyard Controller API",
        version=f"{API_VERSION} (dockyard {__version__})",
        description=(
            "The Deis Workflow / Drycc Workflow Controller REST API v2.3 under `/v2`, and the "
            "Deis v1 API (1.2 and 1.6) under `/v1`. Trailing slashes are optional on every "
            "route. Authenticate with `Authorization: token <key>`."
        ),
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.settings = settings
    if database is not None:
        app.state.db = database
        app.state.locks = AppLocks(database, settings.data_dir / "locks")
    if scheduler is not None:
        app.state.scheduler = scheduler
    if database is not None and scheduler is not None:
        app.state.builder = make_builder(app, settings)
    errors.install(app)
    app.include_router(root.router)
    for router in V2_ROUTERS:
        app.include_router(router, prefix="/v2")
    for router in v1.ROUTERS:
        app.include_router(router, prefix="/v1")
    app.include_router(git_http.router)
    app.add_middleware(APIConventions)
    return app


def app_factory() -> FastAPI:
    """Entry for uvicorn workers (``factory=True``): settings from the environment."""
    return create_app(Settings())
