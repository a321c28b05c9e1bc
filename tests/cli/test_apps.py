"""apps:create|list|info|destroy|transfer|open, the space-separated aliases, and the app
inferred from the ``dockyard`` git remote."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, app_name


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(home: Path) -> Path:
    """The working directory, made a git repository."""
    work = Path.cwd()
    _git("init", "-q", cwd=work)
    return work


def test_create_list_info(cli: Cli, user: str) -> None:
    app = app_name()
    assert f"Created {app}." in cli.ok("apps:create", app).output
    listed = json.loads(cli.ok("apps:list", "--json").stdout)
    assert [a["id"] for a in listed] == [app]
    assert listed[0]["owner"] == user
    table = cli.ok("apps:list").output
    assert app in table and f"http://{app}.example.test" in table
    info = json.loads(cli.ok("apps:info", "-a", app, "--json").stdout)
    # With the edge router on a port other than 80, the URL carries that port.
    assert info["id"] == app and re.fullmatch(rf"{app}\.example\.test(:\d+)?", info["url"])
    shown = cli.ok("apps:info", "--app", app).output
    assert user in shown and app in shown


def test_space_separated_aliases_and_bare_topic(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps", "create", app)
    assert app in cli.ok("apps", "list").output
    assert app in cli.ok("apps").output  # the topic alone lists
    assert json.loads(cli.ok("apps", "--json").stdout)[0]["id"] == app
    assert json.loads(cli.ok("apps", "info", "-a", app, "--json").stdout)["id"] == app


def test_create_generates_a_name(cli: Cli, user: str) -> None:
    created = json.loads(cli.ok("apps:create", "--json").stdout)
    assert created["id"]
    assert created["id"] in cli.ok("apps:list").output


def test_create_errors(cli: Cli, user: str) -> None:
    bad = cli.fails("apps:create", "Bad_Name")
    assert "App name must start with an alphabetic character" in bad.output
    assert cli.fails("apps:create", "dockyard").exit_code == 1
    app = app_name()
    cli.ok("apps:create", app)
    dup = cli.fails("apps:create", app)
    assert "already exists" in dup.output


def test_empty_list(cli: Cli, user: str) -> None:
    assert "No apps yet" in cli.ok("apps:list").output
    assert json.loads(cli.ok("apps:list", "--json").stdout) == []


def test_info_of_missing_app_and_no_app(cli: Cli, user: str) -> None:
    assert cli.fails("apps:info", "-a", "no-such-app").exit_code == 1
    missing = cli.fails("apps:info")
    assert "-a/--app" in missing.output


def test_open_prints_the_url(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    url = json.loads(cli.ok("apps:info", "-a", app, "--json").stdout)["url"]
    assert cli.ok("apps:open", "-a", app).stdout.strip() == f"http://{url}"
    assert cli.ok("apps", "open", "-a", app, "--print").stdout.strip() == f"http://{url}"
    assert cli.ok("open", "-a", app).stdout.strip() == f"http://{url}"  # the Deis shortcut


def test_transfer(cli: Cli) -> None:
    new_owner = cli.register()
    owner = cli.register()
    app = app_name()
    cli.ok("apps:create", app)
    assert (
        f"Transferred {app} to {new_owner}" in cli.ok("apps:transfer", new_owner, "-a", app).output
    )
    # The previous owner lost access; the new one has it.
    assert cli.fails("apps:info", "-a", app).exit_code == 1
    assert "permission" in cli.fails("apps:info", "-a", app).output
    cli.login(new_owner)
    assert json.loads(cli.ok("apps:info", "-a", app, "--json").stdout)["owner"] == new_owner
    unknown = cli.fails("apps:transfer", "nobody-at-all", "-a", app)
    assert "nobody-at-all" in unknown.output
    assert owner


def test_destroy_with_confirm_flag(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    mismatch = cli.fails("apps:destroy", "-a", app, "--confirm", "other")
    assert "did not match" in mismatch.output
    cli.ok("apps:info", "-a", app)
    assert f"Destroyed {app}" in cli.ok("apps:destroy", "-a", app, "--confirm", app).output
    cli.fails("apps:info", "-a", app)


def test_destroy_interactive_confirmation(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    cli.fails("apps:destroy", "-a", app, input="wrong\n")
    assert "Aborted" in cli.fails("apps:destroy", "-a", app, input="").output  # no answer
    cli.ok("apps:info", "-a", app)
    cli.ok("apps", "destroy", "-a", app, input=f"{app}\n")
    assert json.loads(cli.ok("apps:list", "--json").stdout) == []


def test_collaborator_may_not_destroy(cli: Cli) -> None:
    friend = cli.register()
    cli.register()
    app = app_name()
    cli.ok("apps:create", app)
    cli.ok("perms:create", friend, "-a", app)
    cli.login(friend)
    assert app in cli.ok("apps:list").output
    assert "permission" in cli.fails("apps:destroy", "-a", app, "--confirm", app).output


def test_create_adds_git_remote_and_commands_infer_the_app(
    cli: Cli, user: str, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_name()
    out = cli.ok("apps:create", app).output
    url = _git("remote", "get-url", "dockyard")
    # The port is the one the controller's SSH endpoint listens on, as it says.
    assert url == f"ssh://git@127.0.0.1:{cli.server.ssh_port}/{app}.git"
    assert url in out
    # Without -a, the app comes from the remote.
    assert json.loads(cli.ok("apps:info", "--json").stdout)["id"] == app
    assert json.loads(cli.ok("releases:list", "--json").stdout)[0]["app"] == app
    # From a subdirectory too.
    sub = repo / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert json.loads(cli.ok("apps:info", "--json").stdout)["id"] == app
    monkeypatch.chdir(repo)
    # -a wins over the remote.
    other = app_name()
    cli.ok("apps:create", other, "--no-remote")
    assert json.loads(cli.ok("apps:info", "-a", other, "--json").stdout)["id"] == other
    # Destroying the app drops the remote that pointed at it.
    cli.ok("apps:destroy", "--confirm", app)
    assert "dockyard" not in _git("remote")


def test_existing_remote_is_left_alone(cli: Cli, user: str, repo: Path) -> None:
    _git("remote", "add", "dockyard", "ssh://git@example.org:2222/mine.git")
    app = app_name()
    result = cli.ok("apps:create", app)
    assert "already exists" in result.output
    assert _git("remote", "get-url", "dockyard") == "ssh://git@example.org:2222/mine.git"
    # An scp-like remote URL works for inference too.
    _git("remote", "set-url", "dockyard", f"git@example.org:{app}.git")
    assert json.loads(cli.ok("apps:info", "--json").stdout)["id"] == app


def test_create_outside_a_repository_adds_no_remote(cli: Cli, user: str) -> None:
    app = app_name()
    out = cli.ok("apps:create", app).output
    assert "remote" not in out
