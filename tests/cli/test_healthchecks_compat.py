"""healthchecks:list|set|unset with the Deis key ``web/cmd``: probes a Deis client set there
are listed (also with ``--type web``), and the CLI sets and unsets them per kind."""

from __future__ import annotations

import json
from typing import Any

from dockyard.client import DockyardClient
from tests.cli.conftest import PASSWORD, Cli, app_name

READINESS = {"httpGet": {"path": "/healthz", "port": 5000}, "periodSeconds": 10}


def _json(cli: Cli, *args: str) -> Any:
    return json.loads(cli.ok(*args, "--json").stdout)


def test_web_cmd_probes(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    # What the Deis v2 CLI sends for `deis healthchecks:set readiness httpGet 5000 ...`.
    with DockyardClient(cli.server.url) as client:
        client.login(user, PASSWORD)
        client.set_config(app, healthcheck={"web/cmd": {"readinessProbe": READINESS}})
    table = cli.ok("healthchecks", "-a", app).output
    assert "web/cmd" in table and "HTTP GET /healthz on port 5000" in table
    assert _json(cli, "healthchecks:list", "-a", app) == {"web/cmd": {"readinessProbe": READINESS}}
    # It applies to web (and cmd), so it is listed with them; not with other types.
    assert list(_json(cli, "healthchecks", "-a", app, "--type", "web")) == ["web/cmd"]
    assert list(_json(cli, "healthchecks", "-a", app, "--type", "cmd")) == ["web/cmd"]
    assert _json(cli, "healthchecks", "-a", app, "--type", "worker") == {}

    # Setting the other kind keeps the first; a probe of web itself is a key of its own.
    cli.ok("healthchecks:set", "liveness", "tcpSocket", "5000", "--type", "web/cmd", "-a", app)
    cli.ok("healthchecks:set", "liveness", "exec", "-a", app, "--", "true")
    assert _json(cli, "healthchecks", "-a", app) == {
        "web/cmd": {"readinessProbe": READINESS, "livenessProbe": {"tcpSocket": {"port": 5000}}},
        "web": {"livenessProbe": {"exec": {"command": ["true"]}}},
    }

    # Unset removes only the kinds named.
    hint = cli.fails("healthchecks:unset", "readiness", "-a", app).output
    assert f"{app} has no readiness check for web (it has one for web/cmd" in hint
    removed = cli.ok("healthchecks:unset", "readiness", "--type", "web/cmd", "-a", app).output
    assert "Removed the readiness check of web/cmd" in removed
    assert _json(cli, "healthchecks", "-a", app) == {
        "web/cmd": {"livenessProbe": {"tcpSocket": {"port": 5000}}},
        "web": {"livenessProbe": {"exec": {"command": ["true"]}}},
    }
    cli.ok("healthchecks:unset", "liveness", "--type", "web/cmd", "-a", app)
    cli.ok("healthchecks:unset", "liveness", "-a", app)
    assert _json(cli, "healthchecks", "-a", app) == {}
    summaries = [r["summary"] for r in json.loads(cli.ok("releases", "-a", app, "--json").stdout)]
    assert summaries[:2] == [
        f"{user} deleted healthcheck info for proc type web",
        f"{user} deleted healthcheck info for proc type web/cmd",
    ]
