"""releases:list and releases:info."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli, app_name


def test_list_and_info(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    releases = json.loads(cli.ok("releases:list", "-a", app, "--json").stdout)
    assert [r["version"] for r in releases] == [1]
    assert releases[0]["summary"] == f"{user} created initial release"
    table = cli.ok("releases", "-a", app).output
    assert "v1" in table and "created initial release" in table
    for version in ("v1", "1"):
        info = json.loads(cli.ok("releases:info", version, "-a", app, "--json").stdout)
        assert info["version"] == 1 and info["build"] is None
    shown = cli.ok("releases", "info", "v1", "-a", app).output
    assert "created initial release" in shown
    assert json.loads(cli.ok("releases:list", "-a", app, "--limit", "1", "--json").stdout)


def test_missing_release(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert cli.fails("releases:info", "v9", "-a", app).exit_code == 1
    assert cli.fails("releases:list", "-a", "no-such-app").exit_code == 1
