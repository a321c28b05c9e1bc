"""The API's worker processes: each listens on its own socket of one ``SO_REUSEPORT`` group,
so the kernel spreads connections over them evenly, and each runs one uvicorn server.

uvicorn's own ``--workers`` shares a single listening socket, and a worker that wakes first
accepts whole bursts of connections: with keep-alive clients one worker can end up serving
all of them while the others idle. A socket per worker lets the kernel hash each new
connection to a worker instead. This module is the small supervisor that makes that work:
it checks the port once, starts the workers, restarts one that dies (giving up if workers
keep dying at start), and stops them all on SIGTERM or SIGINT.

A worker is a fresh ``python -m dockyard.workers`` process, not a fork or a multiprocessing
spawn of the ``dockyard`` command: it imports the API and nothing else (no CLI, no
migrations), which keeps each worker's memory to what serving needs.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

from dockyard.core import logs

log = logging.getLogger("dockyard")
APP = "dockyard.api.app:app_factory"
BACKLOG = 2048
QUICK_DEATH = 5.0  # a worker that dies sooner than this after starting failed to start
MAX_QUICK_DEATHS = 3
STOP_TIMEOUT = 15.0
TICK = 0.1


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    log_level: str

    def socket(self, *, shared: bool = True) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        return sock

    def argv(self) -> list[str]:
        """The arguments of one worker process (``python -m dockyard.workers ...``)."""
        return ["--host", self.host, "--port", str(self.port), "--log-level", self.log_level]


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Get SIGTERM when the parent process dies, even of SIGKILL (Linux ``prctl``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(module: str, args: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """``python -m <module> <args>`` as a child that dies with this process, even if this
    one is killed outright."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args], stdin=subprocess.DEVNULL, preexec_fn=die_with_parent
    )


def run_worker(listen: Listen) -> None:
    """One worker: its own socket in the group, and uvicorn serving the API on it."""
    import uvicorn  # here, not at the top: the supervisor never serves

    sock = listen.socket()
    sock.listen(BACKLOG)
    config = uvicorn.Config(
        APP,
        factory=True,
        log_level=listen.log_level,
        access_log=False,
        server_header=False,
        # The socket peer is the client: the sign-in throttle counts by it, and a client
        # could write X-Forwarded-For to spread its failures over invented addresses.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve(listen: Listen, workers: int, watch: Callable[[], None] = lambda: None) -> None:
    """Serve with ``workers`` worker processes until SIGTERM or SIGINT, calling ``watch``
    every tick (the server's other helpers)."""
    try:
        # Not shared: this fails if anyone listens there, another dockyard server included.
        probe = listen.socket(shared=False)
    except OSError as exc:
        raise SystemExit(
            f"The API cannot listen on {listen.host}:{listen.port}: {exc.strerror or exc}"
        ) from None
    probe.close()
    host = f"[{listen.host}]" if ":" in listen.host else listen.host
    plural = "s" if workers != 1 else ""
    log.info("API serving on http://%s:%s with %s worker%s", host, listen.port, workers, plural)
    Supervisor(listen, workers, watch).run()


class Supervisor:
    def __init__(
        self, listen: Listen, workers: int, watch: Callable[[], None] = lambda: None
    ) -> None:
        self.listen = listen
        self.watch = watch
        self.count = workers
        self.workers: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
        self.stopping = False
        self.quick_deaths = 0

    def _start(self, slot: int) -> None:
        process = spawn(__name__, self.listen.argv())
        self.workers[slot] = (process, time.monotonic())

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for slot in range(self.count):
                self._start(slot)
            while not self.stopping:
                time.sleep(TICK)
                self._replace_dead()
                if not self.stopping:
                    self.watch()
        finally:
            self._terminate()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _replace_dead(self) -> None:
        for slot, (process, started) in list(self.workers.items()):
            if process.poll() is None or self.stopping:
                continue
            quick = time.monotonic() - started < QUICK_DEATH
            self.quick_deaths = self.quick_deaths + 1 if quick else 0
            if self.quick_deaths >= MAX_QUICK_DEATHS:
                raise SystemExit("API workers keep exiting at start; see their messages above.")
            log.warning("API worker %s exited with %s; starting another", slot, process.returncode)
            self._start(slot)

    def _terminate(self) -> None:
        for process, _ in self.workers.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for process, _ in self.workers.values():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="One API worker of `dockyard server`.")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    logs.configure(args.log_level)
    run_worker(Listen(args.host, args.port, args.log_level))


if __name__ == "__main__":
    main()
