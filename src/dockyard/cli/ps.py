"""An app's processes: ps:list, ps:scale TYPE=N... (also ``dockyard scale``),
ps:restart [TYPE|POD], ps:stop TYPE... and ps:start TYPE.... Scaling, restarting, stopping
and starting wait for the pods, under a spinner, then show the processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from dockyard.cli import args, output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client.models import Pod

if TYPE_CHECKING:
    from dockyard.client.api import DockyardClient

topic = Topic(
    "ps",
    "List, scale, restart, stop and start an app's processes.",
    panel="Processes",
    default="list",
)

TypesArg = Annotated[
    list[str], typer.Argument(help="Process types, e.g. web worker.", show_default=False)
]


def show(app_id: str, pods: list[Pod]) -> None:
    rows = sorted(pods, key=lambda p: (p["type"], p["name"]))
    output.table(
        ["NAME", "TYPE", "STATE", "RELEASE", "STARTED"],
        [(p["name"], p["type"], p["state"], p["release"], p["started"]) for p in rows],
        title=f"{app_id} Processes",
        empty=f"{app_id} has no processes running. Deploy with `dockyard builds:create`, "
        "or start some with `dockyard scale web=1`.",
    )


def change_and_show(app_id: str, doing: str, act: Callable[[DockyardClient], str]) -> None:
    """Run ``act`` under a spinner that says ``doing``, print what it answers (with the
    time taken), then the app's processes."""
    with session() as client:
        with output.spinner(doing) as timer:
            done = act(client)
        output.success(f"{done} in {timer}.")
        pods = client.pods(app_id)
    show(app_id, pods)


@topic.command("list")
def list_processes(
    app: AppOpt = None,
    ptype: Annotated[
        str | None, typer.Option("--type", "-t", help="Only this process type.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List an app's processes (pods) and their state."""
    app_id = app_name(app)
    with session() as client:
        pods = client.pods(app_id, ptype)
    if json:
        output.print_json(pods)
    else:
        show(app_id, pods)


@topic.command("scale", top_level=True)
def scale(
    counts: Annotated[
        list[str],
        typer.Argument(help="TYPE=N pairs, e.g. web=2 worker=1.", show_default=False),
    ],
    app: AppOpt = None,
) -> None:
    """Run N processes of each type given (0 stops them all)."""
    structure = args.counts(counts)
    text = " ".join(f"{k}={v}" for k, v in structure.items())
    app_id = app_name(app)

    def act(client: DockyardClient) -> str:
        client.scale(app_id, structure)
        return f"Scaled {app_id} to {text}"

    change_and_show(app_id, f"Scaling {app_id} to {text}...", act)


@topic.command("restart")
def restart(
    target: Annotated[
        str | None,
        typer.Argument(
            help="A process type (web) or a pod name. Default: every process.",
            show_default=False,
        ),
    ] = None,
    app: AppOpt = None,
) -> None:
    """Restart an app's processes: all of them, those of a type, or one pod."""
    app_id = app_name(app)
    what = target or "every process"

    def act(client: DockyardClient) -> str:
        restarted = client.restart(app_id, target)
        return f"Restarted {len(restarted)} process(es) of {app_id}"

    change_and_show(app_id, f"Restarting {what} of {app_id}...", act)


@topic.command("stop")
def stop(types: TypesArg, app: AppOpt = None) -> None:
    """Stop every process of the types given; ps:start brings as many back."""
    app_id = app_name(app)
    text = " ".join(types)

    def act(client: DockyardClient) -> str:
        client.stop(app_id, types)
        return f"Stopped {text} of {app_id}"

    change_and_show(app_id, f"Stopping {text} of {app_id}...", act)


@topic.command("start")
def start(types: TypesArg, app: AppOpt = None) -> None:
    """Start the types ps:stop stopped, as many processes of each as ran before (a type
    that was not stopped is left as it is)."""
    app_id = app_name(app)
    text = " ".join(types)

    def act(client: DockyardClient) -> str:
        client.start(app_id, types)
        return f"Started {text} of {app_id}"

    change_and_show(app_id, f"Starting {text} of {app_id}...", act)
