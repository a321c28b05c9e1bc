"""perms:list|create|delete for an app's collaborators, and with --admin for administrators."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli, app_name


def test_app_collaborators(cli: Cli) -> None:
    friend = cli.register()
    owner = cli.register()
    app = app_name()
    cli.ok("apps:create", app)
    assert "no collaborators" in cli.ok("perms:list", "-a", app).output
    assert f"Added {friend}" in cli.ok("perms:create", friend, "-a", app).output
    assert json.loads(cli.ok("perms:list", "-a", app, "--json").stdout) == {"users": [friend]}
    assert friend in cli.ok("perms", "-a", app).output
    again = cli.fails("perms:create", friend, "-a", app)
    assert "already a collaborator" in again.output
    assert cli.fails("perms:create", owner, "-a", app).exit_code == 1
    # The collaborator sees the app and may leave it.
    cli.login(friend)
    assert app in cli.ok("apps:list").output
    cli.ok("perms", "delete", friend, "-a", app)
    assert cli.fails("apps:info", "-a", app).exit_code == 1
    cli.login(owner)
    assert json.loads(cli.ok("perms:list", "-a", app, "--json").stdout) == {"users": []}
    assert cli.fails("perms:delete", friend, "-a", app).exit_code == 1


def test_admin_perms(cli: Cli) -> None:
    someone = cli.register()
    assert "permission" in cli.fails("perms:list", "--admin").output
    assert cli.fails("perms:create", someone, "--admin").exit_code == 1
    cli.login_admin()
    admins = json.loads(cli.ok("perms:list", "--admin", "--json").stdout)
    assert cli.server.admin in [a["username"] for a in admins]
    assert someone not in [a["username"] for a in admins]
    assert f"{someone} is now an administrator" in cli.ok("perms:create", someone, "--admin").output
    assert someone in cli.ok("perms:list", "--admin").output
    # The new administrator can list users.
    cli.login(someone)
    assert cli.server.admin in cli.ok("users:list").output
    cli.login_admin()
    cli.ok("perms:delete", someone, "--admin")
    assert someone not in cli.ok("perms", "list", "--admin").output
    assert "is not an administrator" in cli.fails("perms:delete", someone, "--admin").output


def test_app_and_admin_together_is_refused(cli: Cli, user: str) -> None:
    result = cli.fails("perms:list", "-a", "x", "--admin")
    assert "not both" in result.output
