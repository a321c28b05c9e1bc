"""The config topics other than config vars: limits, tags, registry and healthchecks."""

from __future__ import annotations

import json
from typing import Any

from tests.cli.conftest import Cli, Deployer, app_name


def _json(cli: Cli, *args: str) -> Any:
    return json.loads(cli.ok(*args, "--json").stdout)


def test_limits(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert "every process type is unlimited" in cli.ok("limits", "-a", app).output
    assert _json(cli, "limits:list", "-a", app) == {"memory": {}, "cpu": {}}
    assert "deployed v2" in cli.ok("limits:set", "web=512M", "worker=1G", "-a", app).output
    shown = cli.ok("limits:set", "--cpu", "web=500m", "-a", app).output
    assert "512M" in shown and "500m" in shown and "unlimited" in shown
    assert _json(cli, "limits", "-a", app) == {
        "memory": {"web": "512M", "worker": "1G"},
        "cpu": {"web": "500m"},
    }
    cli.ok("limits:unset", "worker", "-a", app)
    cli.ok("limits", "unset", "-c", "web", "-a", app)
    assert _json(cli, "limits", "-a", app) == {"memory": {"web": "512M"}, "cpu": {}}
    bad = cli.fails("limits:set", "web=lots", "-a", app)
    assert "Memory limit format" in bad.output
    assert "CPU limit format" in cli.fails("limits:set", "-c", "web=fast", "-a", app).output
    assert (
        "either --memory or --cpu" in cli.fails("limits:set", "-m", "-c", "w=1", "-a", app).output
    )
    assert "does not exist under memory" in cli.fails("limits:unset", "nope", "-a", app).output
    summary = json.loads(cli.ok("releases", "-a", app, "--json").stdout)[-2]["summary"]
    assert summary == f"{user} changed limits for memory"


def test_tags_and_registry(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert "has no tags" in cli.ok("tags", "-a", app).output
    assert "Set environ in tags" in cli.ok("tags:set", "environ=prod", "-a", app).output
    assert _json(cli, "tags:list", "-a", app) == {"environ": "prod"}
    cli.ok("tags:unset", "environ", "-a", app)
    assert _json(cli, "tags", "-a", app) == {}
    assert cli.fails("tags:set", "=x", "-a", app).exit_code == 2
    assert "is not a valid tags key" in cli.fails("tags:set", "bad key=x", "-a", app).output
    assert "has no registry credentials" in cli.ok("registry", "-a", app).output
    cli.ok("registry:set", "username=me", "password=hunter2", "-a", app)
    # The controller never sends a password back.
    assert _json(cli, "registry", "-a", app) == {"username": "me", "password": "********"}
    assert "hunter2" not in cli.ok("registry:list", "-a", app).output
    cli.ok("registry", "unset", "username", "password", "-a", app)
    assert _json(cli, "registry", "-a", app) == {}
    assert "does not exist under registry" in cli.fails("registry:unset", "x", "-a", app).output


def test_healthchecks(cli: Cli, user: str, deploy: Deployer) -> None:
    app = deploy()
    assert "has no health checks" in cli.ok("healthchecks", "-a", app).output
    result = cli.ok(
        "healthchecks:set", "readiness", "httpGet", "8000", "--path", "/", "--period-seconds",
        "1", "--header", "X-Probe: yes", "-a", app,
    )  # fmt: skip
    assert "Set the readiness check of web; deployed" in result.output
    assert "HTTP GET / on port 8000 with X-Probe:yes" in result.output
    cli.ok("healthchecks:set", "liveness", "tcpSocket", "8000", "-a", app)
    cli.ok(
        "healthchecks:set", "liveness", "exec", "--type", "worker", "--failure-threshold", "2",
        "-a", app, "--", "sh", "-c", "test -d /",
    )  # fmt: skip
    checks = _json(cli, "healthchecks:list", "-a", app)
    assert checks == {
        "web": {
            "readinessProbe": {
                "httpGet": {
                    "path": "/",
                    "port": 8000,
                    "httpHeaders": [{"name": "X-Probe", "value": "yes"}],
                },
                "periodSeconds": 1,
            },
            "livenessProbe": {"tcpSocket": {"port": 8000}},
        },
        "worker": {
            "livenessProbe": {
                "exec": {"command": ["sh", "-c", "test -d /"]},
                "failureThreshold": 2,
            }
        },
    }
    table = cli.ok("healthchecks", "-a", app).output
    assert "exec sh -c 'test -d /'" in table and "failure=2" in table
    assert list(_json(cli, "healthchecks", "-a", app, "--type", "worker")) == ["worker"]
    # The probes are real: the app is still up.
    assert {p["state"] for p in _json(cli, "ps", "-a", app)} == {"up"}
    removed = cli.ok("healthchecks:unset", "liveness", "readiness", "-a", app).output
    assert "Removed the liveness and readiness checks of web" in removed
    cli.ok("healthchecks:unset", "liveness", "--type", "worker", "-a", app)
    assert _json(cli, "healthchecks", "-a", app) == {}


def test_healthcheck_errors(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert cli.fails("healthchecks:set", "live", "httpGet", "80", "-a", app).exit_code == 2
    assert cli.fails("healthchecks:set", "liveness", "ping", "80", "-a", app).exit_code == 2
    assert cli.fails("healthchecks:set", "liveness", "exec", "-a", app).exit_code == 2
    two = cli.fails("healthchecks:set", "liveness", "httpGet", "80", "81", "-a", app)
    assert "exactly one argument" in two.output
    success = cli.fails(
        "healthchecks:set", "liveness", "tcpSocket", "80", "--success-threshold", "2", "-a", app
    )
    assert "livenessProbe successThreshold can only be 1" in success.output
    port = cli.fails("healthchecks:set", "readiness", "tcpSocket", "99999", "-a", app)
    assert "port must be in 1-65535" in port.output
    none = cli.fails("healthchecks:unset", "readiness", "-a", app)
    assert f"{app} has no readiness check for web" in none.output
