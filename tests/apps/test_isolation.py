"""Per-app isolation on the local scheduler, through the HTTP API as clients use it: each
app's processes run as the app's own uid and gid, with no supplementary groups, a process
limit and ``no_new_privs``, and a one-off run in one app cannot read another app's
environment, build or log, while it can read its own.

It needs root (the agent changes users), and a data dir and agent root that other users may
traverse, as the server's are; pytest's own temporary directories are 0700.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from dockyard.core.settings import Settings
from dockyard.scheduler.local.agent import Agent
from dockyard.scheduler.local.node import NodeOptions
from dockyard.scheduler.local.pods import PodDir, alive
from tests.conftest import Account, create_app_for
from tests.releases.helpers import (
    built,
    configured,
    eventually,
    pods,
    run,
    run_output,
    write_app,
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="apps run under their own uids only when the controller is root"
)

MAX_PROCS = 24
SECRET = "s3cret-of-a"


@pytest.fixture
def uid_range() -> tuple[int, int]:
    """Uids of this test's own: processes another test killed may not all be reaped yet, and
    they count against a uid's process limit until they are."""
    first = 280_000 + 100 * secrets.randbelow(100)
    return first, first + 99


@pytest.fixture
def open_base() -> Iterator[Path]:
    """A short path under /tmp that other users may traverse (unix sockets need short paths)."""
    path = Path(tempfile.mkdtemp(prefix="dyi", dir="/tmp"))
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def agent_root(open_base: Path) -> AsyncIterator[Path]:
    """A node agent that isolates apps (overrides the session's, which keeps the test user)."""
    root = open_base / "local"
    agent = Agent(
        root,
        deploy_timeout=20.0,
        run_timeout=20.0,
        app_user="nobody",
        options=NodeOptions(settle=0.3, max_procs=MAX_PROCS),
    )
    await agent.start()
    try:
        yield root
    finally:
        await agent.close()


@pytest.fixture
def settings(
    open_base: Path, tmp_path: Path, database_url: str, uid_range: tuple[int, int]
) -> Settings:
    made = Settings(
        data_dir=open_base / "data",
        database_url=database_url,
        platform_domain="example.test",
        local_source_roots=str(tmp_path),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        deploy_timeout=20.0,
        app_uid_range=f"{uid_range[0]}-{uid_range[1]}",
    )
    made.ensure_dirs()
    return made


def child_pid(agent_root: Path, app: str, pod: str) -> int:
    runtime = PodDir(agent_root / "pods" / app / pod).runtime()
    assert runtime is not None and runtime.child_pid, runtime
    return runtime.child_pid


def status_field(pid: int, name: str) -> list[str]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split()[1:]
    raise AssertionError(f"no {name} in /proc/{pid}/status")


async def deployed(client: httpx.AsyncClient, user: Account, app: str, source: Path) -> str:
    """Create ``app``, build ``source`` (one web pod) and return the build's uuid."""
    await create_app_for(client, user, app)
    body = await built(client, user, app, source, procfile={"web": "python3 web.py"})
    return str(body["uuid"])


async def test_an_app_cannot_read_another_apps_environment_files_or_logs(
    client: httpx.AsyncClient,
    user: Account,
    settings: Settings,
    agent_root: Path,
    tmp_path: Path,
    uid_range: tuple[int, int],
) -> None:
    source = write_app(tmp_path / "src", "isolated", procfile=None)
    build_a = await deployed(client, user, "iso-a", source)
    await deployed(client, user, "iso-b", source)
    await configured(client, user, "iso-a", values={"SECRET_TOKEN": SECRET})
    (pod_a,) = await pods(client, user, "iso-a")
    (pod_b,) = await pods(client, user, "iso-b")
    pid_a = child_pid(agent_root, "iso-a", pod_a["name"])
    pid_b = child_pid(agent_root, "iso-b", pod_b["name"])
    uid_a, uid_b = int(status_field(pid_a, "Uid")[0]), int(status_field(pid_b, "Uid")[0])
    assert uid_a != uid_b and {uid_a, uid_b} <= set(range(uid_range[0], uid_range[1] + 1))
    assert status_field(pid_a, "Gid") == [str(uid_a)] * 4
    slug_a = Path(settings.data_dir / "builds" / "iso-a")
    log_a = agent_root / "logs" / "iso-a.log"
    release_dir = slug_a / build_a
    # What lies on disk is the app's alone (and root's).
    for path, mode in ((slug_a, 0o750), (release_dir, 0o750), (release_dir / "web.py", 0o640)):
        info = path.stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, uid_a, mode), path
    info = log_a.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, uid_a, 0o640)

    attempts = {
        "environ": f"cat /proc/{pid_a}/environ",
        "working dir": f"ls /proc/{pid_a}/cwd/",
        "build dir": f"ls {release_dir}",
        "build file": f"cat {release_dir}/web.py",
        "log": f"cat {log_a}",
    }
    for what, command in attempts.items():
        result = await run(client, user, "iso-b", command)
        assert result["exit_code"] != 0, (what, result)
        assert "Permission denied" in result["output"], (what, result)
        assert SECRET not in result["output"]
    # The app itself reads all of them.
    assert f"SECRET_TOKEN={SECRET}" in await run_output(client, user, "iso-a", attempts["environ"])
    assert "web.py" in await run_output(client, user, "iso-a", attempts["working dir"])
    assert "web.py" in await run_output(client, user, "iso-a", attempts["build dir"])
    assert "HTTPServer" in await run_output(client, user, "iso-a", attempts["build file"])
    assert "iso-a[web.1]: web listening" in await run_output(client, user, "iso-a", attempts["log"])


async def test_app_processes_have_no_new_privs_no_groups_and_a_process_limit(
    client: httpx.AsyncClient, user: Account, agent_root: Path, tmp_path: Path
) -> None:
    source = write_app(tmp_path / "src", "limited", procfile=None)
    await deployed(client, user, "iso-limits", source)
    (pod,) = await pods(client, user, "iso-limits")
    pid = child_pid(agent_root, "iso-limits", pod["name"])
    uid = status_field(pid, "Uid")[0]
    assert status_field(pid, "NoNewPrivs") == ["1"]
    assert status_field(pid, "Groups") == []
    script = (
        "id -u; id -g; grep -E '^(NoNewPrivs|Groups):' /proc/self/status; "
        "grep 'Max processes' /proc/self/limits"
    )
    out = (await run_output(client, user, "iso-limits", script)).splitlines()
    assert out[:2] == [uid, uid]
    assert re.fullmatch(r"Groups:\s*", out[2]) and re.fullmatch(r"NoNewPrivs:\s+1", out[3])
    assert out[4].split()[2:4] == [str(MAX_PROCS)] * 2
    # A fork bomb hits the app's own limit; it cannot raise it.
    raise_it = f"import resource; resource.setrlimit(resource.RLIMIT_NPROC, ({MAX_PROCS * 2},) * 2)"
    bomb = (
        "i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; wait; "
        f'python3 -c "{raise_it}" && echo raised'
    )
    result = await run(client, user, "iso-limits", bomb)
    assert re.search(r"fork|Resource temporarily unavailable", result["output"], re.I), result
    assert "raised" not in result["output"]
    # The web pod, in the same app, kept running meanwhile.
    assert [p["name"] for p in await pods(client, user, "iso-limits")] == [pod["name"]]


def processes_of(uid: int) -> list[str]:
    """The command lines of the live (not zombie) processes of ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if status_field(int(entry), "Uid")[0] == str(uid) and alive(int(entry)):
                    found.append(Path(f"/proc/{entry}/cmdline").read_text().replace("\0", " "))
            except (OSError, AssertionError):
                continue
    return found


async def test_destroying_an_app_stops_whatever_runs_under_its_uid(
    client: httpx.AsyncClient, user: Account, agent_root: Path, tmp_path: Path
) -> None:
    source = write_app(tmp_path / "src", "escaping", procfile=None)
    await deployed(client, user, "iso-gone", source)
    (pod,) = await pods(client, user, "iso-gone")
    uid = int(status_field(child_pid(agent_root, "iso-gone", pod["name"]), "Uid")[0])
    # A daemon in a session of its own with an empty environment: neither the run's process
    # group nor its pod marker finds it.
    escape = (
        "setsid env -i sleep 300 </dev/null >/dev/null 2>&1 & "
        'while [ "$(cat /proc/$!/comm)" != sleep ]; do sleep 0.05; done'
    )
    await run_output(client, user, "iso-gone", escape)
    assert any(cmd.startswith("sleep 300") for cmd in processes_of(uid))
    r = await client.delete("/v2/apps/iso-gone", headers=user.headers)
    assert r.status_code == 204, r.text

    async def all_gone() -> bool:
        return processes_of(uid) == []

    await eventually(all_gone, within=5.0)  # SIGKILL is sent; the kernel takes a moment
