"""An app's IP whitelist: whitelist:list, whitelist:add ADDRESS... and whitelist:remove
ADDRESS... (IP addresses or CIDR networks, space- or comma-separated). An empty whitelist
lets everyone in; otherwise the router admits only these addresses."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic

topic = Topic(
    "whitelist", "Admit only some IP addresses to an app.", panel="Routing", default="list"
)

AddressesArg = Annotated[
    list[str],
    typer.Argument(
        help="IP addresses or CIDR networks, e.g. 10.0.0.0/8 192.168.1.7.", show_default=False
    ),
]


def split(values: list[str]) -> list[str]:
    """``["1.2.3.4,5.6.7.8", "10.0.0.0/8"]`` -> three addresses."""
    found = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not found:
        raise typer.BadParameter("Give at least one address.")
    return found


def show(app_id: str, addresses: list[str]) -> None:
    output.table(
        ["ADDRESS"],
        [(a,) for a in addresses],
        title=f"{app_id} Whitelisted Addresses",
        empty=f"{app_id} has no whitelist: every address may reach it.",
    )


@topic.command("list")
def list_whitelist(app: AppOpt = None, json: JsonOpt = False) -> None:
    """List the addresses admitted to an app."""
    app_id = app_name(app)
    with session() as client:
        addresses = client.whitelist(app_id)
    if json:
        output.print_json({"addresses": addresses})
    else:
        show(app_id, addresses)


@topic.command("add")
def add(addresses: AddressesArg, app: AppOpt = None) -> None:
    """Admit addresses to an app (only whitelisted addresses may then reach it)."""
    app_id = app_name(app)
    wanted = split(addresses)
    with session() as client:
        now = client.add_whitelist(app_id, wanted)
    output.success(f"Added {', '.join(wanted)} to the whitelist of {app_id}.")
    show(app_id, now)


@topic.command("remove")
def remove(addresses: AddressesArg, app: AppOpt = None) -> None:
    """Remove addresses from an app's whitelist."""
    app_id = app_name(app)
    gone = split(addresses)
    with session() as client:
        client.remove_whitelist(app_id, gone)
        now = client.whitelist(app_id)
    output.success(f"Removed {', '.join(gone)} from the whitelist of {app_id}.")
    show(app_id, now)
