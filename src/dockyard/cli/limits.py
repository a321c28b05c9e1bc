"""Memory and CPU limits per process type: limits:list, limits:set TYPE=LIMIT... and
limits:unset TYPE... (``--memory``, the default, or ``--cpu``). A change is a config change:
a new release, deployed under a spinner."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli import args, output
from dockyard.cli.config import deployed
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError
from dockyard.client.models import Config

topic = Topic(
    "limits",
    "Limit the memory and CPU of an app's process types.",
    panel="Config",
    default="list",
)

MemoryOpt = Annotated[
    bool,
    typer.Option(
        "--memory", "-m", help="Memory limits (the default), e.g. web=512M or web=256M/1G."
    ),
]
CpuOpt = Annotated[
    bool, typer.Option("--cpu", "-c", help="CPU limits, e.g. web=500m or web=250m/1.")
]


def _kind(memory: bool, cpu: bool) -> str:
    if memory and cpu:
        raise ProfileError("Give either --memory or --cpu, not both.")
    return "cpu" if cpu else "memory"


def show(app_id: str, config: Config) -> None:
    memory, cpu = config["memory"], config["cpu"]
    types = sorted(set(memory) | set(cpu))
    output.table(
        ["TYPE", "MEMORY", "CPU"],
        [(t, memory.get(t, "unlimited"), cpu.get(t, "unlimited")) for t in types],
        title=f"{app_id} Limits",
        empty=f"{app_id} has no limits: every process type is unlimited.",
    )


@topic.command("list")
def list_limits(app: AppOpt = None, json: JsonOpt = False) -> None:
    """List an app's memory and CPU limits (--json: {"memory": {...}, "cpu": {...}})."""
    app_id = app_name(app)
    with session() as client:
        config = client.config(app_id)
    if json:
        output.print_json({"memory": config["memory"], "cpu": config["cpu"]})
    else:
        show(app_id, config)


@topic.command("set")
def set_limits(
    limits: Annotated[
        list[str], typer.Argument(help="TYPE=LIMIT pairs, e.g. web=512M.", show_default=False)
    ],
    app: AppOpt = None,
    memory: MemoryOpt = False,
    cpu: CpuOpt = False,
) -> None:
    """Set memory (default) or CPU limits of process types, and restart them."""
    kind = _kind(memory, cpu)
    changes = args.pairs(limits, what="TYPE")
    app_id = app_name(app)
    with session() as client:
        with output.spinner(f"Applying {kind} limits to {app_id}...") as timer:
            config = client.set_config(app_id, **{kind: changes})
        deployed(client, f"Set {kind} limits for {', '.join(changes)}", timer)
    show(app_id, config)


@topic.command("unset")
def unset_limits(
    types: Annotated[list[str], typer.Argument(help="Process types.", show_default=False)],
    app: AppOpt = None,
    memory: MemoryOpt = False,
    cpu: CpuOpt = False,
) -> None:
    """Remove the memory (default) or CPU limits of process types, and restart them."""
    kind = _kind(memory, cpu)
    changes = args.unset(types)
    app_id = app_name(app)
    with session() as client:
        with output.spinner(f"Removing {kind} limits from {app_id}...") as timer:
            config = client.set_config(app_id, **{kind: changes})
        deployed(client, f"Removed {kind} limits for {', '.join(changes)}", timer)
    show(app_id, config)
