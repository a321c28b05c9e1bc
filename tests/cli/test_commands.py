"""Properties of the whole command set: every command explains itself in --help, every app
command takes -a/--app (and says so when no app can be inferred), every read command's
--json parses, and the Deis shortcuts exist."""

from __future__ import annotations

import inspect
import json

import pytest
import typer

from dockyard.cli.app import app as root
from tests.cli.conftest import Cli, app_name

GROUP = typer.main.get_command(root)
assert isinstance(GROUP, typer.main.TyperGroup)
COMMANDS = GROUP.commands

# Every command that is about one app, with the arguments it needs.
APP_COMMANDS: dict[str, list[str]] = {
    "apps:info": [],
    "apps:destroy": ["--confirm", "x"],
    "apps:transfer": ["someone"],
    "apps:open": ["--print"],
    "apps:run": ["true"],
    "apps:logs": [],
    "builds:list": [],
    "builds:create": ["/nonexistent"],
    "builds:deploy": [],
    "builds:log": ["some-uuid"],
    "releases:list": [],
    "releases:info": ["v1"],
    "releases:rollback": [],
    "config:list": [],
    "config:set": ["A=1"],
    "config:unset": ["A"],
    "config:pull": [],
    "config:push": [],
    "limits:list": [],
    "limits:set": ["web=1G"],
    "limits:unset": ["web"],
    "tags:list": [],
    "tags:set": ["a=b"],
    "tags:unset": ["a"],
    "registry:list": [],
    "registry:set": ["a=b"],
    "registry:unset": ["a"],
    "healthchecks:list": [],
    "healthchecks:set": ["liveness", "tcpSocket", "80"],
    "healthchecks:unset": ["liveness"],
    "ps:list": [],
    "ps:scale": ["web=1"],
    "ps:restart": [],
    "ps:stop": ["web"],
    "ps:start": ["web"],
    "autoscale:list": [],
    "autoscale:set": ["web", "--min", "1", "--max", "2", "--cpu-percent", "50"],
    "autoscale:unset": ["web"],
    "labels:list": [],
    "labels:set": ["a=b"],
    "labels:unset": ["a"],
    "domains:list": [],
    "domains:add": ["a.test"],
    "domains:remove": ["a.test"],
    "tls:info": [],
    "tls:enable": [],
    "tls:disable": [],
    "settings:list": [],
    "maintenance:info": [],
    "maintenance:on": [],
    "maintenance:off": [],
    "routing:info": [],
    "routing:enable": [],
    "routing:disable": [],
    "whitelist:list": [],
    "whitelist:add": ["1.2.3.4"],
    "whitelist:remove": ["1.2.3.4"],
    "perms:list": [],
    "perms:create": ["someone"],
    "perms:delete": ["someone"],
}

# Read commands of an app, with their arguments: --json must print JSON.
APP_READS: dict[str, list[str]] = {
    "apps:info": [],
    "builds:list": [],
    "releases:list": [],
    "releases:info": ["v1"],
    "config:list": [],
    "limits:list": [],
    "tags:list": [],
    "registry:list": [],
    "healthchecks:list": [],
    "ps:list": [],
    "autoscale:list": [],
    "labels:list": [],
    "domains:list": [],
    "tls:info": [],
    "settings:list": [],
    "maintenance:info": [],
    "routing:info": [],
    "whitelist:list": [],
    "perms:list": [],
    "apps:logs": [],
}
OTHER_READS = ["apps:list", "keys:list", "certs:list", "auth:whoami", "version"]
# Commands with --json whose JSON their topic's tests check: writes (the JSON is what was
# made), a read that needs an existing certificate, and one that needs an administrator.
JSON_ELSEWHERE = {
    "apps:create",
    "builds:create",
    "builds:deploy",
    "buildpacks:add",
    "buildpacks:list",  # to OTHER_READS once the controller serves /v2/buildpacks/
    "apps:run",
    "auth:regenerate",
    "certs:info",
    "users:list",
}


def _params(name: str) -> set[str]:
    return {p.name for p in COMMANDS[name].params if p.name}


def _topic_commands() -> list[str]:
    return sorted(n for n in COMMANDS if ":" in n)


def test_every_app_command_takes_app() -> None:
    with_app = {n for n in _topic_commands() if "app" in _params(n)}
    assert with_app == set(APP_COMMANDS)


def test_every_json_command_is_covered() -> None:
    with_json = {n for n in COMMANDS if "json" in _params(n) and (":" in n or n == "version")}
    assert with_json == set(APP_READS) | set(OTHER_READS) | JSON_ELSEWHERE


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help(cli: Cli, name: str) -> None:
    result = cli.ok(*name.split(), "--help")
    assert "Usage:" in result.output
    command = COMMANDS[name]
    assert (command.help or "").strip() or isinstance(command, typer.main.TyperGroup)


def test_root_help_lists_the_topics(cli: Cli) -> None:
    text = cli.ok("--help").output
    for name in ("apps:create", "builds:create", "config:set", "scale", "run", "logs",
                 "domains:add", "certs:attach", "tls:enable", "maintenance:on", "routing:info",
                 "whitelist:add", "settings:list", "healthchecks:set", "limits:set",
                 "tags:set", "registry:set", "releases:rollback", "keys:add", "perms:create",
                 "users:list", "version"):  # fmt: skip
        assert name in text, name


def test_no_app_given(cli: Cli, user: str) -> None:
    """Outside a git repository, without -a: every app command says how to name the app."""
    for name, extra in sorted(APP_COMMANDS.items()):
        result = cli.fails(name, *extra)
        assert "No app given. Pass -a/--app" in result.output, (name, result.output)


def test_json_of_every_read_command(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    for name, extra in [*APP_READS.items(), *((n, []) for n in OTHER_READS)]:
        app_args = ["-a", app] if name in APP_READS else []
        result = cli.ok(name, *extra, *app_args, "--json")
        json.loads(result.stdout)


@pytest.mark.parametrize(
    ("shortcut", "target"),
    [
        ("create", "apps:create"),
        ("info", "apps:info"),
        ("destroy", "apps:destroy"),
        ("open", "apps:open"),
        ("pull", "builds:create"),
        ("rollback", "releases:rollback"),
        ("scale", "ps:scale"),
        ("run", "apps:run"),
        ("logs", "apps:logs"),
        ("login", "auth:login"),
        ("whoami", "auth:whoami"),
    ],
)
def test_shortcuts(shortcut: str, target: str) -> None:
    callbacks = [COMMANDS[name].callback for name in (shortcut, target)]
    assert all(callbacks)
    assert len({inspect.unwrap(c) for c in callbacks if c}) == 1


def test_space_separated_forms(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps", "create", app)
    assert json.loads(cli.ok("config", "list", "-a", app, "--json").stdout) == {}
    assert json.loads(cli.ok("config", "-a", app, "--json").stdout) == {}  # the default
    assert json.loads(cli.ok("tls", "-a", app, "--json").stdout)["https_enforced"] is False
    assert "Routing is enabled" in cli.ok("routing", "-a", app).output
