"""Autoscale rules and labels, two of an app's settings with the Drycc CLI's names:
autoscale:list, autoscale:set TYPE --min N --max N --cpu-percent P, autoscale:unset TYPE;
labels:list, labels:set KEY=VALUE..., labels:unset KEY... (free-form metadata such as a
team or a git repository)."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli import args, output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.settings import autoscale_text
from dockyard.cli.topic import Topic

autoscale = Topic(
    "autoscale", "Scale a process type with its CPU load.", panel="Processes", default="list"
)
labels = Topic("labels", "Label an app with metadata.", panel="Apps", default="list")

TypeArg = Annotated[str, typer.Argument(help="The process type, e.g. web.")]


@autoscale.command("list")
def autoscale_list(app: AppOpt = None, json: JsonOpt = False) -> None:
    """List an app's autoscale rules."""
    app_id = app_name(app)
    with session() as client:
        rules = client.settings(app_id)["autoscale"]
    if json:
        output.print_json(rules)
        return
    output.table(
        ["TYPE", "MIN", "MAX", "CPU %"],
        [(t, r["min"], r["max"], r["cpu_percent"]) for t, r in sorted(rules.items())],
        title=f"{app_id} Autoscale",
        empty=f"{app_id} has no autoscale rules.",
    )


@autoscale.command("set")
def autoscale_set(
    ptype: TypeArg,
    minimum: Annotated[int, typer.Option("--min", min=1, help="The fewest processes.")],
    maximum: Annotated[int, typer.Option("--max", min=1, help="The most processes.")],
    cpu_percent: Annotated[
        int, typer.Option("--cpu-percent", min=1, max=100, help="The CPU use to aim for.")
    ],
    app: AppOpt = None,
) -> None:
    """Scale a process type between --min and --max processes, aiming at --cpu-percent."""
    app_id = app_name(app)
    rule = {"min": minimum, "max": maximum, "cpu_percent": cpu_percent}
    with session() as client:
        data = client.change_settings(app_id, autoscale={ptype: rule})
    output.success(f"Autoscale for {app_id}: {autoscale_text(data['autoscale'])}.")


@autoscale.command("unset")
def autoscale_unset(ptype: TypeArg, app: AppOpt = None) -> None:
    """Remove the autoscale rule of a process type."""
    app_id = app_name(app)
    with session() as client:
        client.change_settings(app_id, autoscale={ptype: None})
    output.success(f"Removed the autoscale rule of {ptype} from {app_id}.")


@labels.command("list")
def labels_list(app: AppOpt = None, json: JsonOpt = False) -> None:
    """List an app's labels."""
    app_id = app_name(app)
    with session() as client:
        data = client.settings(app_id)["label"]
    if json:
        output.print_json(data)
    else:
        output.mapping(data, title=f"{app_id} Labels", empty=f"{app_id} has no labels.")


@labels.command("set")
def labels_set(
    pairs: Annotated[
        list[str], typer.Argument(help="KEY=VALUE pairs, e.g. team=web.", show_default=False)
    ],
    app: AppOpt = None,
) -> None:
    """Set labels of an app."""
    app_id = app_name(app)
    changes = args.pairs(pairs)
    with session() as client:
        data = client.change_settings(app_id, label=changes)
    output.success(f"Set {', '.join(changes)} on {app_id}.")
    output.mapping(data["label"], title=f"{app_id} Labels")


@labels.command("unset")
def labels_unset(
    keys: Annotated[list[str], typer.Argument(help="The keys to remove.", show_default=False)],
    app: AppOpt = None,
) -> None:
    """Remove labels of an app."""
    app_id = app_name(app)
    changes = args.unset(keys)
    with session() as client:
        data = client.change_settings(app_id, label=changes)
    output.success(f"Removed {', '.join(changes)} from {app_id}.")
    output.mapping(data["label"], title=f"{app_id} Labels", empty=f"{app_id} has no labels.")
