"""builds:list|create, releases:rollback, ps:list|scale|restart, run and logs against apps
really deployed on the local scheduler, and the app reached through the edge router."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Cli, Deployer, Server


def _pods(cli: Cli, app: str) -> list[dict[str, str]]:
    return list(json.loads(cli.ok("ps:list", "-a", app, "--json").stdout))


def _types(pods: list[dict[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in pods:
        if pod["state"] == "up":
            counts[pod["type"]] = counts.get(pod["type"], 0) + 1
    return counts


def test_build_deploys_and_lists(cli: Cli, user: str, deploy: Deployer) -> None:
    app = deploy.create()
    assert "has no builds yet" in cli.ok("builds", "-a", app).output
    result = cli.ok("builds:create", str(deploy.source()), "-a", app)
    assert f"to {app} as v2" in result.output
    assert "Process types: web, worker. Running: web=1." in result.output
    builds = json.loads(cli.ok("builds:list", "-a", app, "--json").stdout)
    assert len(builds) == 1 and sorted(builds[0]["procfile"]) == ["web", "worker"]
    assert builds[0]["uuid"] in cli.ok("builds", "list", "-a", app).output
    assert _types(_pods(cli, app)) == {"web": 1}
    releases = json.loads(cli.ok("releases", "-a", app, "--json").stdout)
    assert releases[0]["version"] == 2 and releases[0]["build"] == builds[0]["uuid"]
    # --json of a build, and the Deis shortcut ``pull``.
    again = json.loads(cli.ok("pull", str(deploy.source()), "-a", app, "--json").stdout)
    assert again["app"] == app and again["uuid"] != builds[0]["uuid"]


def test_build_with_procfile_option_and_relative_path(
    cli: Cli, user: str, deploy: Deployer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = deploy.create()
    source = deploy.source()
    monkeypatch.chdir(source)  # "." is sent as the absolute path of the current directory
    procfile = f"web: python3 web.py {deploy.marker}"
    built = json.loads(cli.ok("builds:create", ".", "-a", app, "-p", procfile, "--json").stdout)
    assert built["image"] == str(source) and built["procfile"] == {"web": procfile[5:]}
    file = source / "Procfile.alt"
    file.write_text(f"# only a worker\nworker: python3 worker.py {deploy.marker}\n")
    built = json.loads(
        cli.ok("builds:create", ".", "-a", app, "--procfile", str(file), "--json").stdout
    )
    assert list(built["procfile"]) == ["worker"]


def test_build_errors(cli: Cli, user: str, deploy: Deployer, tmp_path: Path) -> None:
    app = deploy.create()
    outside = cli.fails("builds:create", str(tmp_path), "-a", app)
    assert "DOCKYARD_LOCAL_SOURCE_ROOTS" in outside.output
    image = cli.fails("builds:create", "nginx:latest", "-a", app)
    assert "looks like a container image" in image.output
    bad = cli.fails("builds:create", str(deploy.source()), "-a", app, "-p", "no colon here")
    assert "is not 'type: command'" in bad.output
    # Nothing built yet: processes cannot start.
    assert "No build associated" in cli.fails("scale", "web=1", "-a", app).output
    assert "No build associated" in cli.fails("run", "-a", app, "true").output
    assert "has no processes running" in cli.ok("ps", "-a", app).output
    assert json.loads(cli.ok("ps", "-a", app, "--json").stdout) == []


def test_scale_and_restart(cli: Cli, user: str, deploy: Deployer) -> None:
    app = deploy()
    result = cli.ok("ps:scale", "web=2", "worker=1", "-a", app)
    assert f"Scaled {app} to web=2 worker=1" in result.output
    assert "=== " in result.output and "worker" in result.output
    assert _types(_pods(cli, app)) == {"web": 2, "worker": 1}
    cli.ok("scale", "web=1", "-a", app)  # the top-level form
    pods = _pods(cli, app)
    assert _types(pods) == {"web": 1, "worker": 1}
    assert json.loads(cli.ok("ps:list", "-a", app, "--type", "worker", "--json").stdout)
    restarted = cli.ok("ps:restart", "worker", "-a", app).output
    assert "Restarted 1 process(es)" in restarted
    assert "Restarted 2 process(es)" in cli.ok("ps", "restart", "-a", app).output
    web = next(p["name"] for p in _pods(cli, app) if p["type"] == "web")
    assert "Restarted 1 process(es)" in cli.ok("ps:restart", web, "-a", app).output
    # Errors: the server's message, or a usage error for a malformed argument.
    unknown = cli.fails("scale", "nope=1", "-a", app)
    assert "Container type nope does not exist in application" in unknown.output
    assert cli.fails("scale", "web=two", "-a", app).exit_code == 2
    assert cli.fails("scale", "web", "-a", app).exit_code == 2
    missing_pod = cli.fails("ps:restart", f"{app}-web-1-abcde", "-a", app)
    assert "does not exist" in missing_pod.output
    cli.ok("scale", "web=0", "worker=0", "-a", app)
    assert _types(_pods(cli, app)) == {}


def test_run_prints_output_and_exits_with_its_code(cli: Cli, user: str, deploy: Deployer) -> None:
    app = deploy()
    assert cli.ok("run", "-a", app, "echo $DEIS_APP").stdout == f"{app}\n"
    # Arguments after the command belong to it (-c is python's, not an option of dockyard).
    code = cli.run("run", "-a", app, "python3", "-c", "import sys; print('bye'); sys.exit(3)")
    assert code.exit_code == 3 and code.stdout == "bye\n"
    data = json.loads(cli.run("apps:run", "-a", app, "--json", "exit 7").stdout)
    assert data == {"exit_code": 7, "output": ""}
    assert cli.fails("run", "-a", "no-such-app", "true").exit_code == 1


def test_logs(cli: Cli, user: str, deploy: Deployer) -> None:
    app = deploy()
    cli.ok("scale", "worker=1", "-a", app)
    text = cli.ok("logs", "-a", app).stdout
    assert f"{user} deployed" in text and "web listening" in text
    lines = json.loads(cli.ok("logs", "-a", app, "-n", "3", "--json").stdout)
    assert isinstance(lines, list) and 1 <= len(lines) <= 3
    assert len(cli.ok("apps:logs", "-a", app, "--lines", "2").stdout.splitlines()) <= 2
    assert cli.fails("logs", "-a", app, "-n", "0").exit_code == 2


def test_rollback(cli: Cli, user: str, deploy: Deployer) -> None:
    app = deploy()
    cli.ok("config:set", "GREETING=hi", "-a", app)
    assert cli.ok("run", "-a", app, "echo $GREETING").stdout == "hi\n"
    rolled = cli.ok("releases:rollback", "-a", app).output
    assert f"{user} rolled back to v2: deployed v4" in rolled
    assert cli.ok("run", "-a", app, "echo ${GREETING:-none}").stdout == "none\n"
    assert "rolled back to v3" in cli.ok("rollback", "v3", "-a", app).output
    assert cli.ok("run", "-a", app, "echo $GREETING").stdout == "hi\n"
    assert "Cannot roll back to initial release." in cli.fails("rollback", "1", "-a", app).output
    assert "does not exist" in cli.fails("releases:rollback", "v99", "-a", app).output
    assert "not a release version" in cli.fails("releases:rollback", "vx", "-a", app).output
    summaries = [r["summary"] for r in json.loads(cli.ok("releases", "-a", app, "--json").stdout)]
    assert summaries[:2] == [f"{user} rolled back to v3", f"{user} rolled back to v2"]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_app_is_reachable_through_the_router(
    cli: Cli, user: str, deploy: Deployer, server: Server
) -> None:
    app = deploy()
    if not _listening(server.router_port):
        pytest.skip("this controller starts no edge router")
    url = cli.ok("apps:open", "-a", app, "--print").stdout.strip()
    host = httpx.URL(url).host
    response = httpx.get(
        f"http://127.0.0.1:{server.router_port}/", headers={"Host": host}, timeout=10
    )
    assert response.status_code == 200 and response.json()["version"] == "one"
    assert response.json()["env"]["DEIS_APP"] == app
