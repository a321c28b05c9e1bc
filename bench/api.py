"""API throughput benchmark: authenticated ``GET /v2/apps`` (20 apps) and
``GET /v2/apps/<id>/`` at concurrency 1 and 16, over keep-alive connections, with wrk.

It starts ``dockyard server`` (default settings) in a subprocess on SQLite and, when a
PostgreSQL server is reachable, on PostgreSQL; seeds a user and 20 apps; drives wrk for a
fixed duration per case; and prints requests/s, p50 and p99, plus the idle RSS of each
server process. wrk comes from Debian; the script installs it with apt-get when missing
and it runs as root.

    python bench/api.py [--duration 10] [--db sqlite,postgres] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_reachable(url: str) -> bool:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    try:
        with socket.create_connection((u.host or "127.0.0.1", u.port or 5432), timeout=1):
            return True
    except OSError:
        return False


async def pg_admin(url: str, statement: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        database=u.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


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


class Server:
    def __init__(self, database_url: str | None) -> None:
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="dockyard-bench-")
        env = dict(os.environ, DOCKYARD_DATA_DIR=self.tmp, DOCKYARD_LOG_LEVEL="warning")
        if database_url:
            env["DOCKYARD_DATABASE_URL"] = database_url
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dockyard",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def seed(url: str, apps: int) -> tuple[str, str]:
    with httpx.Client(base_url=url, timeout=30) as c:
        c.post(
            "/v2/auth/register",
            json={"username": "bench", "password": "bench-pw", "email": "bench@example.com"},
        ).raise_for_status()
        token = c.post("/v2/auth/login", json={"username": "bench", "password": "bench-pw"}).json()[
            "token"
        ]
        headers = {"Authorization": f"token {token}"}
        for i in range(apps):
            c.post(
                "/v2/apps", json={"id": f"bench-app-{i:02d}"}, headers=headers
            ).raise_for_status()
        listed = c.get("/v2/apps", headers=headers).json()
        assert listed["count"] == apps, listed
    return token, "bench-app-07"


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


def run_wrk(wrk: str, url: str, token: str, concurrency: int, duration: int) -> dict[str, float]:
    threads = min(concurrency, 2)
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{duration}s",
        "--latency",
        "-H",
        f"Authorization: token {token}",
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def bench_one(label: str, database_url: str | None, wrk: str, duration: int, apps: int) -> None:
    server = Server(database_url)
    try:
        server.wait()
        token, app_id = seed(server.url, apps)
        time.sleep(1)
        pids = [server.proc.pid, *children(server.proc.pid)]
        idle = ", ".join(f"{rss_mb(p):.0f}" for p in pids)
        print(f"\n== {label}: server processes idle RSS (MB): {idle}")
        # warm-up so every worker has its connections open
        run_wrk(wrk, f"{server.url}/v2/apps", token, 16, 2)
        print(f"{'request':<28}{'conc':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
        for path, name in (
            ("/v2/apps", "GET /v2/apps (20 apps)"),
            (f"/v2/apps/{app_id}/", "GET /v2/apps/<id>/"),
        ):
            for conc in (1, 16):
                r = run_wrk(wrk, server.url + path, token, conc, duration)
                print(
                    f"{name:<28}{conc:>5}{r['rps']:>10.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
                    f"{int(r['non2xx']):>9}"
                )
        pids = [server.proc.pid, *children(server.proc.pid)]
        after = ", ".join(f"{rss_mb(p):.0f}" for p in pids)
        print(f"RSS after load (MB): {after}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per case")
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=os.environ.get("DOCKYARD_BENCH_PG_URL", PG_DEFAULT))
    args = parser.parse_args()
    wrk = ensure_wrk()
    print(
        f"dockyard API benchmark: {os.cpu_count()} CPUs, {args.duration}s per case, wrk keep-alive"
    )
    for db in args.db.split(","):
        if db == "sqlite":
            bench_one("SQLite", None, wrk, args.duration, args.apps)
        elif db == "postgres":
            if not pg_reachable(args.pg_url):
                print("\n== PostgreSQL: skipped, no server at", args.pg_url)
                continue
            from sqlalchemy.engine import make_url

            name = f"dockyard_bench_{secrets.token_hex(4)}"
            asyncio.run(pg_admin(args.pg_url, f'CREATE DATABASE "{name}"'))
            url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            try:
                bench_one("PostgreSQL", url, wrk, args.duration, args.apps)
            finally:
                asyncio.run(pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
