"""Running a real ``dockyard server`` for the tests that drive it as clients do (the CLI,
git pushes): free ports, waiting until it answers, stopping it, and making sure nothing of
it outlives it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not become healthy:\n{log.read_text()}")


def processes_naming(needle: str) -> dict[int, bytes]:
    """Live (not zombie) processes, this one aside, whose command line contains ``needle``,
    with their command lines."""
    found: dict[int, bytes] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            line = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2] not in "ZX" and needle.encode() in line:
            found[int(entry)] = line
    return found


def processes_using(path: Path) -> list[int]:
    """Live processes whose command line names ``path`` (the server's node agent, its pods)."""
    return list(processes_naming(str(path)))


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def stop(proc: subprocess.Popen[bytes]) -> None:
    # Ctrl-C. (On SIGTERM uvicorn re-raises the signal after its shutdown, so the server
    # dies before it can stop its node agent.)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def server_env(**settings: str) -> dict[str, str]:
    """This environment without any DOCKYARD_* variable, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}
    env.update(settings)
    return env


@contextlib.contextmanager
def running_server(
    base: Path, env: dict[str, str], *, port: int, workers: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m dockyard server`` on ``port`` until the block ends; then nothing whose
    command line names ``base`` may be left running (it is killed, and the block fails)."""
    log = base / "server.log"
    cmd = [sys.executable, "-m", "dockyard", "server", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=base)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        yield proc
    finally:
        stop(proc)
        leftovers = {pid: cmdline(pid) for pid in processes_using(base)}
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert not leftovers, f"the server left processes behind: {leftovers}"


AGENT = b"dockyard.scheduler.local.agent"
ROUTER = b"dockyard.router"
SSH = b"dockyard.builder.intake.ssh"


def wait_for(check, within: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within}s")
        time.sleep(0.05)


class ServerProcess:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.router = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}
        self.env.update(
            DOCKYARD_DATA_DIR=str(base / "data"),
            DOCKYARD_PLATFORM_DOMAIN="example.test",
            DOCKYARD_LOCAL_SOURCE_ROOTS=str(base),
            DOCKYARD_ROUTER_HTTP_PORT=str(self.router),
            DOCKYARD_ROUTER_HTTPS_PORT=str(free_port()),
            DOCKYARD_SSH_PORT=str(free_port()),
            DOCKYARD_ARGON2_TIME_COST="1",
            DOCKYARD_ARGON2_MEMORY_KIB="1024",
            DOCKYARD_SETTLE_TIME="0.3",
            DOCKYARD_APP_USER="",  # pytest's temporary directories are private (0700)
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = base / "server.log"

    def start(self, workers: int = 1) -> None:
        cmd = [sys.executable, "-m", "dockyard", "server", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*cmd, "--workers", str(workers)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

        def healthy() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, within=60)

    def run_to_exit(self) -> subprocess.CompletedProcess[str]:
        """``dockyard server`` expected to refuse to start: its exit and its output."""
        return subprocess.run(
            [sys.executable, "-m", "dockyard", "server", "--port", str(self.port)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ours(self) -> dict[int, bytes]:
        """The agent, router and git SSH endpoint of this server's data dir."""
        return {
            pid: cmd
            for pid, cmd in processes_naming(str(self.base / "data")).items()
            if AGENT in cmd or ROUTER in cmd or SSH in cmd
        }

    def crash(self) -> None:
        """``kill -9`` of the server, then wait for its API workers (which get SIGTERM as it
        dies) to finish, so that the next start is not answered by them."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

        def api_gone() -> bool:
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
            except httpx.HTTPError:
                return True
            return False

        wait_for(api_gone, within=30)

    def kill_everything(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in processes_naming(str(self.base)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
