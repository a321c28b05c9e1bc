"""users:list: every user of the platform (administrators only)."""

from __future__ import annotations

from dockyard.cli import output
from dockyard.cli.context import JsonOpt, session
from dockyard.cli.topic import Topic

topic = Topic(
    "users", "List the users of the platform (administrators).", panel="Users", default="list"
)


@topic.command("list")
def list_users(json: JsonOpt = False) -> None:
    """List every user (administrators only)."""
    with session() as client:
        users = client.users()
    if json:
        output.print_json(users)
        return
    output.table(
        ["USERNAME", "EMAIL", "ADMIN", "JOINED"],
        [
            (u["username"], u.get("email") or None, u["is_superuser"], u["date_joined"])
            for u in users
        ],
        title="Users",
    )
