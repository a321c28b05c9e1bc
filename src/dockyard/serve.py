"""Server-side commands of ``dockyard``: ``server`` and ``migrate``. Kept apart from
``dockyard.cli``, which only ever talks HTTP.

The ``server`` process lives as long as the server: it starts the node agent, the edge
router and the API workers, and stops them. It stays small by importing none of the API,
the ORM or the migrations; the database work of a start runs in a child process
(``dockyard.startup``), and each API worker is a process of its own (``dockyard.workers``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from pathlib import Path

from dockyard.api.runtime import agent_root
from dockyard.core import logs
from dockyard.core.builderkey import builder_key
from dockyard.core.settings import Settings, unreachable_by_others
from dockyard.router import PORTS_FILE
from dockyard.scheduler.base import SchedulerUnavailable
from dockyard.scheduler.local.agent import PID_FILE as AGENT_PID
from dockyard.scheduler.local.client import LocalScheduler
from dockyard.scheduler.local.pods import pid_in
from dockyard.workers import Listen, spawn
from dockyard.workers import serve as serve_workers

AGENT_MODULE = "dockyard.scheduler.local.agent"
ROUTER_MODULE = "dockyard.router"
SSH_MODULE = "dockyard.builder.intake.ssh"
SSH_STATE = "ssh.json"
STARTUP_MODULE = "dockyard.startup"


def _settings() -> Settings:
    settings = Settings()
    settings.ensure_dirs()
    return settings


def migrate() -> None:
    """Apply database migrations and exit."""
    _settings()
    _run_startup(publish=False)
    print("Database is up to date.")


def server(host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    """Apply migrations, then serve the API until SIGTERM or Ctrl-C (``dockyard server``;
    ``dockyard.main`` declares its options). ``host`` and ``port`` win over the settings."""
    os.umask(0o077)  # the database, logs and agent state are the controller's alone
    settings = _settings()
    logs.configure(settings.log_level)
    # uvicorn handles SIGTERM while it serves, then raises it again once it has shut down;
    # this handler turns that into an exit that runs the ``finally`` below, which stops the
    # agent and the router.
    signal.signal(signal.SIGTERM, _exit)
    _check_app_access(settings)
    # Options win over the environment, for this process and every child: the git
    # endpoints reach the API where it really listens.
    if host:
        os.environ["DOCKYARD_HOST"] = settings.host = host
    if port:
        os.environ["DOCKYARD_PORT"] = str(port)
        settings.port = port
    builder_key(settings.data_dir, settings.builder_key)
    agent = _start_agent(settings)
    router = ssh = None
    try:
        router = _start_router(settings)
        ssh = _start_ssh(settings)
        _run_startup(publish=True)
        _serve(settings, workers)
    finally:
        _stop_child(ssh)
        _stop_child(router)
        _stop_child(agent)


def _start_agent(settings: Settings) -> int | None:
    """The local scheduler's node agent: one per host, owned by the server process. App
    processes outlive it; a restarted agent re-adopts them. Started with ``Popen`` rather
    than asyncio, whose subprocess transport would kill it when its event loop closes."""
    if settings.scheduler != "local":
        return None
    root = agent_root(settings)
    _stop_stale(root / AGENT_PID, AGENT_MODULE, root)
    # A child that dies with the server, even if the server is killed outright, so no agent
    # outlives it (app processes do, by design: the next agent adopts them).
    proc = spawn(
        AGENT_MODULE,
        [
            "--root",
            str(root),
            "--deploy-timeout",
            str(settings.deploy_timeout),
            "--run-timeout",
            str(settings.run_timeout),
            "--app-user",
            settings.app_user,
            "--settle",
            str(settings.settle_time),
        ],
    )

    async def ready() -> bool:
        client = LocalScheduler(root)
        try:
            return await client.ping()
        except SchedulerUnavailable:
            return False
        finally:
            await client.aclose()

    deadline = time.monotonic() + 15
    while not asyncio.run(ready()):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_child(proc.pid)
            raise SystemExit(f"The scheduler agent did not start on {root}")
        time.sleep(0.05)
    return proc.pid


def _start_router(settings: Settings) -> int | None:
    """The local scheduler's edge router, fed by the agent. It writes the ports it bound to
    ``router/ports.json`` once it listens; it exits with a message if it cannot."""
    if settings.scheduler != "local":
        return None
    root = agent_root(settings)
    ports_file = root / "router" / PORTS_FILE
    _stop_stale(ports_file, ROUTER_MODULE, root)
    ports_file.unlink(missing_ok=True)
    proc = spawn(
        ROUTER_MODULE,
        [
            "--agent-root",
            str(agent_root(settings)),
            "--host",
            settings.router_host,
            "--http-port",
            str(settings.router_http_port),
            "--https-port",
            str(settings.router_https_port),
            "--platform-domain",
            settings.platform_domain,
            "--log-level",
            settings.log_level,
        ],
    )
    deadline = time.monotonic() + 15
    while not ports_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_child(proc.pid)
            raise SystemExit(
                f"The edge router did not start on {settings.router_host} ports "
                f"{settings.router_http_port} and {settings.router_https_port} "
                "(DOCKYARD_ROUTER_HTTP_PORT, DOCKYARD_ROUTER_HTTPS_PORT); see its message above."
            )
        time.sleep(0.05)
    return proc.pid


def _start_ssh(settings: Settings) -> int:
    """The git SSH endpoint. It writes ``ssh.json`` once it listens; it exits with a
    message if it cannot."""
    state = settings.data_dir / SSH_STATE
    _stop_stale(state, SSH_MODULE, settings.data_dir)
    state.unlink(missing_ok=True)
    proc = spawn(
        SSH_MODULE,
        [
            "--data-dir",
            str(settings.data_dir),
            "--api-url",
            settings.api_url,
            "--host",
            settings.ssh_host,
            "--port",
            str(settings.ssh_port),
            "--max-input-size",
            str(settings.max_source_size),
            "--log-level",
            settings.log_level,
        ],
    )
    deadline = time.monotonic() + 15
    while pid_in(state) != proc.pid:
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_child(proc.pid)
            raise SystemExit(
                f"The git SSH endpoint did not start on {settings.ssh_host} port "
                f"{settings.ssh_port} (DOCKYARD_SSH_HOST, DOCKYARD_SSH_PORT); see its message "
                "above."
            )
        time.sleep(0.05)
    return proc.pid


def _run_startup(*, publish: bool) -> None:
    """Migrate the database, and publish every app's route (``dockyard.startup``), in a
    child process that exits once done. At a server start the agent and router are up by
    then; neither needs the database."""
    returncode = spawn(STARTUP_MODULE, ["--publish"] if publish else []).wait()
    if returncode != 0:
        raise SystemExit(returncode)


def _check_app_access(settings: Settings) -> None:
    """As root, each app's processes and builds run as the app's own uid and gid
    (``DOCKYARD_APP_UID_RANGE``): they must be able to reach their own build copies and log
    through directories others may traverse (``builds/<app>/`` and the files below are then
    the app's gid's alone). Say so plainly rather than fail every deploy with a permission
    error. Not root: say what isolation is missing."""
    if settings.scheduler != "local":
        return
    if os.geteuid() != 0 or not settings.app_user:
        logging.getLogger("dockyard").warning(
            "apps are not isolated: the server %s, so every app's processes and builds run as "
            "the server's user (uid %d) and can read each other's environment (config values), "
            "files and logs, and the controller's data dir. Run the server as root to give "
            "each app its own uid and gid (DOCKYARD_APP_UID_RANGE).",
            "does not run as root" if os.geteuid() != 0 else "has DOCKYARD_APP_USER empty",
            os.geteuid(),
        )
        return
    # The agent's root (logs) sits beside builds/ and is made traverse-only by the agent.
    builds = settings.data_dir / "builds"
    closed = unreachable_by_others(builds)
    if closed is not None:
        first, last = settings.uid_range
        raise SystemExit(
            f"App processes run as their own users (uids {first}-{last}), who cannot reach "
            f"{builds}: {closed} is not traversable by other users (mode "
            f"{closed.stat().st_mode & 0o777:o}). Set DOCKYARD_DATA_DIR to a directory "
            "they can reach (the default for root is /var/lib/dockyard), or "
            "chmod o+x the directories on the way."
        )


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _stop_stale(pid_file: Path, module: str, root: Path) -> None:
    """Stop an agent or router that an earlier server left running on this data dir (one
    that died before its children learnt to die with it). The pid is trusted only if its
    command line names the module and the root, so a recycled pid is never signalled."""
    pid = pid_in(pid_file)
    if pid is None:
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return
    if module.encode() not in cmdline or str(root).encode() not in cmdline:
        return
    logging.getLogger("dockyard").warning("stopping a stale %s (pid %d) on %s", module, pid, root)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _stop_child(pid: int | None) -> None:
    """SIGTERM, then SIGKILL after 10 s. App processes keep running for the next agent."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        with contextlib.suppress(ChildProcessError):
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _serve(settings: Settings, workers: int | None) -> None:
    listen = Listen(settings.host, settings.port, settings.log_level)
    serve_workers(listen, workers or settings.workers)
