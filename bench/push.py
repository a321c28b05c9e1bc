"""Source-deploy benchmark on the local scheduler: median and p95 over N runs of

- ``git push`` (over SSH) of a Flask app with ``requirements.txt`` (flask, gunicorn) until
  its new text answers through the edge router, cold (a new app: empty build cache, so pip
  downloads everything) and warm (a one-line change, same requirements);
- ``git push`` of an app with no dependencies (a Procfile and a standard-library server);
- ``dockyard deploy`` (an upload) of the Flask app, warm;

and beside them, measured in the same run on the same machine, the baseline: a plain
``python3 -m venv`` plus ``pip install -r requirements.txt`` into it with an empty pip
cache (the same interpreter the build uses), and its pip part alone.

It starts ``dockyard server`` (SQLite, local scheduler, its SSH endpoint) in a subprocess
with a temporary data dir, pushes with the real ``git`` and ``ssh``, and stops it (and every
app) at the end. Needs network access to PyPI.

    python bench/push.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import DockyardServer

REQUIREMENTS = "flask\ngunicorn\n"
FLASK = """from flask import Flask
app = Flask(__name__)
@app.get("/")
def index():
    return open("text.txt").read()
"""
PLAIN = """import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = open("text.txt", "rb").read()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def stats(label: str, samples: list[float]) -> float:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    median = statistics.median(ordered)
    print(f"{label:<52} median {median:6.2f} s   p95 {p95:6.2f} s   (n={len(ordered)})", flush=True)
    return median


class Workspace:
    def __init__(self, root: Path, server: DockyardServer, token: str) -> None:
        self.root = root
        self.server = server
        self.token = token
        self.key = root / "id_ed25519"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)], check=True
        )
        (root / "gitconfig").write_text("[user]\n\tname = bench\n\temail = bench@x.test\n")
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": str(root / "gitconfig"),
            "GIT_SSH_COMMAND": f"ssh -i {self.key} -o IdentitiesOnly=yes -o BatchMode=yes "
            "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            "DOCKYARD_URL": server.url,
            "DOCKYARD_TOKEN": token,
        }
        self.http = httpx.Client(
            base_url=server.url, headers={"Authorization": f"token {token}"}, timeout=600
        )
        self.http.post(
            "/v2/keys", json={"id": "bench", "public": (root / "id_ed25519.pub").read_text()}
        ).raise_for_status()

    def git(self, repo: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=self.env, check=True, capture_output=True)

    def repo(self, name: str, files: dict[str, str]) -> Path:
        path = self.root / name
        path.mkdir()
        for file, text in files.items():
            (path / file).write_text(text)
        self.git(path, "init", "-q", "-b", "main")
        self.git(path, "add", "-A")
        self.git(path, "commit", "-qm", "first")
        return path

    def app(self, name: str) -> str:
        self.http.post("/v2/apps", json={"id": name}).raise_for_status()
        return name

    def change(self, repo: Path, text: str) -> None:
        (repo / "text.txt").write_text(text)
        self.git(repo, "commit", "-qam", text)

    def answers(self, app: str, text: str, timeout: float = 120) -> None:
        url = f"http://127.0.0.1:{self.server.router_http}/"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = httpx.get(url, headers={"Host": f"{app}.dockyard.localhost"}, timeout=5)
                if r.status_code == 200 and r.text == text:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise SystemExit(f"{app} never answered {text!r}")

    def push(self, repo: Path, app: str, text: str) -> float:
        """Seconds from ``git push`` to the new text answering through the router."""
        url = f"ssh://git@127.0.0.1:{self.server.ssh}/{app}.git"
        started = time.perf_counter()
        done = subprocess.run(
            ["git", "push", "-q", url, "main"],
            cwd=repo,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"push to {app} failed:\n{done.stderr}")
        self.answers(app, text)
        return time.perf_counter() - started

    def deploy(self, directory: Path, app: str, text: str) -> float:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "dockyard", "deploy", str(directory), "-a", app],
            env=self.env, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"deploy to {app} failed:\n{done.stdout}{done.stderr}")
        self.answers(app, text)
        return time.perf_counter() - started


def baseline(root: Path, python: str, runs: int) -> tuple[list[float], list[float]]:
    """``python -m venv`` + ``pip install -r requirements.txt`` with an empty pip cache."""
    (root / "requirements.txt").write_text(REQUIREMENTS)
    total, pip_only = [], []
    for i in range(runs):
        venv = root / f"venv{i}"
        cache = root / f"pip-cache{i}"
        started = time.perf_counter()
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        made = time.perf_counter()
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
             "--cache-dir", str(cache), "-r", str(root / "requirements.txt")],
            check=True,
        )  # fmt: skip
        done = time.perf_counter()
        total.append(done - started)
        pip_only.append(done - made)
        shutil.rmtree(venv, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
    return total, pip_only


def build_python() -> str:
    """The interpreter the python buildpack picks for the app user (the host's python3
    when the server runs as root)."""
    return shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-push-"))
    server = DockyardServer()
    try:
        server.wait()
        with server.login() as client:
            token = client.headers["Authorization"].split()[1]
        ws = Workspace(root, server, token)
        flask_files = {"app.py": FLASK, "requirements.txt": REQUIREMENTS, "text.txt": "v0",
                       "Procfile": "web: gunicorn app:app --workers 1\n"}  # fmt: skip
        print(f"baseline interpreter: {build_python()}", flush=True)
        total, pip_only = baseline(root, build_python(), args.runs)
        base = stats("baseline: venv + pip install (empty pip cache)", total)
        stats("baseline: pip install alone", pip_only)

        cold = []
        for i in range(args.runs):
            app = ws.app(f"cold-{i}")
            repo = ws.repo(f"cold-{i}", flask_files)
            cold.append(ws.push(repo, app, "v0"))
        cold_median = stats("git push, Flask, cold (empty build cache)", cold)

        repo = ws.repo("warm", flask_files)
        app = ws.app("warm")
        ws.push(repo, app, "v0")
        warm = []
        for i in range(1, args.runs + 1):
            ws.change(repo, f"v{i}")
            warm.append(ws.push(repo, app, f"v{i}"))
        warm_median = stats("git push, Flask, warm (one-line change)", warm)

        plain_repo = ws.repo(
            "plain", {"web.py": PLAIN, "text.txt": "p0", "Procfile": "web: python3 web.py\n"}
        )
        plain_app = ws.app("plain")
        plain = []
        for i in range(args.runs):
            if i:
                ws.change(plain_repo, f"p{i}")
            plain.append(ws.push(plain_repo, plain_app, f"p{i}"))
        plain_median = stats("git push, no dependencies", plain)

        deploy_dir = root / "deploy-src"
        deploy_dir.mkdir()
        for file, text in flask_files.items():
            (deploy_dir / file).write_text(text)
        deploy_app = ws.app("upload")
        ws.deploy(deploy_dir, deploy_app, "v0")  # fills the cache
        deploys = []
        for i in range(1, args.runs + 1):
            (deploy_dir / "text.txt").write_text(f"d{i}")
            deploys.append(ws.deploy(deploy_dir, deploy_app, f"d{i}"))
        stats("dockyard deploy, Flask, warm", deploys)

        print()
        print(f"warm push median {warm_median:.2f} s (target < 3 s): "
              f"{'met' if warm_median < 3 else 'NOT met'}")  # fmt: skip
        print(f"no-dependency push median {plain_median:.2f} s (target < 1.5 s): "
              f"{'met' if plain_median < 1.5 else 'NOT met'}")  # fmt: skip
        print(f"cold push median {cold_median:.2f} s vs baseline {base:.2f} s: "
              f"{cold_median - base:+.2f} s (target at most +2 s): "
              f"{'met' if cold_median - base <= 2 else 'NOT met'}")  # fmt: skip
    finally:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            try:
                r = c.post("/v2/auth/login", json={"username": "bench", "password": "bench-pw"})
                c.headers["Authorization"] = f"token {r.json()['token']}"
                for a in c.get("/v2/apps", params={"limit": 1000}).json().get("results", []):
                    c.delete(f"/v2/apps/{a['id']}")
            except (httpx.HTTPError, ValueError, KeyError):
                pass
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
