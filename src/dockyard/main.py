"""The ``dockyard`` console entry point: the HTTP-only CLI plus the server commands.

Start-up is kept to what the command needs:

- the server commands are declared here but import ``dockyard.serve`` (settings, the
  agent's client, the workers) or ``dockyard.backup`` only when they run;
- Typer turns every registered command into a click command before it parses anything
  (about half of a bare start). When the first argument names a command or a topic, only
  that one is built; ``--help``, shell completion and unknown names (for click's "did you
  mean") still see the whole tree.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import typer

from dockyard.cli.app import app


@app.command("server")
def server(
    host: str = typer.Option(None, help="Address to bind (DOCKYARD_HOST, default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to bind (DOCKYARD_PORT, default 8000)."),
    workers: int = typer.Option(None, help="API worker processes (DOCKYARD_WORKERS, default 2)."),
    stop_all: bool = typer.Option(
        False,
        "--stop-all",
        help="Stop the server of this data dir and what outlives it: the router and every app.",
    ),
) -> None:
    """Apply migrations, then serve the API until SIGTERM or Ctrl-C.

    SIGTERM or Ctrl-C stops the API, the node agent and the edge router; the apps keep
    running and the next start re-adopts them. If the server dies instead, the router keeps
    serving the apps. --stop-all stops everything, apps included."""
    from dockyard import serve

    serve.server(host, port, workers, stop_all=stop_all)


@app.command("migrate")
def migrate() -> None:
    """Apply database migrations and exit."""
    from dockyard import serve

    serve.migrate()


@app.command("backup")
def backup(
    file: Path = typer.Argument(..., help="The archive to write (.tar.gz, made mode 0600)."),
) -> None:
    """Write the database and data dir to FILE; the server may keep running."""
    from dockyard.backup import commands

    commands.backup(file)


@app.command("restore")
def restore(
    file: Path = typer.Argument(..., help="An archive made by dockyard backup."),
) -> None:
    """Restore FILE into an empty data dir and an empty database, then start the server."""
    from dockyard.backup import commands

    commands.restore(file)


def _noop() -> None:
    """The pruned app's root: it keeps the command a sub-command, as in the full app."""


def only(name: str | None) -> typer.Typer:
    """``app`` with only the command or topic group called ``name`` (``app`` itself when
    nothing has that name)."""
    if name is None or name.startswith("-"):
        return app
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    pruned = copy.copy(app)
    pruned.registered_commands = commands
    pruned.registered_groups = groups
    # With one command and no callback Typer would make that command the root.
    pruned.registered_callback = None
    pruned.callback()(_noop)
    return pruned


def main() -> None:
    only(sys.argv[1] if len(sys.argv) > 1 else None)()


if __name__ == "__main__":
    main()
