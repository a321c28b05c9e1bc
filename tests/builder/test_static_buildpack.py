"""The built-in ``static`` buildpack and the file server it ships, as the builder and the
platform run them.

The buildpack is copied to a directory of its own first (the builder does the same), its
scripts run with the builder's minimal environment, and the compiled slug's server runs exactly
as ``bin/release`` says (``/bin/sh -c '<command>'`` in the slug, with ``$PORT``; only
``--host 127.0.0.1`` is added) and is tested over real HTTP with raw requests, so that nothing
normalises paths or hides a stray body.
"""

from __future__ import annotations

import ast
import contextlib
import email.utils
import gzip
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder import scripts
from tests.builder.scripts import BUILDPACKS, SCRIPTS, copy_buildpack, free_port, minimal_env

SOURCE = BUILDPACKS / "static"
SECRET = b"slug-root secret, never served"
OUTSIDE = b"outside the slug, never served"
APP_JS = b"".join(b"console.log('dockyard static %d');\n" % i for i in range(100))  # > 1 KiB
BIG = b"".join(b"line %d of a big text file\n" % i for i in range(200_000))  # > 4 MiB


def run(
    buildpack: Path, script: str, *args: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The script run with stderr apart from stdout and, unless ``env`` is given, the minimal
    environment with ``HOME`` the app's parent."""
    env = env or minimal_env(args[0].parent)
    return scripts.run(buildpack, script, *args, env=env, timeout=30, merge_stderr=False)


def compile_app(
    buildpack: Path, app: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cache, env_dir = app.parent / "cache", app.parent / "env"
    cache.mkdir(exist_ok=True)
    env_dir.mkdir(exist_ok=True)
    return run(buildpack, "compile", app, cache, env_dir, env=env)


def release_command(buildpack: Path, app: Path) -> str:
    result = run(buildpack, "release", app)
    assert result.returncode == 0, result
    head, web = result.stdout.splitlines()[:2], result.stdout.splitlines()[2]
    assert head == ["---", "default_process_types:"]
    assert web.startswith("  web: ")
    return web.removeprefix("  web: ")


class Server:
    """The release command run by ``/bin/sh -c`` in the slug, as the platform runs it."""

    def __init__(self, slug: Path, command: str, log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", f"{command} --host 127.0.0.1"],
                cwd=slug,
                env=minimal_env(slug, PORT=str(self.port)),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.output()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                break
            assert time.monotonic() < deadline, f"server not up: {self.output()}"
            time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def server_pid(self) -> int:
        """The server process: the shell's child, or the shell itself if it exec'd it."""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    return int(stat.parent.name)
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the server and wait; the shell exits with the server's status."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.server_pid(), sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> Response:
    """One request, sent as raw bytes (the path exactly as given), read to the server's close."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    if method != "HEAD" and "content-length" in fields:
        assert int(fields["content-length"]) == len(body)
    return Response(int(status_line.split()[1]), fields, body)


def get(port: int, path: str, **headers: str) -> Response:
    return request(port, "GET", path, {k.replace("_", "-"): v for k, v in headers.items()})


# --- the sites ---------------------------------------------------------------------------


def make_public_site(app: Path, outside: Path) -> None:
    public = app / "public"
    (public / "sub").mkdir(parents=True)
    (public / "empty").mkdir()
    outside.mkdir()
    (outside / "file.txt").write_bytes(OUTSIDE)
    (outside / "index.html").write_bytes(OUTSIDE)
    (app / "secret.txt").write_bytes(SECRET)
    (app / "README.md").write_text("not part of the site\n")
    (public / "index.html").write_text("<!doctype html><h1>home</h1>\n")
    (public / "app.js").write_bytes(APP_JS)
    (public / "style.css").write_text("body { color: teal; }\n")
    (public / "data.json").write_text('{"ok": true}\n')
    (public / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    (public / "big.txt").write_bytes(BIG)
    (public / "404.html").write_text("<!doctype html><h1>custom missing page</h1>\n")
    (public / "sub" / "index.html").write_text("<h1>sub</h1>\n")
    (public / "empty" / "a.txt").write_text("listed?\n")
    (public / ".env").write_bytes(b"SECRET_KEY=" + SECRET)
    (public / "link-inside.js").symlink_to("app.js")
    (public / "env-link").symlink_to(".env")
    (public / "leak.txt").symlink_to("../secret.txt")
    (public / "passwd").symlink_to(outside / "file.txt")
    (public / "escape-dir").symlink_to(outside, target_is_directory=True)
    os.mkfifo(public / "pipe")  # not a regular file: never opened for serving


@pytest.fixture(scope="module")
def buildpack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The builder copies a buildpack to a directory of its own before it runs it.
    return copy_buildpack("static", tmp_path_factory.mktemp("buildpacks"), "__pycache__")


@pytest.fixture(scope="module")
def public_slug(buildpack: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("public-app")
    make_public_site(base / "app", base / "outside")
    assert compile_app(buildpack, base / "app").returncode == 0
    return base / "app"


@pytest.fixture(scope="module")
def root_slug(buildpack: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    app = tmp_path_factory.mktemp("root-app") / "app"
    app.mkdir()
    (app / "index.html").write_text("<h1>root layout</h1>\n")
    (app / ".env").write_bytes(b"SECRET_KEY=" + SECRET)
    assert compile_app(buildpack, app).returncode == 0
    return app


@pytest.fixture(scope="module")
def public_server(
    buildpack: Path, public_slug: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("logs") / "public.log"
    server = Server(public_slug, release_command(buildpack, public_slug), log)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def root_server(
    buildpack: Path, root_slug: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("logs") / "root.log"
    server = Server(root_slug, release_command(buildpack, root_slug), log)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_server(buildpack: Path, tmp_path: Path) -> Iterator[Callable[[Path], Server]]:
    servers: list[Server] = []

    def start(slug: Path) -> Server:
        log = tmp_path / f"server-{len(servers)}.log"
        servers.append(Server(slug, release_command(buildpack, slug), log))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


# --- the scripts -------------------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_posix_sh(script: str) -> None:
    path = SOURCE / "bin" / script
    assert path.stat().st_mode & 0o777 == 0o755
    assert path.read_text().startswith("#!/bin/sh\n")
    assert subprocess.run(["/bin/sh", "-n", str(path)], check=False).returncode == 0


@pytest.mark.parametrize("index", ["index.html", "public/index.html"])
def test_detect_applies_to_a_site_with_an_index(
    buildpack: Path, tmp_path: Path, index: str
) -> None:
    app = tmp_path / "app"
    (app / index).parent.mkdir(parents=True)
    (app / index).write_text("<h1>hi</h1>")
    result = run(buildpack, "detect", app)
    assert (result.returncode, result.stdout, result.stderr) == (0, "Static\n", "")


def test_detect_does_not_apply_without_an_index(buildpack: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "public").mkdir(parents=True)
    (app / "public" / "home.html").write_text("<h1>hi</h1>")
    (app / "index.htm").write_text("<h1>hi</h1>")
    result = run(buildpack, "detect", app)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")


@pytest.mark.parametrize(
    ("files", "root", "serving"),
    [
        (["public/index.html"], "public", "       Serving public/"),
        (["index.html", "public/index.html"], "public", "       Serving public/"),
        (["index.html"], ".", "       Serving the app's root directory"),
    ],
)
def test_compile_installs_the_server_and_release_runs_it(
    buildpack: Path, tmp_path: Path, files: list[str], root: str, serving: str
) -> None:
    app = tmp_path / "app"
    for name in files:
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_text("<h1>hi</h1>")
    result = compile_app(buildpack, app)
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == "-----> Installing Dockyard's static file server"
    assert serving in lines
    assert all(line.startswith(("-----> ", "       ")) for line in lines), lines
    installed = app / ".dockyard" / "static-server.py"
    assert installed.read_bytes() == (SOURCE / "static_server.py").read_bytes()
    release = run(buildpack, "release", app)
    assert release.returncode == 0, release
    assert release.stdout == (
        f"---\ndefault_process_types:\n  web: python3 .dockyard/static-server.py --root {root}\n"
    )


def test_compile_fails_clearly_without_python3(buildpack: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "index.html").write_text("<h1>hi</h1>")
    result = compile_app(buildpack, app, env={"PATH": "/nonexistent", "HOME": str(tmp_path)})
    assert result.returncode == 1
    assert result.stdout.startswith("-----> Error: python3 is not on PATH")
    assert not (app / ".dockyard").exists()


def test_server_is_standalone_python38_stdlib() -> None:
    source = (SOURCE / "static_server.py").read_text()
    assert len(source.splitlines()) < 300
    tree = ast.parse(source, feature_version=(3, 8))
    assert ast.get_docstring(tree)
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    top = {m.split(".")[0] for m in modules}
    assert top <= set(sys.stdlib_module_names) | {"__future__"}, top


# --- the server ----------------------------------------------------------------------------


def test_index_pages(public_server: Server, public_slug: Path) -> None:
    index = (public_slug / "public" / "index.html").read_bytes()
    for path in ("/", "/index.html", "/?utm=1"):
        r = get(public_server.port, path)
        assert (r.status, r.body) == (200, index)
        assert r.headers["content-type"] == "text/html; charset=utf-8"
    r = get(public_server.port, "/sub/")
    assert (r.status, r.body) == (200, b"<h1>sub</h1>\n")


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/style.css", "text/css; charset=utf-8"),
        ("/data.json", "application/json; charset=utf-8"),
        ("/logo.png", "image/png"),
        ("/app.js", re.compile(r"(text|application)/javascript; charset=utf-8")),
    ],
)
def test_content_types(public_server: Server, path: str, ctype: str | re.Pattern[str]) -> None:
    r = get(public_server.port, path)
    assert r.status == 200
    if isinstance(ctype, str):
        assert r.headers["content-type"] == ctype
    else:
        assert ctype.fullmatch(r.headers["content-type"])


def test_etag_last_modified_and_304(public_server: Server, public_slug: Path) -> None:
    port = public_server.port
    r = get(port, "/style.css")
    etag = r.headers["etag"]
    assert re.fullmatch(r'"[^"]+"', etag)  # strong
    mtime = (public_slug / "public" / "style.css").stat().st_mtime
    assert r.headers["last-modified"] == email.utils.formatdate(mtime, usegmt=True)
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = get(port, "/style.css", If_None_Match=value)
        assert (r.status, r.body, r.headers["etag"]) == (304, b"", etag), value
        assert "content-length" not in r.headers or r.headers["content-length"] == "0"
    r = get(port, "/style.css", If_None_Match='"other"')
    assert (r.status, r.body) == (200, b"body { color: teal; }\n")


def test_a_new_file_version_gets_a_new_etag_and_body(
    public_server: Server, public_slug: Path
) -> None:
    path = public_slug / "public" / "changing.txt"
    path.write_bytes(b"version one\n" * 200)
    first = get(public_server.port, "/changing.txt", Accept_Encoding="gzip")
    assert gzip.decompress(first.body) == b"version one\n" * 200
    path.write_bytes(b"version two!\n" * 200)
    os.utime(path, (time.time() + 10, time.time() + 10))
    r = get(
        public_server.port,
        "/changing.txt",
        Accept_Encoding="gzip",
        If_None_Match=first.headers["etag"],
    )
    assert r.status == 200
    assert r.headers["etag"] != first.headers["etag"]
    assert gzip.decompress(r.body) == b"version two!\n" * 200


@pytest.mark.parametrize("accept", ["gzip", "deflate, gzip;q=0.5, br", "GZIP", "*", "x-gzip"])
def test_gzip(public_server: Server, accept: str) -> None:
    port = public_server.port
    plain = get(port, "/app.js")
    assert "content-encoding" not in plain.headers
    r = get(port, "/app.js", Accept_Encoding=accept)
    assert r.status == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert len(r.body) < len(APP_JS)
    assert gzip.decompress(r.body) == APP_JS
    assert r.headers["etag"] != plain.headers["etag"]
    again = get(port, "/app.js", Accept_Encoding=accept, If_None_Match=r.headers["etag"])
    assert (again.status, again.body) == (304, b"")


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/app.js", "gzip;q=0"),
        ("/app.js", "gzip; q=0.000, deflate"),
        ("/app.js", "gzip;q=0, *"),
        ("/app.js", "identity"),
        ("/app.js", ""),
        ("/style.css", "gzip"),  # under 1 KiB
        ("/logo.png", "gzip"),  # not compressible
    ],
)
def test_no_gzip(public_server: Server, public_slug: Path, path: str, accept: str) -> None:
    r = get(public_server.port, path, Accept_Encoding=accept)
    assert r.status == 200
    assert "content-encoding" not in r.headers
    assert r.body == (public_slug / "public" / path.lstrip("/")).read_bytes()


def test_big_file(public_server: Server) -> None:
    for accept in ("identity", "gzip"):
        r = get(public_server.port, "/big.txt", Accept_Encoding=accept)
        assert r.status == 200
        body = gzip.decompress(r.body) if r.headers.get("content-encoding") else r.body
        assert body == BIG


def test_head(public_server: Server) -> None:
    port = public_server.port
    for accept in ("identity", "gzip"):
        got = get(port, "/app.js", Accept_Encoding=accept)
        r = request(port, "HEAD", "/app.js", {"Accept-Encoding": accept})
        assert (r.status, r.body) == (200, b"")
        for name in ("content-type", "content-length", "etag", "last-modified"):
            assert r.headers[name] == got.headers[name], name
        assert r.headers.get("content-encoding") == got.headers.get("content-encoding")
    r = request(port, "HEAD", "/missing")
    assert (r.status, r.body) == (404, b"")


def test_keep_alive(public_server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", public_server.port, timeout=10)
    try:
        seen = []
        for method, path, headers in [
            ("GET", "/style.css", {}),
            ("HEAD", "/app.js", {}),
            ("GET", "/style.css", {"If-None-Match": "*"}),
            ("GET", "/missing", {}),
            ("GET", "/sub", {}),
            ("GET", "/app.js", {"Accept-Encoding": "gzip"}),
        ]:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            seen.append((response.status, len(body)))
        assert [s for s, _ in seen] == [200, 200, 304, 404, 301, 200]
        assert seen[1][1] == seen[2][1] == 0
    finally:
        conn.close()


def test_directory_without_slash_redirects(public_server: Server) -> None:
    r = get(public_server.port, "/sub?x=1&y=%2F")
    assert (r.status, r.headers["location"]) == (301, "/sub/?x=1&y=%2F")
    r = get(public_server.port, "/sub")
    assert (r.status, r.headers["location"]) == (301, "/sub/")


def test_no_directory_listings(public_server: Server, public_slug: Path) -> None:
    custom = (public_slug / "public" / "404.html").read_bytes()
    for path in ("/empty/", "/empty"):
        r = get(public_server.port, path)
        assert (r.status, r.body) == (404, custom)
    assert (get(public_server.port, "/empty/a.txt").status) == 200
    assert get(public_server.port, "/index.html/").status == 404


def test_custom_404(public_server: Server, public_slug: Path) -> None:
    r = get(public_server.port, "/no/such/page.html")
    assert (r.status, r.body) == (404, (public_slug / "public" / "404.html").read_bytes())
    assert r.headers["content-type"] == "text/html; charset=utf-8"


def test_default_404_and_root_layout(root_server: Server) -> None:
    r = get(root_server.port, "/")
    assert (r.status, r.body) == (200, b"<h1>root layout</h1>\n")
    r = get(root_server.port, "/missing.html")
    assert r.status == 404
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert b"404 Not Found" in r.body


@pytest.mark.parametrize(
    "path",
    [
        "/.dockyard/static-server.py",
        "/%2edockyard/static-server.py",
        "/.dockyard/",
        "/.env",
        "/%2Eenv",
        "/./.env",
    ],
)
def test_hidden_files_are_404(root_server: Server, path: str) -> None:
    r = get(root_server.port, path)
    assert r.status == 404
    assert b"404 Not Found" in r.body
    assert SECRET not in r.body and b"ThreadingHTTPServer" not in r.body


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/sub/%2e%2e/%2e%2e/etc/passwd",
        "/%252e%252e/secret.txt",
        "//etc/passwd",
        "/index.html%00.png",
        "/.env",
        "/sub/%2e/../.env",
        "/env-link",  # a symlink to a hidden file
        "/leak.txt",  # a symlink to ../secret.txt
        "/passwd",  # a symlink to a file outside the slug
        "/escape-dir/",  # a symlink to a directory outside the slug
        "/escape-dir/file.txt",
        "/pipe",  # a FIFO
    ],
)
def test_nothing_outside_the_root_or_hidden_is_served(public_server: Server, path: str) -> None:
    r = get(public_server.port, path)
    assert r.status == 404
    assert b"custom missing page" in r.body
    assert SECRET not in r.body and OUTSIDE not in r.body and b"root:" not in r.body


def test_a_symlink_inside_the_root_is_served(public_server: Server) -> None:
    r = get(public_server.port, "/link-inside.js")
    assert (r.status, r.body) == (200, APP_JS)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"])
def test_other_methods_are_405(public_server: Server, method: str) -> None:
    r = request(public_server.port, method, "/index.html", {"Content-Length": "3"})
    assert r.status == 405
    assert r.headers["allow"] == "GET, HEAD"


def test_one_log_line_per_request(public_server: Server) -> None:
    get(public_server.port, "/style.css?log-marker")
    get(public_server.port, "/nope?log-marker")
    expected = [
        r"GET /style\.css\?log-marker 200 22 \d+\.\dms",
        r"GET /nope\?log-marker 404 \d+ \d+\.\dms",
    ]
    deadline = time.monotonic() + 5
    while True:
        lines = [line for line in public_server.output().splitlines() if "log-marker" in line]
        if len(lines) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(lines) == 2, public_server.output()
    for pattern, line in zip(expected, lines, strict=True):
        assert re.fullmatch(pattern, line), line


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_exits_cleanly_on_a_signal(
    start_server: Callable[[Path], Server], public_slug: Path, sig: int
) -> None:
    server = start_server(public_slug)
    # An idle keep-alive connection must not hold the server up.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/")
        assert conn.getresponse().read()
        started = time.monotonic()
        assert server.stop(sig) == 0, server.output()
        assert time.monotonic() - started < 5
    finally:
        conn.close()
    assert server.output().splitlines()[-1] == "stopping"
