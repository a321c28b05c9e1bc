"""users:list, users:disable and users:enable (administrators only)."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli


def test_users_list(cli: Cli) -> None:
    name = cli.register()
    assert "permission" in cli.fails("users:list").output
    cli.login_admin()
    users = json.loads(cli.ok("users:list", "--json").stdout)
    names = [u["username"] for u in users]
    assert cli.server.admin in names and name in names
    table = cli.ok("users").output
    assert name in table and f"{name}@example.test" in table


def test_users_disable_and_enable(cli: Cli) -> None:
    name = cli.register()
    assert "permission" in cli.fails("users:disable", name).output
    cli.login_admin()
    assert f"Disabled {name}." in cli.ok("users:disable", name).output
    users = json.loads(cli.ok("users:list", "--json").stdout)
    assert {u["username"]: u["is_active"] for u in users}[name] is False
    assert "ACTIVE" in cli.ok("users:list").output
    assert "does not exist" in cli.fails("users:disable", "nobody-at-all").output
    assert "your own account" in cli.fails("users:disable", cli.server.admin).output
    # The disabled user can no longer log in.
    failed = cli.fails("login", cli.server.url, "-u", name, "-p", "s3cret-pw")
    assert "User account is disabled." in failed.output
    cli.login_admin()
    assert f"Enabled {name}." in cli.ok("users", "enable", name).output
    cli.login(name)
    assert name in cli.ok("auth:whoami").output
