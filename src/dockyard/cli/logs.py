"""One-off commands and logs, as in Deis: ``dockyard run CMD...`` (also apps:run) prints
the command's output and exits with its exit code; ``dockyard logs [-n N]`` (also
apps:logs) prints the end of the app's log: its processes' output and the controller's
events (deploys, scaling...). Both belong to the ``apps`` topic."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.apps import topic
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session


def exit_status(code: int) -> int:
    """A process's status as a shell would report it: a signal -N becomes 128+N."""
    if code < 0:
        return min(128 - code, 255)
    return min(code, 255)


@topic.command("run", top_level=True, passthrough=True)
def run(
    command: Annotated[
        list[str],
        typer.Argument(
            help="The command, run in the app's environment. Options of dockyard go before it.",
            show_default=False,
        ),
    ],
    app: AppOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run a one-off command in an app's environment and exit with its exit code.

    Options of dockyard go before the command: `dockyard run -a myapp python manage.py
    migrate`. A single quoted argument is run by the shell as it is: `dockyard run
    'echo $GREETING'`.
    """
    text = command[0] if len(command) == 1 else shlex.join(command)
    app_id = app_name(app)
    with session() as client, output.spinner(f"Running `{text}` in {app_id}..."):
        result = client.run(app_id, text)
    if json:
        output.print_json(result)
    else:
        out = result["output"]
        typer.echo(out, nl=bool(out) and not out.endswith("\n"))
    status = exit_status(result["exit_code"])
    if status:
        raise typer.Exit(status)


@topic.command("logs", top_level=True)
def logs(
    app: AppOpt = None,
    lines: Annotated[
        int | None,
        typer.Option(
            "--lines",
            "-n",
            min=1,
            max=100_000,
            help="How many lines, from the end. Default: the controller's (100).",
            show_default=False,
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Print the end of an app's log: its processes' output and the platform's events."""
    app_id = app_name(app)
    with session() as client:
        text = client.logs(app_id, lines)
    if json:
        output.print_json(text.splitlines())
        return
    if len(text.strip()) == 0:
        output.err_console().print(f"{app_id} has no logs yet.")
        return
    typer.echo(text, nl=not text.endswith("\n"))
