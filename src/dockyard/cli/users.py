"""users:list, users:disable USER and users:enable USER (administrators only). A disabled
user's tokens are refused and they cannot log in until enabled again."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import JsonOpt, session
from dockyard.cli.topic import Topic

topic = Topic(
    "users",
    "List, disable and enable the users of the platform (administrators).",
    panel="Users",
    default="list",
)

UserArg = Annotated[str, typer.Argument(help="The username.", show_default=False)]


@topic.command("list")
def list_users(json: JsonOpt = False) -> None:
    """List every user (administrators only)."""
    with session() as client:
        users = client.users()
    if json:
        output.print_json(users)
        return
    output.table(
        ["USERNAME", "EMAIL", "ADMIN", "ACTIVE", "JOINED"],
        [
            (
                u["username"],
                u.get("email") or None,
                u["is_superuser"],
                u["is_active"],
                u["date_joined"],
            )
            for u in users
        ],
        title="Users",
    )


@topic.command("disable")
def disable(username: UserArg) -> None:
    """Disable a user: their tokens stop working and they cannot log in (administrators)."""
    with session() as client:
        client.disable_user(username)
    output.success(f"Disabled {username}.")


@topic.command("enable")
def enable(username: UserArg) -> None:
    """Enable a disabled user again: their tokens and logins work again (administrators)."""
    with session() as client:
        client.enable_user(username)
    output.success(f"Enabled {username}.")
