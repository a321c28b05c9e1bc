"""Apps: apps:create (adds the ``dockyard`` git remote), apps:list, apps:info (with its
processes and domains), apps:destroy (confirmed by typing the name or ``--confirm``),
apps:transfer and apps:open. As in Deis, ``create``, ``info``, ``destroy`` and ``open``
work without the ``apps:`` prefix too. ``run`` and ``logs`` join this topic from
``dockyard.cli.logs``."""

from __future__ import annotations

import sys
import webbrowser
from typing import Annotated

import typer

from dockyard.cli import context, output, ps
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client import ClientError, ProfileError
from dockyard.client.models import App

topic = Topic("apps", "Create, list, inspect and destroy apps.", panel="Apps", default="list")

RemoteOpt = Annotated[
    str, typer.Option("--remote", "-r", help="The name of the git remote to add.")
]


def app_url(app: App) -> str:
    url = app.get("url") or ""
    return url if "://" in url else f"http://{url}"


def _structure(app: App) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(app.get("structure", {}).items())) or "-"


@topic.command("create", aliases=("create",))
def create(
    name: Annotated[
        str | None, typer.Argument(help="The app name. Default: a generated one.")
    ] = None,
    remote: RemoteOpt = context.REMOTE,
    no_remote: Annotated[
        bool, typer.Option("--no-remote", help="Do not add a git remote.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Create an app, and a git remote for it when run inside a git repository."""
    with session() as client:
        with output.spinner("Creating application..."):
            app = client.create_app(name)
        git_url = context.builder_remote(client.url, app["id"], client.git_ssh_port)
    if json:
        output.print_json(app)
    else:
        output.success(f"Created {app['id']}.")
    if no_remote or not context.in_git_repo():
        return
    existing = context.remote_url(remote)
    if existing is not None:
        if existing != git_url:
            output.warn(
                f"A git remote named {remote} already exists ({existing}); it was left alone. "
                f"To use it for this app: git remote set-url {remote} {git_url}"
            )
        return
    context.add_remote(git_url, remote)
    if not json:
        output.message(f"Git remote {remote} added: {git_url}")


@topic.command("list")
def list_apps(json: JsonOpt = False) -> None:
    """List the apps you own or collaborate on."""
    with session() as client:
        apps = client.apps()
    if json:
        output.print_json(apps)
        return
    output.table(
        ["ID", "OWNER", "URL", "CREATED"],
        [(a["id"], a["owner"], app_url(a), a["created"]) for a in apps],
        title="Apps",
        empty="No apps yet. Create one with `dockyard apps:create`.",
    )


@topic.command("info", aliases=("info",))
def info(app: AppOpt = None, json: JsonOpt = False) -> None:
    """Show an app, its processes and its domains."""
    app_id = app_name(app)
    with session() as client:
        data = client.app(app_id)
        if json:
            output.print_json(data)
            return
        pods = client.pods(app_id)
        domains = client.domains(app_id)
    output.details(
        [
            ("id", data["id"]),
            ("owner", data["owner"]),
            ("url", app_url(data)),
            ("structure", _structure(data)),
            ("created", data["created"]),
            ("updated", data["updated"]),
            ("uuid", data["uuid"]),
        ],
        title=f"{data['id']} Application",
    )
    output.message("")
    ps.show(app_id, pods)
    output.message("")
    output.table(
        ["DOMAIN"],
        [(d["domain"],) for d in domains],
        title=f"{app_id} Domains",
        empty="No custom domains (add one with `dockyard domains:add`).",
    )


@topic.command("destroy", aliases=("destroy",))
def destroy(
    app: AppOpt = None,
    confirm: Annotated[
        str | None,
        typer.Option("--confirm", help="The app name again, to skip the interactive check."),
    ] = None,
) -> None:
    """Destroy an app and everything it has. Asks you to type its name first."""
    app_id = app_name(app)
    if confirm is None:
        err = output.err_console()
        err.print(f" !    WARNING: this destroys the application {app_id} and all its data.")
        err.print(f" !    To proceed, type {app_id!r} or re-run with --confirm {app_id}")
        confirm = typer.prompt(">", prompt_suffix=" ")
    if confirm != app_id:
        raise ProfileError(f"Confirmation did not match {app_id}: nothing was destroyed.")
    with session() as client, output.spinner(f"Destroying {app_id}..."):
        client.destroy_app(app_id)
    # Drop our git remote when it pointed at the destroyed app.
    url = context.remote_url()
    if url and context.app_from_remote_url(url) == app_id and context.remove_remote():
        output.message(f"Git remote {context.REMOTE} removed.")
    output.success(f"Destroyed {app_id}.")


@topic.command("transfer")
def transfer(
    owner: Annotated[str, typer.Argument(help="The username of the new owner.")],
    app: AppOpt = None,
) -> None:
    """Transfer an app to another user."""
    app_id = app_name(app)
    with session() as client:
        client.transfer_app(app_id, owner)
    output.success(f"Transferred {app_id} to {owner}.")


@topic.command("open", aliases=("open",))
def open_app(
    app: AppOpt = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="Only print the URL; do not start a browser.")
    ] = False,
) -> None:
    """Open the app in a browser (the URL is printed too)."""
    app_id = app_name(app)
    with session() as client:
        url = app_url(client.app(app_id))
    typer.echo(url)
    if not print_only and sys.stdout.isatty():
        try:
            webbrowser.open(url)
        except webbrowser.Error as exc:
            raise ClientError(0, f"Cannot start a browser: {exc}") from None
