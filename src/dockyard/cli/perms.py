"""Who may use an app (its collaborators) and who administers the platform (``--admin``):
perms:list, perms:create and perms:delete."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError

topic = Topic(
    "perms",
    "Share apps with collaborators, and grant administrators.",
    panel="Perms",
    default="list",
)

AdminOpt = Annotated[
    bool, typer.Option("--admin", help="Administrators of the platform instead of an app's users.")
]
UserArg = Annotated[str, typer.Argument(help="The username.")]


def _check(app: str | None, admin: bool) -> None:
    if app and admin:
        raise ProfileError("Give either -a/--app or --admin, not both.")


@topic.command("list")
def list_perms(app: AppOpt = None, admin: AdminOpt = False, json: JsonOpt = False) -> None:
    """List an app's collaborators, or the administrators with --admin."""
    _check(app, admin)
    if admin:
        with session() as client:
            admins = client.admins()
        if json:
            output.print_json(admins)
        else:
            output.table(["USERNAME"], [(a["username"],) for a in admins], title="Administrators")
        return
    app_id = app_name(app)
    with session() as client:
        users = client.perms(app_id)
    if json:
        output.print_json({"users": users})
    else:
        output.table(
            ["USERNAME"],
            [(u,) for u in users],
            title=f"{app_id}'s Users",
            empty=f"{app_id} has no collaborators.",
        )


@topic.command("create")
def create(username: UserArg, app: AppOpt = None, admin: AdminOpt = False) -> None:
    """Share an app with a user, or make a user an administrator with --admin."""
    _check(app, admin)
    if admin:
        with session() as client:
            client.grant_admin(username)
        output.success(f"{username} is now an administrator.")
        return
    app_id = app_name(app)
    with session() as client:
        client.add_perm(app_id, username)
    output.success(f"Added {username} to {app_id}'s collaborators.")


@topic.command("delete")
def delete(username: UserArg, app: AppOpt = None, admin: AdminOpt = False) -> None:
    """Stop sharing an app with a user, or revoke an administrator with --admin."""
    _check(app, admin)
    if admin:
        with session() as client:
            client.revoke_admin(username)
        output.success(f"{username} is no longer an administrator.")
        return
    app_id = app_name(app)
    with session() as client:
        client.remove_perm(app_id, username)
    output.success(f"Removed {username} from {app_id}'s collaborators.")
