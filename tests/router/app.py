"""The app the router tests deploy: a threaded HTTP/1.1 server on $PORT that shows what the
router sent it.

- ``GET /...``: JSON with the pod (``DOCKYARD_POD``), the path and the request headers.
- ``POST /echo``: the request body back (Content-Length or chunked in), as it was received.
- ``GET /stream?n=N&delay=S``: a chunked answer of N lines, one every S seconds.
- ``GET /slow?delay=S``: answers after S seconds.
- ``GET /partial``: promises 100 bytes, sends 10 and closes the connection.
- An ``Upgrade: echo`` request (any protocol name, WebSocket included) gets 101, then every
  byte sent back, until the client closes.
Every Procfile command carries the test's marker, so the test can find its processes.
"""

from __future__ import annotations

from pathlib import Path

SOURCE = r"""
import json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

POD = os.environ.get("DOCKYARD_POD", "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _json(self, data, code=200):
        body = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if self.headers.get("Upgrade"):
            self.send_response(101)
            self.send_header("Upgrade", self.headers["Upgrade"])
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            while True:
                data = self.connection.recv(65536)
                if not data:
                    break
                self.connection.sendall(data)
            self.close_connection = True
            return
        if url.path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(int(query.get("n", "3"))):
                line = f"line {i} {time.time()}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                time.sleep(float(query.get("delay", "0")))
            self.wfile.write(b"0\r\n\r\n")
            return
        if url.path == "/partial":  # promises 100 bytes, sends 10, hangs up
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        if url.path == "/slow":
            time.sleep(float(query.get("delay", "1")))
        self._json({"pod": POD, "path": self.path, "headers": dict(self.headers.items())})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "1234")
        self.end_headers()

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.read(2)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def write_router_app(path: Path, marker: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "app.py").write_text(SOURCE)
    (path / "Procfile").write_text(f"web: python3 app.py {marker}\n")
    return path
