"""``dockyard server`` as a user runs it: a real process with its node agent and edge router.

SIGTERM stops all three cleanly; a server killed outright takes its agent with it but leaves
its router serving;
a stale agent left on the data dir does not stop the next server; and app processes outlive a
restart, are re-adopted (the same pods), and are routed again."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dockyard.core.settings import unreachable_by_others
from tests.releases.helpers import marked_pids
from tests.router.app import write_router_app
from tests.servers import AGENT, ROUTER, SSH, ServerProcess, free_port, processes_naming, wait_for


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path)
    try:
        yield s
    finally:
        s.kill_everything()


def test_sigterm_stops_the_server_its_agent_and_its_router(server: ServerProcess) -> None:
    server.start(workers=1)
    assert len(server.ours()) == 3
    r = httpx.get(f"http://127.0.0.1:{server.router}/", headers={"Host": "nothing.example.test"})
    assert r.status_code == 404
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    wait_for(lambda: not server.ours(), within=15)
    log = server.log.read_text()
    assert "Traceback" not in log
    # The log says where the API, the router and the agent are, and what enforces limits.
    assert f"API serving on http://127.0.0.1:{server.port} with 1 worker\n" in log
    assert f"router serving http on 127.0.0.1:{server.router}" in log
    assert "pod limits via " in log
    assert "git over SSH on 127.0.0.1:" in log and "host key SHA256:" in log


def test_a_killed_server_takes_its_agent_and_git_endpoint_along_not_its_router(
    server: ServerProcess,
) -> None:
    server.start(workers=2)
    assert len(server.ours()) == 3  # the agent, the router and the git SSH endpoint
    router = [pid for pid, cmd in server.ours().items() if ROUTER in cmd]
    server.crash()
    # The router serves on (tests/reliability); the next server adopts it.
    wait_for(lambda: list(server.ours()) == router, within=15)


def test_a_stale_agent_does_not_stop_the_next_server(server: ServerProcess) -> None:
    root = server.base / "data" / "local"
    root.mkdir(parents=True)
    stale = subprocess.Popen(
        [sys.executable, "-m", "dockyard.scheduler.local.agent", "--root", str(root)],
        start_new_session=True,  # not the server's child: nothing else would stop it
    )
    try:
        wait_for(lambda: (root / "agent.sock").exists())
        server.start()
        assert stale.wait(timeout=15) is not None
        agents = [p for p, cmd in server.ours().items() if AGENT in cmd]
        assert len(agents) == 1 and agents[0] != stale.pid
    finally:
        if stale.poll() is None:
            stale.kill()
            stale.wait()


def test_apps_survive_a_restart_and_are_routed_again(server: ServerProcess) -> None:
    marker = f"dysrv-{os.getpid()}-{time.monotonic_ns()}"
    source = write_router_app(server.base / "app", marker)
    server.start()
    api = httpx.Client(base_url=server.url, timeout=60)
    try:
        api.post(
            "/v2/auth/register",
            json={"username": "root", "password": "pw-root", "email": "r@example.test"},
        ).raise_for_status()
        token = api.post("/v2/auth/login", json={"username": "root", "password": "pw-root"})
        api.headers["Authorization"] = f"token {token.json()['token']}"
        api.post("/v2/apps", json={"id": "keeper"}).raise_for_status()
        api.post("/v2/apps/keeper/builds", json={"image": str(source)}).raise_for_status()
        assert api.post("/v2/apps/keeper/scale", json={"web": 2}).status_code == 204
        before = sorted(p["name"] for p in api.get("/v2/apps/keeper/pods").json()["results"])
        app_pids = sorted(marked_pids(marker))
        assert len(before) == 2 and app_pids

        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
        assert sorted(marked_pids(marker)) == app_pids  # the apps kept running

        server.start()
        after = api.get("/v2/apps/keeper/pods").json()["results"]
        assert sorted(p["name"] for p in after) == before
        assert {p["state"] for p in after} == {"up"}
        assert sorted(marked_pids(marker)) == app_pids  # adopted, not restarted

        def routed() -> bool:
            r = httpx.get(
                f"http://127.0.0.1:{server.router}/", headers={"Host": "keeper.example.test"}
            )
            return r.status_code == 200 and r.json()["pod"] in before

        wait_for(routed, within=10)
        assert api.delete("/v2/apps/keeper").status_code == 204
        wait_for(lambda: not marked_pids(marker), within=15)
    finally:
        api.close()


def test_an_unreachable_cluster_does_not_stop_the_server(server: ServerProcess) -> None:
    """On the kubernetes scheduler the server starts no agent or router; when the cluster
    cannot be reached, calls that need it answer 503 and a restart still comes up."""
    kubeconfig = server.base / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{free_port()}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    server.env.update(DOCKYARD_SCHEDULER="kubernetes", DOCKYARD_KUBECONFIG=str(kubeconfig))
    server.start()
    # Only the git SSH endpoint, which answers pushes with why they cannot be built there.
    assert [SSH in cmd for cmd in server.ours().values()] == [True]
    with httpx.Client(base_url=server.url, timeout=30) as api:
        user = {"username": "root", "password": "pw-root", "email": "r@example.test"}
        api.post("/v2/auth/register", json=user).raise_for_status()
        token = api.post("/v2/auth/login", json=user).json()["token"]
        r = api.post("/v2/apps", json={"id": "lonely"}, headers={"Authorization": f"token {token}"})
        assert r.status_code == 503, r.text
        assert "detail" in r.json()
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    server.start()  # publishing the routes at start fails, and is only logged
    assert "could not publish the apps' routes" in server.log.read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="app processes change user only under root")
def test_an_unreachable_data_dir_is_refused_with_a_reason(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}
    env.update(DOCKYARD_DATA_DIR=str(private / "data"), DOCKYARD_APP_USER="nobody")
    done = subprocess.run(
        [sys.executable, "-m", "dockyard", "server", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "App processes run as their own users (uids 200000-299999), who cannot reach" in (
        done.stderr
    )
    assert f"reach {private}/data/builds" in done.stderr
    # The first closed directory on the way: ours, or pytest's own (also 0700) above it.
    first = unreachable_by_others(private / "data" / "builds")
    assert first is not None and first in (private, *private.parents)
    assert f"{first} is not traversable by other users (mode 700)" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unusable_database_is_a_clear_error(server: ServerProcess) -> None:
    closed = free_port()
    server.env["DOCKYARD_DATABASE_URL"] = (
        f"postgresql+asyncpg://dockyard:hunter2@127.0.0.1:{closed}/dockyard"
    )
    done = server.run_to_exit()
    assert done.returncode == 1
    assert (
        f"The database at postgresql+asyncpg://dockyard:***@127.0.0.1:{closed}/dockyard "
        "cannot be used (DOCKYARD_DATABASE_URL): " in done.stderr
    )
    assert "hunter2" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    wait_for(lambda: not server.ours(), within=15)  # the agent and router it started are gone


def worker_pids(server: ServerProcess) -> list[int]:
    assert server.proc is not None
    return [
        pid
        for pid in processes_naming("dockyard.workers")
        if Path(f"/proc/{pid}/stat").read_text().split()[3] == str(server.proc.pid)
    ]


def maps_cryptography(pid: int) -> bool:
    return "/cryptography/" in Path(f"/proc/{pid}/maps").read_text()


def test_workers_load_cryptography_with_the_first_key(server: ServerProcess) -> None:
    """About 10 MB of each worker's memory is cryptography's native library: it loads when
    a key or certificate is first parsed, not at start. The supervisor never loads it."""
    server.start(workers=1)
    assert server.proc is not None
    [worker] = worker_pids(server)
    assert not maps_cryptography(worker)
    with httpx.Client(base_url=server.url, timeout=30) as api:
        user = {"username": "root", "password": "pw-root", "email": "r@example.test"}
        api.post("/v2/auth/register", json=user).raise_for_status()
        api.headers["Authorization"] = (
            f"token {api.post('/v2/auth/login', json=user).json()['token']}"
        )
        assert api.get("/v2/keys").status_code == 200
        assert not maps_cryptography(worker)
        key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPPDLZ4FL72BWNPtr0vH3RDXIBlMnAuJMxxAwh7vJ5/L"
        assert api.post("/v2/keys", json={"id": "laptop", "public": key}).status_code == 201
    assert maps_cryptography(worker)
    assert not maps_cryptography(server.proc.pid)


def tcp_inodes(port: int, state: str) -> set[str]:
    """Inodes of the sockets on local ``port`` in a TCP state of /proc/net/tcp
    (``01`` established, ``0A`` listening)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    found = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    found.add(target[8:-1])
    return found


def test_workers_share_the_connections(server: ServerProcess) -> None:
    server.start(workers=2)
    workers = worker_pids(server)
    assert len(workers) == 2
    # /healthz answering proves one worker listens; the kernel hashes only over the sockets
    # already in the group, so wait until each worker has its own.
    wait_for(lambda: all(socket_inodes(pid) & tcp_inodes(server.port, "0A") for pid in workers))
    count = 32
    clients = [httpx.Client(base_url=server.url) for _ in range(count)]
    try:
        for c in clients:  # one kept-alive connection each
            assert c.get("/healthz").status_code == 200
        connections = tcp_inodes(server.port, "01")
        per_worker = [len(socket_inodes(pid) & connections) for pid in workers]
        assert sum(per_worker) == count
        # Hashed by the kernel, not first-come: fewer than 5 of 32 on one worker happens by
        # chance about once in 50,000 runs.
        assert min(per_worker) >= 5, per_worker
    finally:
        for c in clients:
            c.close()


def test_a_taken_api_port_is_a_clear_error(server: ServerProcess) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server.port = taken.getsockname()[1]
        done = server.run_to_exit()
    assert done.returncode == 1
    assert f"The API cannot listen on 127.0.0.1:{server.port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert server.ours() == {}  # the agent and router it had started are stopped


def test_a_build_interrupted_by_a_killed_server_ends_and_is_marked_failed(
    server: ServerProcess,
) -> None:
    """Killing the server mid-build stops the build (its processes die with the API worker
    that ran it); the next start marks it failed and clears what it left in the data dir."""
    marker = f"interrupted-{secrets.token_hex(4)}"
    pack = server.base / "slow-pack"
    (pack / "bin").mkdir(parents=True)
    (pack / "bin" / "compile").write_text(
        f"#!/bin/sh\necho building\nexec sh -c 'sleep 300; :' {marker}\n"
    )
    (pack / "bin" / "compile").chmod(0o755)
    server.start()
    with httpx.Client(base_url=server.url, timeout=60) as api:
        user = {"username": "root", "password": "pw-root", "email": "r@example.test"}
        api.post("/v2/auth/register", json=user).raise_for_status()
        api.headers["Authorization"] = (
            "token " + api.post("/v2/auth/login", json=user).json()["token"]
        )
        api.post("/v2/apps", json={"id": "halfway"}).raise_for_status()
        api.post(
            "/v2/apps/halfway/config", json={"values": {"BUILDPACK_URL": str(pack)}}
        ).raise_for_status()
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            info = tarfile.TarInfo("README")
            tar.addfile(info, io.BytesIO(b""))
        with api.stream(
            "POST",
            "/v2/apps/halfway/sources",
            content=archive.getvalue(),
            headers={"Content-Type": "application/gzip"},
        ) as response:
            seen = []
            for line in response.iter_lines():
                seen.append(line)
                if '"building"' in line:
                    break
            assert '"building"' in seen[-1], seen
            wait_for(lambda: bool(marked_pids(marker)))
            assert server.proc is not None
            server.proc.kill()
            server.proc.wait()
    wait_for(lambda: not marked_pids(marker), within=20)

    server.start()
    with httpx.Client(base_url=server.url, timeout=60) as api:
        api.headers["Authorization"] = (
            "token " + api.post("/v2/auth/login", json=user).json()["token"]
        )
        builds = api.get("/v2/apps/halfway/builds").json()["results"]
    assert [b["status"] for b in builds] == ["failed"]
    assert "interrupted by the last stop" in server.log.read_text()
    assert list((server.base / "data" / "tmp").iterdir()) == []
    assert list((server.base / "data" / "builds" / "halfway").iterdir()) == []


def test_without_root_the_server_says_what_isolation_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from dockyard.core.settings import Settings
    from dockyard.serve import _check_app_access

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with caplog.at_level("WARNING", logger="dockyard"):
        _check_app_access(Settings(data_dir=tmp_path / "data"))
    assert "apps are not isolated: the server does not run as root" in caplog.text
    assert "can read each other's environment (config values), files and logs" in caplog.text
