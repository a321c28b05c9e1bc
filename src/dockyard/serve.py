"""Server-side commands of ``dockyard``: ``server`` and ``migrate``. Kept apart from
``dockyard.cli``, which only ever talks HTTP.

The ``server`` process lives as long as the server: it starts the node agent, the edge
router, the git SSH endpoint and the API workers, restarts any of them that dies
(``dockyard.daemons``), and stops them. The router outlives a server that dies (not one that
is stopped), and the next server adopts it. It stays small by importing none of the API,
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
from collections.abc import Callable

from dockyard.api.runtime import agent_root
from dockyard.core import logs
from dockyard.core.builderkey import builder_key
from dockyard.core.settings import Settings, unreachable_by_others
from dockyard.daemons import Chore, Daemon, started
from dockyard.router import PORTS_FILE
from dockyard.scheduler.base import SchedulerError
from dockyard.scheduler.local.agent import PID_FILE as AGENT_PID
from dockyard.scheduler.local.client import agent_answers
from dockyard.scheduler.local.offline import stop_all_pods
from dockyard.scheduler.local.pods import pid_in, read_json, write_json
from dockyard.workers import Listen, spawn
from dockyard.workers import serve as serve_workers

AGENT_MODULE = "dockyard.scheduler.local.agent"
ROUTER_MODULE = "dockyard.router"
SSH_MODULE = "dockyard.builder.intake.ssh"
SSH_STATE = "ssh.json"
SERVER_PID = "server.pid"
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


def server(
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    *,
    stop_all: bool = False,
) -> None:
    """Apply migrations, then serve the API until SIGTERM or Ctrl-C (``dockyard server``;
    ``dockyard.main`` declares its options). ``host`` and ``port`` win over the settings.
    With ``stop_all``, stop the server running on this data dir and everything it left
    running, apps included, instead."""
    os.umask(0o077)  # the database, logs and agent state are the controller's alone
    settings = _settings()
    logs.configure(settings.log_level)
    if stop_all:
        _stop_all(settings)
        return
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
    helpers: list[Daemon] = []
    converge = Chore(STARTUP_MODULE, ["--converge"])
    write_json(settings.data_dir / SERVER_PID, {"pid": os.getpid(), "since": started(os.getpid())})
    try:
        if settings.scheduler == "local":
            # A restarted agent may have been cut off mid-change: the database's desired
            # state is applied again once it serves (``releases.converge``).
            agent = _agent(settings, converge.request)
            helpers.append(agent)
            agent.stop_stale()
            agent.start(f"The scheduler agent did not start on {agent.root}")
            router = _router(settings)
            helpers.append(router)
            if not router.adopt():
                router.stop_stale()
                router.start(
                    f"The edge router did not start on {settings.router_host} ports "
                    f"{settings.router_http_port} and {settings.router_https_port} "
                    "(DOCKYARD_ROUTER_HTTP_PORT, DOCKYARD_ROUTER_HTTPS_PORT); see its message "
                    "above."
                )
        ssh = _ssh(settings)
        helpers.append(ssh)
        ssh.stop_stale()
        ssh.start(
            f"The git SSH endpoint did not start on {settings.ssh_host} port "
            f"{settings.ssh_port} (DOCKYARD_SSH_HOST, DOCKYARD_SSH_PORT); see its message above."
        )
        _run_startup(publish=True)
        _serve(settings, workers, [*helpers, converge])
    finally:
        converge.stop()
        for helper in reversed(helpers):
            helper.stop()
        (settings.data_dir / SERVER_PID).unlink(missing_ok=True)


def _agent(settings: Settings, on_restart: Callable[[], None]) -> Daemon:
    """The local scheduler's node agent: one per host, owned by the server process. App
    processes outlive it; a restarted agent re-adopts them."""
    root = agent_root(settings)
    args = ["--root", str(root), "--deploy-timeout", str(settings.deploy_timeout)]
    args += ["--run-timeout", str(settings.run_timeout), "--app-user", settings.app_user]
    args += ["--settle", str(settings.settle_time)]

    def ready(pid: int) -> bool:
        return pid_in(root / AGENT_PID) == pid and agent_answers(root)

    return Daemon(
        "node agent",
        AGENT_MODULE,
        args,
        root=root,
        pid_file=root / AGENT_PID,
        ready=ready,
        on_restart=on_restart,
        # The agent waits for each shim in a thread of its own (asyncio's child watcher on
        # Python 3.11), and glibc gives new threads new malloc arenas, up to 8 per core: its
        # memory crept up by about 1 MB a minute under steady deploys (bench/soak.py) until
        # every arena existed. Two arenas are plenty for a process that is mostly waiting.
        env={"MALLOC_ARENA_MAX": "2"},
    )


def _router(settings: Settings) -> Daemon:
    """The local scheduler's edge router, fed by the agent. It writes the ports it bound to
    ``router/ports.json`` once it listens, and exits with a message if it cannot. It
    outlives the server (``detached``), so apps stay reachable while no server runs."""
    root = agent_root(settings)
    args = ["--agent-root", str(root), "--host", settings.router_host]
    args += ["--http-port", str(settings.router_http_port)]
    args += ["--https-port", str(settings.router_https_port)]
    args += ["--platform-domain", settings.platform_domain, "--log-level", settings.log_level]
    ports = root / "router" / PORTS_FILE
    return Daemon("edge router", ROUTER_MODULE, args, root=root, pid_file=ports, detached=True)


def _ssh(settings: Settings) -> Daemon:
    """The git SSH endpoint. It writes ``ssh.json`` once it listens, and exits with a
    message if it cannot."""
    args = ["--data-dir", str(settings.data_dir), "--api-url", settings.api_url]
    args += ["--host", settings.ssh_host, "--port", str(settings.ssh_port)]
    args += ["--max-input-size", str(settings.max_source_size), "--log-level", settings.log_level]
    state = settings.data_dir / SSH_STATE
    return Daemon("git SSH endpoint", SSH_MODULE, args, root=settings.data_dir, pid_file=state)


def _stop_all(settings: Settings) -> None:
    """``dockyard server --stop-all``: stop the server running on this data dir (as SIGTERM
    does), then what outlives it: the edge router and every app's pods. The apps' recorded
    releases and scale stay, so the next ``dockyard server`` brings every app back."""
    say = logging.getLogger("dockyard").info
    pid = pid_in(settings.data_dir / SERVER_PID)
    since = read_json(settings.data_dir / SERVER_PID)
    if pid is not None and isinstance(since, dict) and started(pid) == since.get("since"):
        say("stopping the server (pid %d)", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while started(pid) == since.get("since"):
            if time.monotonic() > deadline:
                raise SystemExit(f"The server (pid {pid}) did not stop within 60 s")
            time.sleep(0.1)
    if settings.scheduler != "local":
        return
    _router(settings).stop_stale()
    try:
        count = asyncio.run(stop_all_pods(agent_root(settings)))
    except SchedulerError as exc:
        raise SystemExit(exc.message) from None
    say("stopped %d pods; the next dockyard server starts them again", count)


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


def _serve(settings: Settings, workers: int | None, helpers: list[Daemon | Chore]) -> None:
    def watch() -> None:
        for helper in helpers:
            helper.watch()

    listen = Listen(settings.host, settings.port, settings.log_level)
    serve_workers(listen, workers or settings.workers, watch)
