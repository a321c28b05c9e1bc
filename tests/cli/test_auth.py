"""register, login, logout, whoami, passwd, auth:cancel and auth:regenerate."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from dockyard.client import ClientError, DockyardClient
from tests.cli.conftest import PASSWORD, Cli, app_name


def _profile(home: Path, name: str = "client") -> dict[str, str]:
    return json.loads((home / ".dockyard" / f"{name}.json").read_text())


def test_register_logs_in_and_whoami(cli: Cli, home: Path) -> None:
    name = cli.register()
    saved = _profile(home)
    assert saved["controller"] == cli.server.url
    assert saved["username"] == name
    assert saved["token"]
    assert f"You are {name} at {cli.server.url}" in cli.ok("whoami").output
    data = json.loads(cli.ok("whoami", "--json").stdout)
    assert data["username"] == name
    assert data["is_superuser"] is False
    assert name in cli.ok("auth:whoami", "--all").output


def test_profile_file_is_private(cli: Cli, home: Path) -> None:
    cli.register()
    path = home / ".dockyard" / "client.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_register_prompts_for_missing_fields(cli: Cli, home: Path) -> None:
    name = f"p{app_name()[4:]}"
    result = cli.ok(
        "register", cli.server.url, input=f"{name}\nhidden-pw\nhidden-pw\n{name}@example.test\n"
    )
    assert "hidden-pw" not in result.output  # the password prompt does not echo
    assert _profile(home)["username"] == name


def test_register_duplicate_user_shows_field_error(cli: Cli, user: str) -> None:
    result = cli.fails("register", cli.server.url, "-u", user, "-p", "x", "--email", "")
    assert "username: A user with that username already exists." in result.output


def test_register_refuses_something_else_than_a_controller(cli: Cli) -> None:
    result = cli.fails("register", f"{cli.server.url}/healthz/nowhere", "-u", "x", "-p", "y")
    assert "does not look like a Dockyard" in result.output


def test_unreachable_controller(cli: Cli) -> None:
    result = cli.fails("login", "http://127.0.0.1:9", "-u", "x", "-p", "y")
    assert "Cannot reach the controller" in result.output


def test_login_failure(cli: Cli, user: str) -> None:
    result = cli.fails("login", cli.server.url, "-u", user, "-p", "wrong")
    assert result.exit_code == 1
    assert "Unable to log in with provided credentials." in result.stderr


def test_login_when_throttled_says_how_long_to_wait(cli: Cli, user: str) -> None:
    with DockyardClient(cli.server.url) as client:
        for _ in range(10):
            with pytest.raises(ClientError) as failed:
                client.login(user, "wrong")
            assert failed.value.status == 400
    result = cli.fails("login", cli.server.url, "-u", user, "-p", PASSWORD)
    assert result.exit_code == 1
    assert re.search(
        r"Too many failed sign-in attempts\. Please try again in \d+ seconds\.", result.stderr
    ), result.stderr


def test_login_prompts_hidden_password_and_defaults_to_saved_controller(
    cli: Cli, user: str
) -> None:
    cli.ok("logout")
    result = cli.ok("login", "-u", user, input=f"{PASSWORD}\n")
    assert PASSWORD not in result.output
    assert f"Logged in as {user}" in result.output


def test_logout(cli: Cli, home: Path, user: str) -> None:
    assert "Logged out" in cli.ok("logout").output
    assert _profile(home)["token"] is None
    assert _profile(home)["controller"] == cli.server.url
    result = cli.fails("whoami")
    assert "Not logged in" in result.output
    assert "Not logged in" in cli.ok("auth:logout").output


def test_not_logged_in_at_all(cli: Cli) -> None:
    result = cli.fails("apps:list")
    assert "dockyard login" in result.output


def test_invalid_token_hints_at_login(cli: Cli, home: Path, user: str) -> None:
    saved = _profile(home)
    saved["token"] = "not-a-token"
    (home / ".dockyard" / "client.json").write_text(json.dumps(saved))
    result = cli.fails("whoami")
    assert "Invalid token." in result.output
    assert "dockyard login" in result.output


def test_passwd(cli: Cli, user: str) -> None:
    cli.ok("passwd", "--password", PASSWORD, "--new-password", "n3w-pw")
    cli.fails("login", cli.server.url, "-u", user, "-p", PASSWORD)
    cli.login(user, "n3w-pw")
    wrong = cli.fails("passwd", input="bad\nx\nx\n")
    assert "Current password does not match" in wrong.output


def test_passwd_by_admin_for_another_user(cli: Cli, user: str) -> None:
    cli.login_admin()
    cli.ok("auth:passwd", "-u", user, "--new-password", "set-by-admin")
    cli.login(user, "set-by-admin")


def test_cancel_account(cli: Cli, home: Path) -> None:
    name = cli.register()
    app = app_name()
    cli.ok("apps:create", app)
    refused = cli.fails("auth:cancel", "--yes")
    assert f"{name} still has applications assigned" in refused.output
    cli.ok("apps:destroy", "-a", app, "--confirm", app)
    assert "Aborted" in cli.fails("auth:cancel", input="n\n").output  # declined: nothing happens
    cli.ok("whoami")
    cli.ok("auth", "cancel", input="y\n")
    assert _profile(home)["token"] is None
    cli.fails("login", cli.server.url, "-u", name, "-p", PASSWORD)


def test_cancel_another_user_as_admin(cli: Cli) -> None:
    victim = cli.register()
    cli.login_admin()
    cli.ok("auth:cancel", "-u", victim, "--yes")
    assert victim not in cli.ok("users:list").output


def test_regenerate_own_token(cli: Cli, home: Path, user: str) -> None:
    before = _profile(home)["token"]
    assert "Token regenerated" in cli.ok("auth:regenerate").output
    after = _profile(home)["token"]
    assert after and after != before
    cli.ok("whoami")  # the new token works, the old one does not
    with DockyardClient(cli.server.url, before) as client, pytest.raises(ClientError) as info:
        client.whoami()
    assert info.value.status == 401


def test_regenerate_for_another_user_and_all(cli: Cli, home: Path) -> None:
    other = cli.register()
    other_token = _profile(home)["token"]
    cli.login_admin()
    data = json.loads(cli.ok("auth:regenerate", "-u", other, "--json").stdout)
    assert data["token"] and data["token"] != other_token
    cli.fails("auth:regenerate", "-u", other, "--all")
    # Not an admin: forbidden.
    cli.login(other)
    assert "permission" in cli.fails("auth:regenerate", "--all").output
    # An admin revokes every token: everyone, the admin included, logs in again.
    cli.login_admin()
    assert "all users must log in again" in cli.ok("auth:regenerate", "--all").output
    assert _profile(home)["token"] is None
    cli.fails("whoami")
    cli.login_admin()
    cli.ok("whoami")
