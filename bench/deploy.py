"""Release engine benchmark on the local scheduler: median and p95 over N runs of

- deploy: ``POST builds`` until every pod is up, for an app with web=1 and worker=1 (web
  has a tcpSocket readiness probe; worker is ready after the settle time); measured for the
  app's first build (which starts web=1, then a scale adds the worker) and for a build of
  an app already at web=1 worker=1 (both roll together);
- scale web 1 -> 10 until all are up;
- ``run echo hi``;
- ``logs?log_lines=100`` on a 100 MB log.

It starts ``dockyard server`` (SQLite, local scheduler) in a subprocess with a temporary
data dir, drives it over HTTP with httpx, and stops it (and every app process) at the end.

    python bench/deploy.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from common import DockyardServer

WEB = """\
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok"
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""
PROCFILE = "web: python3 web.py\nworker: while true; do sleep 1; done\n"
READINESS = {"web": {"readinessProbe": {"tcpSocket": {"port": 5000}, "periodSeconds": 1}}}


def ok(r: httpx.Response) -> httpx.Response:
    if not r.is_success:
        raise SystemExit(f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text}")
    return r


def stats(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{label:<40} median {statistics.median(ordered) * 1000:8.1f} ms"
        f"   p95 {p95 * 1000:8.1f} ms   (n={len(ordered)})"
    )


def wait_up(c: httpx.Client, app: str, expected: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = c.get(f"/v2/apps/{app}/pods/").json()["results"]
        if len(pods) == expected and all(p["state"] == "up" for p in pods):
            return
        time.sleep(0.01)
    raise RuntimeError(f"{app}: pods not up: {pods}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dockyard-bench-deploy-"))
    os.chmod(tmp, 0o755)
    src = tmp / "src"
    src.mkdir()
    (src / "web.py").write_text(WEB)
    (src / "Procfile").write_text(PROCFILE)
    os.chmod(src, 0o755)
    server = DockyardServer(env={"DOCKYARD_LOCAL_SOURCE_ROOTS": str(src)})
    apps: list[str] = []
    try:
        server.wait()
        with server.login() as c:
            deploy, redeploy, scale, run, logs = [], [], [], [], []
            for i in range(args.runs):
                app = f"bench-{i}"
                ok(c.post("/v2/apps", json={"id": app}))
                apps.append(app)
                ok(c.post(f"/v2/apps/{app}/config", json={"healthcheck": READINESS}))
                t0 = time.perf_counter()
                r = c.post(f"/v2/apps/{app}/builds", json={"image": str(src)})
                ok(r)
                ok(c.post(f"/v2/apps/{app}/scale", json={"worker": 1}))
                wait_up(c, app, 2)
                deploy.append(time.perf_counter() - t0)

                # The same app (web=1, worker=1) deployed again: both types roll at once.
                t0 = time.perf_counter()
                ok(c.post(f"/v2/apps/{app}/builds", json={"image": str(src)}))
                wait_up(c, app, 2)
                redeploy.append(time.perf_counter() - t0)

                t0 = time.perf_counter()
                r = c.post(f"/v2/apps/{app}/scale", json={"web": 10})
                assert r.status_code == 204, r.text
                wait_up(c, app, 11)
                scale.append(time.perf_counter() - t0)

                t0 = time.perf_counter()
                r = c.post(f"/v2/apps/{app}/run", json={"command": "echo hi"})
                assert r.json() == {"exit_code": 0, "output": "hi\n"}, r.text
                run.append(time.perf_counter() - t0)

            log_file = server.tmp / "data" / "local" / "logs" / f"{apps[0]}.log"
            line = f"2026-01-01T00:00:00Z {apps[0]}[web.1]: " + "x" * 100 + "\n"
            with open(log_file, "a") as fh:
                chunk = line * 10_000
                while fh.tell() < 100 * 1024 * 1024:
                    fh.write(chunk)
            size_mb = log_file.stat().st_size / 1024 / 1024
            for _ in range(args.runs):
                t0 = time.perf_counter()
                r = c.get(f"/v2/apps/{apps[0]}/logs", params={"log_lines": 100})
                assert r.status_code == 200 and r.text.count("\n") >= 99, r.status_code
                logs.append(time.perf_counter() - t0)

            print(f"dockyard deploy benchmark: {os.cpu_count()} CPUs, {args.runs} runs each")
            stats("first deploy, then scale worker=1, all up", deploy)
            stats("deploy to web=1 worker=1, all up", redeploy)
            stats("scale web 1 -> 10 until all up", scale)
            stats("run 'echo hi'", run)
            stats(f"logs?log_lines=100 on a {size_mb:.0f} MB log", logs)
            for app in apps:
                c.delete(f"/v2/apps/{app}")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
