"""An app's custom domains: domains:list, domains:add DOMAIN and domains:remove DOMAIN.
Every app is also served at ``<app>.<platform domain>`` without adding anything."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic

topic = Topic(
    "domains", "Serve an app under your own domain names.", panel="Routing", default="list"
)

DomainArg = Annotated[
    str, typer.Argument(help="The domain name, e.g. www.example.com or *.example.com.")
]


@topic.command("list")
def list_domains(app: AppOpt = None, json: JsonOpt = False) -> None:
    """List an app's custom domains."""
    app_id = app_name(app)
    with session() as client:
        domains = client.domains(app_id)
    if json:
        output.print_json(domains)
        return
    output.table(
        ["DOMAIN", "CREATED"],
        [(d["domain"], d["created"]) for d in domains],
        title=f"{app_id} Domains",
        empty=f"{app_id} has no custom domains. Add one with `dockyard domains:add <domain>`.",
    )


@topic.command("add")
def add(domain: DomainArg, app: AppOpt = None) -> None:
    """Add a domain to an app (point its DNS at the platform's router)."""
    app_id = app_name(app)
    with session() as client:
        added = client.add_domain(app_id, domain)
    output.success(f"Added {added['domain']} to {app_id}.")


@topic.command("remove")
def remove(domain: DomainArg, app: AppOpt = None) -> None:
    """Remove a domain from an app."""
    app_id = app_name(app)
    with session() as client:
        client.remove_domain(app_id, domain)
    output.success(f"Removed {domain} from {app_id}.")
