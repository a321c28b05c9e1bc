"""config:list|set|unset|pull|push, and the ``.env`` parsing and writing behind pull/push."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from dockyard.cli import dotenv
from tests.cli.conftest import Cli, Deployer, app_name


def _values(cli: Cli, app: str) -> dict[str, str]:
    return dict(json.loads(cli.ok("config:list", "-a", app, "--json").stdout))


def test_set_list_unset(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert "has no config vars" in cli.ok("config", "-a", app).output
    assert _values(cli, app) == {}
    result = cli.ok("config:set", "A=1", "B=x y", "URL=http://h/?q=1", "-a", app)
    assert "Set A, B, URL; deployed v2" in result.output
    assert _values(cli, app) == {"A": "1", "B": "x y", "URL": "http://h/?q=1"}
    table = cli.ok("config:list", "-a", app).output
    assert f"=== {app} Config" in table and "x y" in table
    assert cli.ok("config", "-a", app, "--oneline").stdout.strip() == (
        'A=1 B="x y" URL="http://h/?q=1"'
    )
    assert "Unset A, URL; deployed v3" in cli.ok("config:unset", "A", "URL", "-a", app).output
    assert _values(cli, app) == {"B": "x y"}
    releases = json.loads(cli.ok("releases", "-a", app, "--json").stdout)
    assert releases[0]["summary"] == f"{user} deleted A, URL"


def test_config_errors(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    cli.ok("config:set", "A=1", "-a", app)
    same = cli.fails("config:set", "A=1", "-a", app)
    assert f"{user} changed nothing - release stopped" in same.output
    missing = cli.fails("config:unset", "NOPE", "-a", app)
    assert "NOPE does not exist under values" in missing.output
    bad_key = cli.fails("config:set", "1BAD=x", "-a", app)
    assert "Config keys must start with a letter or underscore" in bad_key.output
    assert cli.fails("config:set", "NOEQUALS", "-a", app).exit_code == 2
    assert cli.fails("config:set", "-a", app).exit_code == 2
    assert "No App matches" in cli.fails("config:list", "-a", "no-such-app").output


def test_config_change_restarts_the_processes(cli: Cli, user: str, deploy: Deployer) -> None:
    app = deploy()
    cli.ok("config:set", "GREETING=hello", "-a", app)
    assert cli.ok("run", "-a", app, "echo $GREETING").stdout == "hello\n"
    pods = json.loads(cli.ok("ps", "-a", app, "--json").stdout)
    assert [p["release"] for p in pods] == ["v3"]


def test_pull_writes_and_merges(cli: Cli, user: str, tmp_path: Path) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    env = Path(".env")
    assert "nothing to pull" in cli.ok("config:pull", "-a", app).output
    assert not env.exists()
    cli.ok("config:set", "A=1", "B=two words", "C=3", "-a", app)
    assert "3 added" in cli.ok("config:pull", "-a", app).output
    assert env.read_text() == 'A=1\nB="two words"\nC=3\n'
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    # Local values are kept unless --overwrite; comments and order stay; new keys are added.
    env.write_text("# mine\nC=local\nexport A=1\n")
    pulled = cli.ok("config:pull", "-a", app)
    assert "Kept the values of C" in pulled.output and "--overwrite" in pulled.output
    assert env.read_text() == '# mine\nC=local\nexport A=1\nB="two words"\n'
    cli.ok("config:pull", "-a", app, "--overwrite")
    assert env.read_text() == '# mine\nC=3\nexport A=1\nB="two words"\n'
    # --interactive asks for each differing value.
    env.write_text("C=mine\n")
    cli.ok("config:pull", "-a", app, "-i", input="y\n")
    assert dotenv.read(env)["C"] == "3"
    # Another path.
    other = tmp_path / "prod.env"
    cli.ok("config:pull", "-a", app, "--path", str(other))
    assert dotenv.read(other) == {"A": "1", "B": "two words", "C": "3"}


def test_push(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    cli.ok("config:set", "KEEP=me", "-a", app)
    Path(".env").write_text(
        "# settings\n\nexport DEBUG=false\nNAME='single $quoted'\n"
        'GREETING="hello \\"you\\"" # a comment\nPLAIN=a b # trailing\n'
    )
    result = cli.ok("config:push", "-a", app)
    assert "Pushed DEBUG, GREETING, NAME, PLAIN" in result.output
    assert _values(cli, app) == {
        "KEEP": "me",
        "DEBUG": "false",
        "NAME": "single $quoted",
        "GREETING": 'hello "you"',
        "PLAIN": "a b",
    }
    # The same file again changes nothing: the server says so.
    assert "changed nothing" in cli.fails("config:push", "-a", app).output


def test_push_errors(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert ".env does not exist" in cli.fails("config:push", "-a", app).output
    Path(".env").write_text("# nothing but a comment\n")
    assert "has no variables" in cli.fails("config:push", "-a", app).output
    Path(".env").write_text("GOOD=1\nthis is not an assignment\n")
    assert "line 2: expected KEY=value" in cli.fails("config:push", "-a", app).output
    Path(".env").write_text('OPEN="never closed\n')
    assert "not closed" in cli.fails("config:push", "-a", app).output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1", {"A": "1"}),
        ("  export   A = spaced value  ", {"A": "spaced value"}),
        ("A=x#not-a-comment", {"A": "x#not-a-comment"}),
        ("A=x #comment", {"A": "x"}),
        ("A='lit\\n $X'", {"A": "lit\\n $X"}),
        ('A="a\\nb\\t\\\\"', {"A": "a\nb\t\\"}),
        ("A=", {"A": ""}),
        ('A=""', {"A": ""}),
        ("A=1\nA=2", {"A": "2"}),
        ("# c\n\n", {}),
    ],
)
def test_dotenv_parse(text: str, expected: dict[str, str]) -> None:
    assert dotenv.parse(text) == expected


@pytest.mark.parametrize("value", ["", "plain", "two words", 'q"uote', "new\nline", "back\\slash"])
def test_dotenv_round_trip(value: str) -> None:
    assert dotenv.parse(dotenv.render({"K": value})) == {"K": value}


def test_dotenv_update_keeps_what_did_not_change() -> None:
    text = "# top\nexport A='one'\nB=2\nB=3\n"
    assert dotenv.update(text, {"A": "one", "B": "4", "C": "new"}) == (
        "# top\nexport A='one'\nB=4\nC=new\n"
    )
    with pytest.raises(dotenv.DotenvError):
        dotenv.parse("A='open")
    with pytest.raises(dotenv.DotenvError):
        dotenv.parse('A="x" trailing')
