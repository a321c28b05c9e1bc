"""``dockyard logs`` prints the log as plain text although the client sends
``Accept: application/json`` on every other request: its logs call asks for ``text/plain``
(the controller would otherwise answer a JSON string)."""

from __future__ import annotations

import json

import httpx

from dockyard.client import DockyardClient
from tests.cli.conftest import Cli

LOG = 'line one "quoted"\nline two\n'


def test_logs_call_asks_for_plain_text() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers["accept"] == "application/json":
            return httpx.Response(200, json=LOG)
        return httpx.Response(200, text=LOG)

    with DockyardClient("http://ctl", "t", transport=httpx.MockTransport(handler)) as c:
        assert c.logs("app", 2) == LOG
    (request,) = seen
    assert request.headers["accept"] == "text/plain"
    assert request.url.raw_path == b"/v2/apps/app/logs?log_lines=2"


def test_cli_prints_plain_text_from_a_real_controller(cli: Cli, user: str) -> None:
    app = f"logs-{user}"
    cli.ok("apps:create", app, "--no-remote")
    try:
        cli.ok("config:set", "A=1", "-a", app)
        text = cli.ok("logs", "-a", app).stdout
        lines = text.splitlines()
        assert len(lines) == 2, text
        assert lines[0].endswith(f"{user} created initial release (v1)")
        assert lines[1].endswith(f"{user} added A (v2)")
        assert json.loads(cli.ok("logs", "-a", app, "--json").stdout) == lines
    finally:
        cli.ok("apps:destroy", "-a", app, "--confirm", app)
