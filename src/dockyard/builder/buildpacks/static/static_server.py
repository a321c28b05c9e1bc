"""Dockyard's static file server: the ``web`` process of apps built by the ``static`` buildpack.

The buildpack's ``bin/compile`` copies this file into the slug as ``.dockyard/static-server.py``
and ``bin/release`` runs it as ``python3 .dockyard/static-server.py --root DIR``. It owns serving
the files under DIR over HTTP: GET and HEAD only, ``index.html`` for directories (never a
listing), ETag/Last-Modified revalidation, gzip for compressible types (compressed bodies kept in
a bounded in-memory cache), the site's own ``404.html``, one log line per request on stdout, and
a clean exit on SIGTERM/SIGINT. Nothing outside DIR is served: no ``..`` or hidden (dot)
components, no symlinks that resolve outside the root, regular files only.

Standalone by design: standard library only, Python 3.8 or newer, no ``dockyard`` imports.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import mimetypes
import os
import signal
import socket
import socketserver
import stat
import sys
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import BinaryIO
from urllib.parse import quote, unquote

CHUNK = 64 * 1024
GZIP_MIN_SIZE = 1024  # smaller files are sent as they are
GZIP_MAX_SIZE = 4 * 1024 * 1024  # bigger files are sent as they are (never read whole)
GZIP_CACHE_BYTES = 32 * 1024 * 1024  # bound on the compressed bodies kept in memory
COMPRESSIBLE = {"application/javascript", "application/json", "application/xml", "image/svg+xml"}
UTF8 = {"application/javascript", "application/json", "application/manifest+json"}
NOT_FOUND_PAGE = b"<!doctype html>\n<title>404 Not Found</title>\n<h1>404 Not Found</h1>\n"

mimetypes.add_type("text/javascript", ".mjs")  # unknown to older Pythons


class GzipCache:
    """Compressed bodies by (path, mtime, size), least recently used dropped first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, int, int], f: BinaryIO) -> bytes:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        body = gzip.compress(f.read(), compresslevel=6, mtime=0)
        with self.lock:
            if key not in self.entries:
                self.entries[key] = body
                self.size += len(body)
            while self.size > self.limit:
                self.size -= len(self.entries.popitem(last=False)[1])
        return body


def content_type(name: str) -> str:
    ctype, encoding = mimetypes.guess_type(name)
    if encoding:  # e.g. .tar.gz: the file is the compressed bytes, not a compressed tar
        return "application/gzip" if encoding == "gzip" else "application/octet-stream"
    return ctype or "application/octet-stream"


def is_compressible(ctype: str) -> bool:
    return ctype.startswith("text/") or ctype in COMPRESSIBLE or ctype.endswith(("+json", "+xml"))


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (an explicit ``gzip`` entry beats ``*``)."""
    found: dict[str, bool] = {}
    for item in header.lower().replace(" ", "").split(","):
        coding, _, params = item.partition(";")
        q = next((p[2:] for p in params.split(";") if p.startswith("q=")), "1")
        found[coding] = q.replace(".", "", 1).isdigit() and float(q) > 0
    return next((found[c] for c in ("gzip", "x-gzip", "*") if c in found), False)


def etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in (t[2:] if t.startswith("W/") else t for t in tags)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections are closed after this
    root = "."
    cache = GzipCache(GZIP_CACHE_BYTES)

    def handle_one_request(self) -> None:
        self.status, self.sent, self.started, self.path = 0, 0, time.monotonic(), "-"
        super().handle_one_request()
        if self.status:
            path = self.path.encode("unicode_escape").decode("ascii")
            ms = (time.monotonic() - self.started) * 1000
            print(f"{self.command or '-'} {path} {self.status} {self.sent} {ms:.1f}ms", flush=True)

    def parse_request(self) -> bool:
        self.started = time.monotonic()
        if not super().parse_request():
            return False
        if self.command in ("GET", "HEAD"):
            return True
        self.close_connection = True  # a request body we do not read may follow
        self.send_body(405, b"Method Not Allowed\n", "text/plain", Allow="GET, HEAD")
        return False

    def version_string(self) -> str:
        return "dockyard-static"

    def send_response(self, code: int, message: str | None = None) -> None:
        self.status = code
        super().send_response(code, message)

    def log_message(self, format: str, *args: object) -> None:
        pass  # handle_one_request logs one line per request

    def do_GET(self) -> None:
        self.serve(with_body=True)

    def do_HEAD(self) -> None:
        self.serve(with_body=False)

    def send_head(self, code: int, headers: dict[str, str]) -> None:
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def send_body(self, code: int, body: bytes, ctype: str, **headers: str) -> None:
        self.send_head(code, {"Content-Type": ctype, "Content-Length": str(len(body)), **headers})
        if self.command != "HEAD":
            self.wfile.write(body)
            self.sent += len(body)

    def locate(self, parts: list[str]) -> str | None:
        """The real path of ``parts`` under the root, or None if it resolves outside the root
        or into a hidden component (a symlink cannot reach what a URL may not name)."""
        real = os.path.realpath(os.path.join(self.root, *parts))
        if os.path.commonpath([real, self.root]) != self.root:
            return None
        rel = os.path.relpath(real, self.root)
        if rel != "." and any(p.startswith(".") for p in rel.split(os.sep)):
            return None
        return real

    def not_found(self) -> None:
        page = self.locate(["404.html"])
        if page and os.path.isfile(page):
            with open(page, "rb") as f:
                body = f.read()
        else:
            body = NOT_FOUND_PAGE
        self.send_body(404, body, "text/html; charset=utf-8")

    def serve(self, with_body: bool) -> None:
        raw, _, query = self.path.partition("?")
        path = unquote(raw)
        parts = [p for p in path.split("/") if p]
        if not path.startswith("/") or "\0" in path or any(p.startswith(".") for p in parts):
            return self.not_found()
        target = self.locate(parts)
        if target and os.path.isdir(target):
            parts.append("index.html")
            target = self.locate(parts)
            if target and os.path.isfile(target) and not path.endswith("/"):
                location = "/" + "/".join(quote(p) for p in parts[:-1]) + "/"
                location += "?" + query if query else ""
                return self.send_body(301, b"", "text/plain", Location=location)
        elif path.endswith("/"):
            target = None  # a file named as if it were a directory
        try:  # O_NONBLOCK: opening a FIFO must not hang (fstat then refuses it)
            fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK) if target else -1
        except OSError:
            fd = -1
        if target is None or fd < 0:
            return self.not_found()
        with open(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return self.not_found()
            self.send_file(f, st, target, content_type(parts[-1]), with_body)

    def send_file(
        self, f: BinaryIO, st: os.stat_result, target: str, ctype: str, with_body: bool
    ) -> None:
        varies = is_compressible(ctype) and GZIP_MIN_SIZE <= st.st_size <= GZIP_MAX_SIZE
        use_gzip = varies and accepts_gzip(self.headers.get("Accept-Encoding", ""))
        version = f"{st.st_mtime_ns:x}-{st.st_size:x}"
        etag = f'"{version}-gz"' if use_gzip else f'"{version}"'
        headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True)}
        if varies:
            headers["Vary"] = "Accept-Encoding"
        if etag_matches(self.headers.get("If-None-Match", ""), etag):
            return self.send_head(304, headers)
        body = self.cache.get((target, st.st_mtime_ns, st.st_size), f) if use_gzip else None
        charset = "; charset=utf-8" if ctype.startswith("text/") or ctype in UTF8 else ""
        headers["Content-Type"] = ctype + charset
        headers["Content-Length"] = str(st.st_size if body is None else len(body))
        if body is not None:
            headers["Content-Encoding"] = "gzip"
        self.send_head(200, headers)
        if not with_body:
            return
        if body is not None:
            self.wfile.write(body)
            self.sent = len(body)
            return
        for chunk in iter(lambda: f.read(CHUNK), b""):
            self.wfile.write(chunk)
            self.sent += len(chunk)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup of the host
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            print(f"error serving {client_address}: {exc!r}", flush=True)


def stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a directory of static files.")
    parser.add_argument("--root", required=True, help="directory to serve")
    parser.add_argument("--port", type=int, default=os.environ.get("PORT") or "8000")
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args(argv)
    root = os.path.realpath(args.root)
    if not os.path.isdir(root):
        parser.error(f"--root {args.root}: not a directory")
    Handler.root = root
    if ":" in args.host:
        Server.address_family = socket.AF_INET6
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with Server((args.host, args.port), Handler) as server:
        print(f"serving {args.root} on http://{args.host}:{args.port}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopping", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
