"""The real ``dockyard`` entry point in a subprocess: help, exit codes, clean errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, Server, app_name


def _dockyard(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}
    env.update(HOME=str(home), COLUMNS="120")
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help(home: Path) -> None:
    done = _dockyard(home, "--help")
    assert done.returncode == 0, done.stderr
    for name in ("apps:create", "keys:add", "perms:create", "login", "server", "version"):
        assert name in done.stdout
    sub = _dockyard(home, "apps", "--help")
    assert sub.returncode == 0 and "destroy" in sub.stdout


def test_login_failure_exit_code_and_message(server: Server, home: Path) -> None:
    done = _dockyard(home, "login", server.url, "-u", server.admin, "-p", "wrong")
    assert done.returncode == 1
    assert "Unable to log in with provided credentials." in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_not_logged_in(home: Path) -> None:
    done = _dockyard(home, "apps:list")
    assert done.returncode == 1
    assert "Not logged in" in done.stderr
    assert "Traceback" not in done.stderr


def test_usage_error(home: Path) -> None:
    done = _dockyard(home, "apps:info", "--no-such-option")
    assert done.returncode == 2


def test_shell_completion(cli: Cli, user: str, home: Path) -> None:
    """Typer completion: command names, and app names from the controller for -a."""
    script = Path(sys.executable).parent / "dockyard"
    if not script.exists():
        pytest.skip("the dockyard console script is not installed")
    app = app_name()
    cli.ok("apps:create", app)

    def complete(words: str) -> list[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}
        env.update(
            HOME=str(home),
            _DOCKYARD_COMPLETE="complete_bash",
            COMP_WORDS=words,
            COMP_CWORD=str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        )
        done = subprocess.run(
            [str(script)], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert "apps:create" in complete("dockyard apps:cr")
    assert complete(f"dockyard apps:info -a {app[:6]}") == [app]


def test_the_named_command_alone_is_built_and_everything_else_still_works(home: Path) -> None:
    """``dockyard.main`` builds only the command or topic the first argument names; the
    rest of the tree must still answer as before."""
    version = _dockyard(home, "version", "--json")
    assert version.returncode == 0, version.stderr
    assert '"client"' in version.stdout
    topic = _dockyard(home, "apps")  # a topic alone lists its apps: not logged in here
    assert topic.returncode == 1 and "Not logged in" in topic.stderr
    typo = _dockyard(home, "apps:craete")
    assert typo.returncode == 2 and "Did you mean 'apps:create'" in typo.stderr
    option_first = _dockyard(home, "--help")
    assert option_first.returncode == 0 and "apps:create" in option_first.stdout
    server_help = _dockyard(home, "server", "--help")
    assert server_help.returncode == 0 and "--workers" in server_help.stdout


def test_only_keeps_the_full_app_for_help_and_unknown_names() -> None:
    from dockyard.cli.app import app
    from dockyard.main import only

    assert only(None) is app
    assert only("--help") is app
    assert only("no-such-command") is app
    pruned = only("apps:create")
    assert [c.name for c in pruned.registered_commands] == ["apps:create"]
    assert pruned.registered_groups == []
    assert len(app.registered_commands) > 100  # the full app is left as it was
    assert [g.name for g in only("apps").registered_groups] == ["apps"]
