"""Accounts and sessions: register, login, logout, whoami, passwd, auth:cancel and
auth:regenerate. Login and register save the profile (``~/.dockyard/client.json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import JsonOpt, current_profile, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError, profile
from dockyard.client.models import User
from dockyard.client.profile import Profile

if TYPE_CHECKING:
    from dockyard.client.api import DockyardClient


def _client(url: str) -> DockyardClient:
    from dockyard.client.api import DockyardClient

    return DockyardClient(url)


topic = Topic("auth", "Register, log in and manage your account.", panel="Auth")

UserOpt = Annotated[
    str | None,
    typer.Option("--username", "-u", help="The username (prompted for when missing)."),
]
PasswordOpt = Annotated[
    str | None,
    typer.Option("--password", "-p", help="The password (prompted for, hidden, when missing)."),
]


def _controller(url: str | None) -> str:
    if url:
        return url
    prof = current_profile()
    if prof.controller:
        return prof.controller
    raise ProfileError(
        "Which controller? Pass its URL, for example `dockyard login http://host:8000`."
    )


def _login(client: DockyardClient, username: str, password: str) -> Profile:
    with output.spinner("Logging in..."):
        client.login(username, password)
    prof = profile.load_file()
    prof.controller = client.url
    prof.username = username
    prof.token = client.token
    profile.save(prof)
    return prof


def _user_fields(user: User) -> list[tuple[str, object]]:
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return [
        ("username", user["username"]),
        ("email", user.get("email") or None),
        ("name", name or None),
        ("admin", user.get("is_superuser")),
        ("active", user.get("is_active")),
        ("joined", user.get("date_joined")),
        ("last login", user.get("last_login")),
    ]


@topic.command("register", top_level=True)
def register(
    controller: Annotated[str, typer.Argument(help="The controller URL, e.g. http://host:8000.")],
    username: UserOpt = None,
    password: PasswordOpt = None,
    email: Annotated[str | None, typer.Option("--email", help="Your email address.")] = None,
    login: Annotated[
        bool, typer.Option("--login/--no-login", help="Log in as the new user afterwards.")
    ] = True,
) -> None:
    """Register a new user with a controller, and log in as that user."""
    prof = current_profile()
    with _client(controller) as client:
        client.probe()
        # An administrator logged in to this controller may register others (admin_only mode).
        if prof.token and prof.controller and prof.controller.rstrip("/") == client.url:
            client.token = prof.token
        username = username or typer.prompt("username")
        if password is None:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        if email is None:
            email = typer.prompt("email", default="", show_default=False)
        with output.spinner("Registering..."):
            user = client.register(username, password, email)
        output.success(f"Registered {user['username']}.")
        if user.get("is_superuser"):
            output.message("You are the first user of this controller: you are an administrator.")
        if login:
            client.token = None
            _login(client, username, password)
            output.success(f"Logged in as {username} at {client.url}.")


@topic.command("login", top_level=True)
def login(
    controller: Annotated[
        str | None,
        typer.Argument(help="The controller URL. Default: the one of the current profile."),
    ] = None,
    username: UserOpt = None,
    password: PasswordOpt = None,
) -> None:
    """Log in to a controller; the token is saved in the profile (mode 0600)."""
    url = _controller(controller)
    with _client(url) as client:
        client.probe()
        saved = profile.load_file()
        default_user = saved.username if saved.controller == client.url else None
        username = username or typer.prompt("username", default=default_user)
        if password is None:
            password = typer.prompt("password", hide_input=True)
        _login(client, username, password)
        output.success(f"Logged in as {username} at {client.url}.")


@topic.command("logout", top_level=True)
def logout() -> None:
    """Log out: forget the saved token (the controller URL is kept for the next login)."""
    saved = profile.load_file()
    if not saved.token:
        output.message("Not logged in.")
    else:
        profile.forget_token()
        who = f"{saved.username} " if saved.username else ""
        output.success(f"Logged out {who}from {saved.controller}.")
    if "token" in current_profile().overridden:
        output.warn(f"{profile.TOKEN_ENV} is set and still authenticates commands.")


@topic.command("whoami", top_level=True)
def whoami(
    all_fields: Annotated[
        bool, typer.Option("--all", help="Show every field of the user.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Show who you are logged in as, and where."""
    with session() as client:
        user = client.whoami()
        if json:
            output.print_json(user)
        elif all_fields:
            output.details(_user_fields(user), title=f"{user['username']} at {client.url}")
        else:
            output.message(f"You are {user['username']} at {client.url}")


@topic.command("passwd", top_level=True)
def passwd(
    username: Annotated[
        str | None,
        typer.Option("--username", "-u", help="Change another user's password (administrators)."),
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="The current password.")
    ] = None,
    new_password: Annotated[
        str | None, typer.Option("--new-password", help="The new password.")
    ] = None,
) -> None:
    """Change your password (or, as an administrator, another user's)."""
    with session() as client:
        need_current = True
        if username:
            me = client.whoami()
            need_current = not me["is_superuser"]
        if password is None and need_current:
            password = typer.prompt("current password", hide_input=True)
        if new_password is None:
            new_password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
        client.passwd(new_password, password, username=username)
        output.success(f"Password changed{f' for {username}' if username else ''}.")


@topic.command("cancel")
def cancel(
    username: Annotated[
        str | None,
        typer.Option("--username", "-u", help="Cancel another user's account (administrators)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Cancel (delete) your account, or another user's as an administrator."""
    with session() as client:
        me = client.whoami()["username"]
        target = username or me
        if not yes:
            typer.confirm(
                f"Cancel the account {target} at {client.url}? This cannot be undone",
                abort=True,
            )
        with output.spinner("Cancelling account..."):
            client.cancel(username if username and username != me else None)
        if target == me:
            profile.forget_token()
        output.success(f"Account {target} cancelled.")


@topic.command("regenerate")
def regenerate(
    username: Annotated[
        str | None,
        typer.Option("--username", "-u", help="Regenerate another user's token (administrators)."),
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Revoke every user's token (administrators).")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Revoke a token and issue a new one. Yours is saved in the profile."""
    if username and everyone:
        raise ProfileError("Give either --username or --all, not both.")
    with session() as client:
        me = client.whoami()["username"] if username else None
        token = client.regenerate_token(username if username != me else None, everyone=everyone)
        own = not everyone and (not username or username == me)
        prof = current_profile()
        if everyone or own:
            saved = profile.load_file()
            if saved.token and "token" not in prof.overridden:
                saved.token = token if own else None
                profile.save(saved)
        if json:
            output.print_json({"token": token})
        elif everyone:
            output.success("Every token was revoked; all users must log in again.")
        elif own:
            output.success("Token regenerated and saved.")
        else:
            output.success(f"Token regenerated for {username}: {token}")
