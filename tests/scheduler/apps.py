"""Small real apps for scheduler tests, written into a build directory.

``web.py`` serves HTTP on ``$PORT`` (127.0.0.1 only): ``/`` answers its release and env as
JSON, ``/health`` answers 200 until ``/sick`` was requested, then 500 until ``/well``.
``worker.py`` prints a numbered line every 0.2 s. Both exit at once on SIGTERM (Python's default).
"""

from __future__ import annotations

import os
from pathlib import Path

WEB = r"""
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"healthy": True}

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path in ("/sick", "/well"):
            state["healthy"] = self.path == "/well"
        code = 500 if self.path == "/health" and not state["healthy"] else 200
        body = json.dumps({"release": os.environ.get("WORKFLOW_RELEASE"),
                           "pid": os.getpid(), "env": dict(os.environ)}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("request " + fmt % args, flush=True)

port = int(os.environ["PORT"])
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(f"listening on {port}", flush=True)
server.serve_forever()
"""

WORKER = r"""
import itertools, sys, time
for n in itertools.count(1):
    print(f"tick {n}", flush=True)
    print(f"stderr tick {n}", file=sys.stderr, flush=True)
    time.sleep(0.2)
"""

PYTHON = "/usr/bin/python3"
WEB_COMMAND = f"{PYTHON} web.py"
WORKER_COMMAND = f"{PYTHON} worker.py"


def write_build(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "web.py").write_text(WEB)
    (path / "worker.py").write_text(WORKER)
    # Readable by an unprivileged app user as well.
    for p in (path, path / "web.py", path / "worker.py"):
        os.chmod(p, 0o755)
    return path
