"""users:list (administrators only)."""

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
