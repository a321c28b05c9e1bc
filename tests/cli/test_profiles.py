"""Profiles: DOCKYARD_PROFILE selects another file, DOCKYARD_URL and DOCKYARD_TOKEN
override everything."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.cli.conftest import Cli


def test_named_profiles(cli: Cli, home: Path) -> None:
    first = cli.register()
    second_env = {"DOCKYARD_PROFILE": "second"}
    second = f"{first}-b"
    cli.ok("register", cli.server.url, "-u", second, "-p", "pw-2", "--email", "", env=second_env)
    path = home / ".dockyard" / "second.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["username"] == second
    assert f"You are {second}" in cli.ok("whoami", env=second_env).output
    assert f"You are {first}" in cli.ok("whoami").output
    bad = cli.fails("whoami", env={"DOCKYARD_PROFILE": "../escape"})
    assert "not a valid profile name" in bad.output


def test_url_and_token_override_everything(cli: Cli, home: Path) -> None:
    name = cli.register()
    token = json.loads((home / ".dockyard" / "client.json").read_text())["token"]
    cli.ok("logout")
    cli.fails("whoami")
    env = {"DOCKYARD_URL": cli.server.url, "DOCKYARD_TOKEN": token}
    assert f"You are {name}" in cli.ok("whoami", env=env).output
    # No profile file at all: a CI machine.
    (home / ".dockyard" / "client.json").unlink()
    assert json.loads(cli.ok("apps:list", "--json", env=env).stdout) == []
    # The token from the environment wins over the one in the file.
    cli.login_admin()
    assert f"You are {name}" in cli.ok("whoami", env={"DOCKYARD_TOKEN": token}).output
    bad = cli.fails("whoami", env={"DOCKYARD_TOKEN": "nope"})
    assert "Invalid token." in bad.output


def test_corrupt_profile(cli: Cli, home: Path) -> None:
    (home / ".dockyard").mkdir()
    (home / ".dockyard" / "client.json").write_text("{not json")
    result = cli.fails("whoami")
    assert "not valid JSON" in result.output


def test_version(cli: Cli, user: str) -> None:
    assert "dockyard" in cli.ok("version").output
    data = json.loads(cli.ok("version", "--json").stdout)
    assert data["api"] == "2.3"
    assert data["controller"]["api_version"] == "2.3"
