"""What the benchmarks share: free ports, a ``dockyard server`` in a subprocess with its own
data dir (and the edge router on free ports), a logged-in httpx client, and wrk (installed
from Debian when missing) with its output parsed."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("wrk is not installed and this is not root: apt-get install wrk")
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL
    )
    path = shutil.which("wrk")
    if not path:
        sys.exit("could not install wrk")
    return path


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_wrk(out: str) -> dict[str, float]:
    def latency(pct: str) -> float:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors:.*", out)
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50": latency("50"),
        "p99": latency("99"),
        "non2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if sock else 0.0,
    }


def run_wrk(
    wrk: str, url: str, concurrency: int, duration: int, headers: dict[str, str] | None = None
) -> dict[str, float]:
    cmd = [wrk, f"-t{min(concurrency, 2)}", f"-c{concurrency}", f"-d{duration}s", "--latency"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


class DockyardServer:
    """``dockyard server`` on free ports with a temporary data dir; ``stop()`` ends it, then
    everything it leaves running (the edge router, the apps' pods) with ``--stop-all``, and
    removes the data dir."""

    def __init__(self, *, env: dict[str, str] | None = None, workers: int | None = None) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
        os.chmod(self.tmp, 0o755)
        self.data_dir = self.tmp / "data"
        self.port = free_port()
        self.router_http = free_port()
        self.router_https = free_port()
        self.ssh = free_port()
        self.env = dict(
            os.environ,
            DOCKYARD_DATA_DIR=str(self.data_dir),
            DOCKYARD_LOG_LEVEL="warning",
            DOCKYARD_ROUTER_HTTP_PORT=str(self.router_http),
            DOCKYARD_ROUTER_HTTPS_PORT=str(self.router_https),
            DOCKYARD_SSH_PORT=str(self.ssh),
            **(env or {}),
        )
        self.cmd = [sys.executable, "-m", "dockyard", "server", "--port", str(self.port)]
        if workers:
            self.cmd += ["--workers", str(workers)]
        self.url = f"http://127.0.0.1:{self.port}"
        self.start()

    def start(self) -> None:
        """Spawn the server (again, after ``crash()``: same ports, same data dir)."""
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, stdout=subprocess.DEVNULL, start_new_session=True
        )

    def crash(self) -> None:
        """``kill -9`` of the server process alone, then wait until its API workers (which
        get SIGTERM as it dies) no longer answer, so the next start is not answered by them."""
        self.proc.kill()
        self.proc.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/healthz", timeout=1)
            except httpx.HTTPError:
                return
            time.sleep(0.05)
        raise RuntimeError("the API still answers 30 s after the server was killed")

    def processes(self) -> list[tuple[str, int]]:
        """(role, pid) of every process of the server: the server, each API worker, the node
        agent, the edge router (which may be no child of it: it outlives a server and is
        adopted) and the git SSH endpoint."""
        found = [("server", self.proc.pid)]
        for pid in sorted(children(self.proc.pid)):
            if b"dockyard.workers" in cmdline(pid):
                found.append(("api worker", pid))
        data = str(self.data_dir).encode()
        for needle, role in HELPERS:
            found += [
                (role, pid)
                for pid in all_pids()
                if needle in (line := cmdline(pid)) and data in line
            ]
        return found

    def wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    @contextlib.contextmanager
    def login(self, username: str = "bench", password: str = "bench-pw") -> Iterator[httpx.Client]:
        """Register (the first user is the admin); a client with the token."""
        with httpx.Client(base_url=self.url, timeout=120) as client:
            yield self._logged_in(client, username, password)

    @staticmethod
    def _logged_in(client: httpx.Client, username: str, password: str) -> httpx.Client:
        client.post(
            "/v2/auth/register",
            json={"username": username, "password": password, "email": f"{username}@x.test"},
        ).raise_for_status()
        r = client.post("/v2/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        client.headers["Authorization"] = f"token {r.json()['token']}"
        return client

    def stop(self) -> None:
        """Ctrl-C (the server stops its helpers and the router), then ``--stop-all`` for what
        outlives it (an adopted router, the apps' pods), then the data dir goes."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        subprocess.run(
            [sys.executable, "-m", "dockyard", "server", "--stop-all"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        shutil.rmtree(self.tmp, ignore_errors=True)


HELPERS = (
    (b"dockyard.scheduler.local.agent", "agent"),
    (b"dockyard.router", "router"),
    (b"dockyard.builder.intake.ssh", "ssh endpoint"),
)


def all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


WEB_APP = """\
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = os.environ.get("DOCKYARD_POD", "").encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def web_app_source(prefix: str) -> tuple[Path, Path]:
    """A scratch dir (0755, so the apps' own users reach it) holding ``src/``: a tiny
    threaded web app answering every GET with its pod's name, and its Procfile."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(tmp, 0o755)
    src = tmp / "src"
    src.mkdir()
    (src / "web.py").write_text(WEB_APP)
    (src / "Procfile").write_text("web: python3 web.py\n")
    os.chmod(src, 0o755)
    return tmp, src
