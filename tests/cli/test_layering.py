"""The CLI talks HTTP only. import-linter forbids the server's packages by name; this checks
what importing the CLI really loads: no other ``dockyard`` module than the CLI, the client
and the package root, and none of the server's libraries."""

from __future__ import annotations

import json
import subprocess
import sys

SERVER_LIBRARIES = ("fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "asyncssh")


def test_importing_the_cli_loads_no_server_code() -> None:
    probe = "import json, sys, dockyard.cli.app\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    modules = json.loads(done.stdout)
    ours = [
        m
        for m in modules
        if m.startswith("dockyard.") and not m.startswith(("dockyard.cli", "dockyard.client"))
    ]
    assert ours == []
    assert [m for m in modules if m.split(".")[0] in SERVER_LIBRARIES] == []
