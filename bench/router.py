"""Edge router benchmark: requests/s and latency through the router next to the same requests
sent straight to the app process, at concurrency 16 over keep-alive connections, with wrk.

It starts ``dockyard server`` (SQLite, local scheduler, edge router on free ports), deploys a
small HTTP/1.1 app answering ``GET /`` with 13 bytes, and measures four cases. It does so for
two apps: Python's ThreadingHTTPServer (the README's kind of app; its own p99 jitters with
the GIL hand-offs between its threads) and a one-thread asyncio server (steady latency, so
what the router adds at p99 is visible):

- HTTP straight to the web pod's port;
- HTTP through the router (``Host: <app>.<platform domain>``);
- HTTPS straight to the app: the same app code run standalone with TLS on (a pod speaks plain
  HTTP, so this is the fair baseline for TLS termination);
- HTTPS through the router (TLS terminated by the router, plain HTTP to the pod).

    python bench/router.py [--duration 10] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import DockyardServer, ensure_wrk, free_port, run_wrk
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

THREADED = """\
import http.server, os, ssl
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536  # one write per response (else Nagle and delayed ACKs add 40 ms)
    def do_GET(self):
        body = b"hello, world\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer.daemon_threads = True
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)
if os.environ.get("TLS_CERT"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.environ["TLS_CERT"], os.environ["TLS_KEY"])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""
# One thread, one event loop: latency without the GIL hand-offs of a threaded server, so
# what the router adds at p99 shows instead of drowning in the app's own jitter.
EVENT_LOOP = """\
import asyncio, os, ssl
RESPONSE = b"HTTP/1.1 200 OK\\r\\nContent-Length: 13\\r\\n\\r\\nhello, world\\n"
async def serve(reader, writer):
    try:
        while await reader.readuntil(b"\\r\\n\\r\\n"):
            writer.write(RESPONSE)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()
async def main():
    ctx = None
    if os.environ.get("TLS_CERT"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.environ["TLS_CERT"], os.environ["TLS_KEY"])
    server = await asyncio.start_server(serve, "127.0.0.1", int(os.environ["PORT"]), ssl=ctx)
    await server.serve_forever()
asyncio.run(main())
"""
APPS = {"threaded": THREADED, "event-loop": EVENT_LOOP}
APP_ID = "bench-router"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def wait_routed(url: str, host: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers={"Host": host}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{host} is not served at {url}")


def row(label: str, r: dict[str, float], base: dict[str, float] | None = None) -> None:
    share = f"{100 * r['rps'] / base['rps']:6.0f}%" if base else "      "
    added = f"{r['p99'] - base['p99']:+8.2f}" if base else "        "
    print(
        f"{label:<34}{r['rps']:>9.0f}{share}{r['p50']:>9.2f}{r['p99']:>9.2f}{added}"
        f"{int(r['non2xx'] + r['socket_errors']):>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per case")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--apps", default="threaded,event-loop", help="threaded, event-loop")
    args = parser.parse_args()
    wrk = ensure_wrk()
    print(
        f"dockyard router benchmark: {os.cpu_count()} CPUs, {args.duration}s per case, "
        f"concurrency {args.concurrency}, wrk keep-alive"
    )
    for kind in args.apps.split(","):
        bench_app(wrk, kind, APPS[kind], args.duration, args.concurrency)


def bench_app(wrk: str, kind: str, source: str, duration: int, concurrency: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="dockyard-bench-router-"))
    os.chmod(tmp, 0o755)
    src = tmp / "src"
    src.mkdir()
    (src / "app.py").write_text(source)
    (src / "Procfile").write_text("web: python3 app.py\n")
    os.chmod(src, 0o755)
    server = DockyardServer(env={"DOCKYARD_LOCAL_SOURCE_ROOTS": str(src)})
    standalone: subprocess.Popen[bytes] | None = None
    try:
        server.wait()
        with server.login() as c:
            c.post("/v2/apps", json={"id": APP_ID}).raise_for_status()
            c.post(f"/v2/apps/{APP_ID}/builds", json={"image": str(src)}).raise_for_status()
            host = f"{APP_ID}.dockyard.localhost"
            routed = f"http://127.0.0.1:{server.router_http}/"
            routed_tls = f"https://127.0.0.1:{server.router_https}/"
            wait_routed(routed, host)
            port = _pod_port(server.tmp / "data" / "local" / "pods" / APP_ID)
            cert, key = self_signed(tmp)
            tls_port = free_port()
            standalone = subprocess.Popen(
                [sys.executable, str(src / "app.py")],
                env=dict(os.environ, PORT=str(tls_port), TLS_CERT=str(cert), TLS_KEY=str(key)),
            )
            time.sleep(1)
            hdr = {"Host": host}
            run_wrk(wrk, routed, concurrency, 2, hdr)  # warm-up
            print(f"\n== app: Python, {kind} server")
            print(
                f"{'case':<34}{'req/s':>9}{'share':>7}{'p50 ms':>9}{'p99 ms':>9}{'+p99':>8}"
                f"{'errors':>8}"
            )
            direct = run_wrk(wrk, f"http://127.0.0.1:{port}/", concurrency, duration)
            row("HTTP, straight to the pod", direct)
            through = run_wrk(wrk, routed, concurrency, duration, hdr)
            row("HTTP, through the router", through, direct)
            direct_tls = run_wrk(wrk, f"https://127.0.0.1:{tls_port}/", concurrency, duration)
            row("HTTPS, straight to the app", direct_tls)
            through_tls = run_wrk(wrk, routed_tls, concurrency, duration, hdr)
            row("HTTPS, through the router", through_tls, direct_tls)
            c.delete(f"/v2/apps/{APP_ID}")
    finally:
        if standalone is not None:
            standalone.terminate()
            standalone.wait()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _pod_port(pods: Path) -> int:
    """The web pod's own port, from the node agent's record of it."""
    for pod_json in pods.glob("*/pod.json"):
        return int(json.loads(pod_json.read_text())["port"])
    raise RuntimeError("no web pod found")


if __name__ == "__main__":
    main()
