"""Server-side commands of ``dockyard``: ``server`` and ``migrate``. Kept apart from
``dockyard.cli``, which only ever talks HTTP."""

from __future__ import annotations

import logging

import typer
import uvicorn

from dockyard.core.settings import Settings
from dockyard.db.migrate import upgrade


def _settings() -> Settings:
    settings = Settings()
    settings.ensure_dirs()
    return settings


def _migrate(settings: Settings) -> None:
    upgrade(settings.resolved_database_url)


def migrate() -> None:
    """Apply database migrations and exit."""
    settings = _settings()
    _migrate(settings)
    typer.echo("Database is up to date.")


def server(
    host: str = typer.Option(None, help="Address to bind (DOCKYARD_HOST, default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to bind (DOCKYARD_PORT, default 8000)."),
    workers: int = typer.Option(None, help="API worker processes (DOCKYARD_WORKERS, default 2)."),
) -> None:
    """Apply migrations, then serve the API until SIGTERM or Ctrl-C."""
    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    _migrate(settings)
    uvicorn.run(
        "dockyard.api.app:app_factory",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.command("migrate")(migrate)
