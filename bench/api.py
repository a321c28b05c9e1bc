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
import secrets
import socket
import time
from pathlib import Path

from common import DockyardServer, children, ensure_wrk, rss_mb, run_wrk

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


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


def seed(server: DockyardServer, apps: int) -> tuple[str, str]:
    with server.login() as c:
        for i in range(apps):
            c.post("/v2/apps", json={"id": f"bench-app-{i:02d}"}).raise_for_status()
        listed = c.get("/v2/apps").json()
        assert listed["count"] == apps, listed
        token = str(c.headers["Authorization"]).split()[1]
    return token, "bench-app-07"


ROLES = (
    (b"dockyard.workers", "api worker"),
    (b"dockyard.scheduler.local.agent", "agent"),
    (b"dockyard.router", "router"),
)


def process_rss(server_pid: int) -> str:
    """The RSS of the server process and each of its children, named by role."""
    shown = [f"server {rss_mb(server_pid):.0f}"]
    for pid in sorted(children(server_pid)):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        role = next((name for needle, name in ROLES if needle in cmdline), "other")
        shown.append(f"{role} {rss_mb(pid):.0f}")
    return ", ".join(shown)


def bench_one(label: str, database_url: str | None, wrk: str, duration: int, apps: int) -> None:
    server = DockyardServer(env={"DOCKYARD_DATABASE_URL": database_url} if database_url else {})
    try:
        server.wait()
        token, app_id = seed(server, apps)
        auth = {"Authorization": f"token {token}"}
        time.sleep(1)
        print(f"\n== {label}: server processes idle RSS (MB): {process_rss(server.proc.pid)}")
        # warm-up so every worker has its connections open
        run_wrk(wrk, f"{server.url}/v2/apps", 16, 2, auth)
        print(f"{'request':<28}{'conc':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
        for path, name in (
            ("/v2/apps", "GET /v2/apps (20 apps)"),
            (f"/v2/apps/{app_id}/", "GET /v2/apps/<id>/"),
        ):
            for conc in (1, 16):
                r = run_wrk(wrk, server.url + path, conc, duration, auth)
                print(
                    f"{name:<28}{conc:>5}{r['rps']:>10.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
                    f"{int(r['non2xx']):>9}"
                )
        print(f"RSS after load (MB): {process_rss(server.proc.pid)}")
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
