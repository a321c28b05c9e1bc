"""The server's own long-lived helper processes (the node agent, the edge router and the git
SSH endpoint): how ``dockyard server`` starts them, adopts one that outlived an earlier
server, watches them, restarts one that dies, and stops them.

Each helper writes a small JSON file naming its pid once it serves (``agent.pid``,
``router/ports.json``, ``ssh.json``). A pid is trusted only when that process's command line
is the one we would start, so a recycled pid is never signalled or adopted.

The agent and the SSH endpoint die with the server (``PR_SET_PDEATHSIG``). The router does
not: it runs in its own session, like the app shims, so a server that crashes or is killed
leaves every app reachable with the routes it last had; the next server adopts it when its
command line still matches the settings (no second router, no port conflict), and replaces
it otherwise. A helper that dies is started again at the next watch (every 0.1 s); one that
keeps dying soon after its start waits longer each time (0.5 s doubling to 30 s), and every
death is logged with its exit status.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dockyard.scheduler.local.pods import pid_in
from dockyard.workers import die_with_parent

log = logging.getLogger("dockyard")

QUICK_DEATH = 5.0  # a helper that dies sooner than this after its start counts as failing
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STOP_GRACE = 10.0


def backoff(failures: int) -> float:
    """Seconds to wait before the next start after ``failures`` quick deaths in a row: none
    after a death that followed a good run, then 0.5 s doubling up to 30 s."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_FIRST * 2 ** (failures - 1), BACKOFF_MAX)


def describe_exit(returncode: int | None) -> str:
    """``exited with status 3``, ``was killed by SIGKILL``, or why nothing is known."""
    if returncode is None:
        return "is gone (it was adopted, so its exit status is unknown)"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with status {returncode}"


def command_line(pid: int) -> list[str] | None:
    """The argv of a live (not zombie) process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if stat[stat.rfind(")") + 2] in "ZX":
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]]


def started(pid: int) -> int | None:
    """When a live process started (clock ticks since boot), or None when there is none: with
    the pid, it names one process for good, since a recycled pid starts later."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return None if fields[0] in "ZX" else int(fields[19])


class Daemon:
    """One helper process of the server."""

    def __init__(
        self,
        name: str,
        module: str,
        args: Sequence[str],
        *,
        root: Path,
        pid_file: Path,
        detached: bool = False,
        ready: Callable[[int], bool] | None = None,
        on_restart: Callable[[], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.module = module
        self.argv = [sys.executable, "-m", module, *args]
        self.root = str(root)
        self.pid_file = pid_file
        self.detached = detached
        self._ready = ready or (lambda pid: pid_in(pid_file) == pid)
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self.started = 0.0
        self.failures = 0
        self.next_start: float | None = None
        self.restarts = 0
        self.on_restart = on_restart
        self.env = {**os.environ, **env} if env else None
        self._announce = False  # call on_restart once the restarted helper serves

    # -- start ------------------------------------------------------------------------------

    def spawn(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        if self.detached:
            # Its own session: neither the server's death nor a Ctrl-C at its terminal
            # reaches it. Its output still goes where the server's goes.
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, start_new_session=True, env=self.env
            )
        else:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent, env=self.env
            )
        self.pid = self.proc.pid
        self.started = time.monotonic()
        self.next_start = None

    def start(self, failure: str, timeout: float = 15.0) -> None:
        """Start it and wait until it serves; ``SystemExit(failure)`` if it cannot."""
        self.spawn()
        deadline = time.monotonic() + timeout
        while not self.ready():
            if not self.alive() or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(failure)
            time.sleep(0.05)

    def ready(self) -> bool:
        return self.pid is not None and self._ready(self.pid)

    def recorded(self) -> int | None:
        """The pid its state file names, when that process is one of ours on this root."""
        pid = pid_in(self.pid_file)
        if pid is None:
            return None
        argv = command_line(pid)
        if argv is None or self.module not in argv or self.root not in argv:
            return None
        return pid

    def adopt(self) -> bool:
        """Take over a live helper that an earlier server left running with the command line
        this server would use. One with other settings is stopped. True if adopted."""
        pid = self.recorded()
        if pid is None:
            return False
        if command_line(pid) == self.argv:
            self.proc, self.pid, self.started = None, pid, time.monotonic()
            log.info("adopted the running %s (pid %d)", self.name, pid)
            return True
        log.warning("replacing the running %s (pid %d): its settings differ", self.name, pid)
        self._terminate(pid, None)
        return False

    def stop_stale(self) -> None:
        """Stop a helper an earlier server left on this data dir."""
        pid = self.recorded()
        if pid is not None:
            log.warning("stopping a stale %s (pid %d)", self.name, pid)
            self._terminate(pid, None)

    # -- watch ------------------------------------------------------------------------------

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and command_line(self.pid) == self.argv

    def watch(self) -> None:
        """Start it again if it died: at once after a good run, later if it keeps dying."""
        if self.pid is None and self.next_start is None:
            return  # never started (or stopped on purpose)
        now = time.monotonic()
        if self.next_start is None:
            if self.alive():
                if now - self.started >= QUICK_DEATH:
                    self.failures = 0
                if self._announce and self.ready():
                    self._announce = False
                    if self.on_restart is not None:
                        self.on_restart()
                return
            returncode = self.proc.returncode if self.proc is not None else None
            quick = now - self.started < QUICK_DEATH
            self.failures = self.failures + 1 if quick else 0
            delay = backoff(self.failures)
            log.warning(
                "the %s (pid %s) %s; starting it again%s",
                self.name,
                self.pid,
                describe_exit(returncode),
                f" in {delay:g} s (it keeps dying at start)" if delay else "",
            )
            self.proc = self.pid = None
            self.next_start = now + delay
        if now >= self.next_start:
            self.restarts += 1
            self.spawn()
            self._announce = True

    # -- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; it is not started again."""
        pid, proc = self.pid, self.proc
        self.pid = self.proc = self.next_start = None
        self._announce = False
        if pid is not None:
            self._terminate(pid, proc)

    @staticmethod
    def _terminate(pid: int, proc: subprocess.Popen[bytes] | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while time.monotonic() < deadline:
            gone = proc.poll() is not None if proc is not None else command_line(pid) is None
            if gone:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if proc is not None:
            proc.wait()


class Chore:
    """A short-lived child run on demand, one at a time: asked for while it runs, it runs
    once more after. ``watch`` reaps it."""

    def __init__(self, module: str, args: Sequence[str]) -> None:
        self.argv = [sys.executable, "-m", module, *args]
        self.proc: subprocess.Popen[bytes] | None = None
        self.again = False

    def request(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.again = True
            return
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent
        )

    def watch(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            self.proc = None
            if self.again:
                self.again = False
                self.request()

    def stop(self) -> None:
        self.again = False
        if self.proc is not None:
            Daemon._terminate(self.proc.pid, self.proc)
            self.proc = None
