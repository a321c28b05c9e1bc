"""The root Typer application of the ``dockyard`` command."""

from __future__ import annotations

import typer

from dockyard import __version__

app = typer.Typer(
    name="dockyard",
    help="Dockyard: a self-hosted, Heroku-style application platform.",
    no_args_is_help=True,
)


@app.command("version")
def version() -> None:
    """Print the client version."""
    typer.echo(f"dockyard {__version__}")
