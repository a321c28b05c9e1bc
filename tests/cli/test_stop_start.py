"""ps:stop TYPE... and ps:start TYPE... against a real controller."""

from __future__ import annotations

import json
from collections import Counter

from tests.cli.conftest import Cli, Deployer


def _types(cli: Cli, app: str) -> dict[str, int]:
    pods = json.loads(cli.ok("ps:list", "-a", app, "--json").stdout)
    return dict(Counter(p["type"] for p in pods))


def test_stop_and_start(cli: Cli, user: str, deploy: Deployer) -> None:
    app = deploy()
    cli.ok("ps:scale", "web=2", "worker=1", "-a", app)
    stopped = cli.ok("ps:stop", "web", "worker", "-a", app)
    assert f"Stopped web worker of {app}" in stopped.output
    assert "has no processes running" in stopped.output
    assert _types(cli, app) == {}
    started = cli.ok("ps", "start", "web", "-a", app)  # the sub-command form
    assert f"Started web of {app}" in started.output
    assert _types(cli, app) == {"web": 2}
    cli.ok("ps:start", "worker", "-a", app)
    assert _types(cli, app) == {"web": 2, "worker": 1}
    # Errors: the server's message, or a usage error without a type.
    unknown = cli.fails("ps:stop", "clock", "-a", app)
    assert "Container type clock does not exist in application" in unknown.output
    assert cli.fails("ps:start", "-a", app).exit_code == 2
    assert _types(cli, app) == {"web": 2, "worker": 1}
