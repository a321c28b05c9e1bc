"""Uploading a source (``DockyardClient.upload_source``, ``dockyard deploy``) and the other
new client calls (``builds:log``, ``buildpacks:*``), against ``FakeController``: a tiny real
HTTP server on 127.0.0.1, in a thread, that records each request and answers canned
responses. It stands in for the controller only because its source-upload and buildpack
endpoints do not exist yet; end-to-end tests against the real server replace it later.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner, Result

from dockyard.cli.app import app as cli_app
from dockyard.cli.pack import Packed, pack
from dockyard.client import ClientError, DockyardClient

APP = "web-shop"
SOURCES = f"/v2/apps/{APP}/sources/"
BUILD = {
    "uuid": "7d3f1c2a-0000-4000-8000-000000000001",
    "app": APP,
    "owner": "alice",
    "image": "",
    "sha": "",
    "procfile": {"web": "python app.py"},
    "dockerfile": "",
    "created": "2024-01-01T00:00:00Z",
    "updated": "2024-01-01T00:00:00Z",
    "status": "succeeded",
    "buildpack": "python",
}
SUCCESS = {"build": BUILD, "release": {"version": 3, "app": APP}}


@dataclass
class Request:
    method: str
    path: str
    headers: Message
    body: bytes


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeController

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.fake.requests.append(Request(self.command, self.path, self.headers, body))
        self.close_connection = True
        route = self.fake.routes.get((self.command, urlsplit(self.path).path))
        if route is None:
            send_json(self, 404, {"detail": "Not found."})
        else:
            route(self)

    do_GET = do_POST = do_DELETE = handle_any

    def log_message(self, format: str, *args: Any) -> None:
        pass


Route = Callable[[Handler], None]


@dataclass
class FakeController:
    routes: dict[tuple[str, str], Route]
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        handler = type("BoundHandler", (Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeController:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def send_json(handler: Handler, status: int, data: object) -> None:
    body = json.dumps(data).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def start_lines(handler: Handler) -> None:
    """A 200 whose body ends when the connection closes, as a streamed answer may."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/x-ndjson")
    handler.end_headers()


def write_line(handler: Handler, data: object) -> None:
    handler.wfile.write(json.dumps(data).encode() + b"\n")
    handler.wfile.flush()


def lines(*objects: object) -> Route:
    def route(handler: Handler) -> None:
        start_lines(handler)
        for data in objects:
            write_line(handler, data)

    return route


@pytest.fixture
def packed(tmp_path: Path) -> Iterator[Packed]:
    """A packed source bigger than one upload chunk (random bytes do not compress)."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "Procfile").write_text("web: python app.py\n")
    (root / "blob.bin").write_bytes(os.urandom(300_000))
    result = pack(root, use_git=False)
    yield result
    result.remove()


def upload(fake: FakeController, packed: Packed, **kwargs: Any) -> list[dict[str, Any]]:
    with DockyardClient(fake.url, "t0k") as client, packed.path.open("rb") as body:
        return [dict(e) for e in client.upload_source(APP, body, packed.size, **kwargs)]


# -- the client -----------------------------------------------------------------------------


def test_upload_sends_the_archive_and_streams_the_build(packed: Packed) -> None:
    gate, waited = threading.Event(), []

    def route(handler: Handler) -> None:
        start_lines(handler)
        write_line(handler, {"log": "-----> Python app detected"})
        waited.append(gate.wait(10))  # until the client has the first line
        write_line(handler, {"log": "-----> Installing requirements"})
        write_line(handler, SUCCESS)

    progress: list[int] = []
    events = []
    with (
        FakeController({("POST", SOURCES): route}) as fake,
        DockyardClient(fake.url, "t0k") as client,
        packed.path.open("rb") as body,
    ):
        stream = client.upload_source(
            APP, body, packed.size, sha="abc1234", on_progress=progress.append
        )
        for event in stream:
            events.append(event)
            gate.set()
    assert waited == [True]  # the first line came while the server still held the rest
    assert events == [
        {"log": "-----> Python app detected"},
        {"log": "-----> Installing requirements"},
        SUCCESS,
    ]
    assert len(progress) > 1 and progress == sorted(set(progress))
    assert progress[-1] == packed.size
    [request] = fake.requests
    assert request.path == f"{SOURCES}?sha=abc1234"
    assert request.headers["Authorization"] == "token t0k"
    assert request.headers["Content-Type"] == "application/gzip"
    assert request.body == packed.path.read_bytes()


def test_a_failed_build_ends_with_its_error(packed: Packed) -> None:
    route = lines({"log": "-----> No buildpack matched"}, {"error": "No buildpack detected."})
    with FakeController({("POST", SOURCES): route}) as fake:
        events = upload(fake, packed)
    assert events == [{"log": "-----> No buildpack matched"}, {"error": "No buildpack detected."}]
    assert "sha" not in fake.requests[0].path


def test_an_error_before_the_build_is_a_client_error(packed: Packed) -> None:
    too_big = {"detail": "The source is too large: at most 1 MB (DOCKYARD_MAX_SOURCE_SIZE)."}
    route: Route = lambda handler: send_json(handler, 413, too_big)  # noqa: E731
    with FakeController({("POST", SOURCES): route}) as fake, pytest.raises(ClientError) as info:
        upload(fake, packed)
    assert info.value.status == 413
    assert info.value.message == too_big["detail"]


def test_a_stream_without_a_result_is_an_error(packed: Packed) -> None:
    got: list[dict[str, Any]] = []
    route = lines({"log": "-----> Building"})
    with (
        FakeController({("POST", SOURCES): route}) as fake,
        DockyardClient(fake.url, "t0k") as client,
        packed.path.open("rb") as body,
        pytest.raises(ClientError) as info,
    ):
        got.extend(client.upload_source(APP, body, packed.size))
    assert got == [{"log": "-----> Building"}]
    assert "ended before the build finished" in info.value.message


def test_a_broken_connection_is_an_error(packed: Packed) -> None:
    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/x-ndjson")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        line = b'{"log": "one"}\n'
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        handler.wfile.write(b'400\r\n{"log"')  # promises 1024 bytes, then hangs up

    with FakeController({("POST", SOURCES): route}) as fake, pytest.raises(ClientError) as info:
        upload(fake, packed)
    assert info.value.status == 0
    assert "The connection to the controller" in info.value.message


def test_a_line_that_is_not_json_is_an_error(packed: Packed) -> None:
    def route(handler: Handler) -> None:
        start_lines(handler)
        handler.wfile.write(b"<html>proxy error</html>\n")

    with FakeController({("POST", SOURCES): route}) as fake, pytest.raises(ClientError) as info:
        upload(fake, packed)
    assert "not a JSON object: <html>proxy error</html>" in info.value.message


def test_a_silent_controller_times_out_after_the_deploy_timeout(packed: Packed) -> None:
    release = threading.Event()

    def route(handler: Handler) -> None:
        start_lines(handler)
        release.wait(10)

    with FakeController({("POST", SOURCES): route}) as fake:
        client = DockyardClient(fake.url, "t0k", deploy_timeout=0.5)
        with client, packed.path.open("rb") as body, pytest.raises(ClientError) as info:
            list(client.upload_source(APP, body, packed.size))
        release.set()
    assert "stopped answering" in info.value.message


def test_an_unreachable_controller(packed: Packed) -> None:
    with (
        DockyardClient("http://127.0.0.1:9", "t0k") as client,
        packed.path.open("rb") as body,
        pytest.raises(ClientError, match="Cannot reach the controller"),
    ):
        list(client.upload_source(APP, body, packed.size))


# -- the commands ---------------------------------------------------------------------------


def run(fake: FakeController, *args: str, input: str | None = None) -> Result:
    env = {"DOCKYARD_URL": fake.url, "DOCKYARD_TOKEN": "t0k"}
    return CliRunner().invoke(cli_app, list(args), env=env, input=input)


def app_route(handler: Handler) -> None:
    send_json(handler, 200, {"id": APP, "url": f"{APP}.example.test", "structure": {"web": 1}})


@pytest.fixture
def source(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An app directory outside git; temp archives go to a directory of the test's own."""
    archives = tmp_path / "archives"
    archives.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(archives))
    root = tmp_path / "app"
    root.mkdir()
    (root / "Procfile").write_text("web: python app.py\n")
    (root / "app.py").write_text("print('hello')\n")
    return root


def test_deploy_prints_the_build_and_the_release(source: Path, tmp_path: Path) -> None:
    route = lines({"log": "-----> Python app detected"}, {"log": "-----> Done"}, SUCCESS)
    routes = {("POST", SOURCES): route, ("GET", f"/v2/apps/{APP}/"): app_route}
    with FakeController(routes) as fake:
        result = run(fake, "deploy", str(source), "-a", APP)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Uploading {source} (2 files" in out
    assert out.index("-----> Python app detected\n") < out.index("-----> Done\n")
    assert f"Deployed {BUILD['uuid']} to {APP} as v3 in " in out
    assert f"URL: http://{APP}.example.test" in out
    assert fake.requests[0].body[:2] == b"\x1f\x8b"  # a gzip archive went up
    assert list((tmp_path / "archives").iterdir()) == []  # and was deleted


def test_deploy_json_and_failures(source: Path) -> None:
    with FakeController({("POST", SOURCES): lines({"log": "x"}, SUCCESS)}) as fake:
        result = run(fake, "deploy", str(source), "-a", APP, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == SUCCESS  # nothing else on stdout

    failed = {"error": "No buildpack detected.", "build": BUILD}
    with FakeController({("POST", SOURCES): lines({"log": "x"}, failed)}) as fake:
        result = run(fake, "deploy", str(source), "-a", APP)
        as_json = run(fake, "deploy", str(source), "-a", APP, "--json")
    assert result.exit_code == 1
    assert "Error: No buildpack detected." in result.stderr
    assert "Deployed" not in result.stdout
    assert as_json.exit_code == 1 and json.loads(as_json.stdout) == failed

    route: Route = lambda handler: send_json(handler, 413, {"detail": "Too large."})  # noqa: E731
    with FakeController({("POST", SOURCES): route}) as fake:
        result = run(fake, "deploy", str(source), "-a", APP)
    assert result.exit_code == 1 and "Error: Too large." in result.stderr
    with FakeController({}) as fake:
        missing = run(fake, "deploy", str(source / "nope"), "-a", APP)
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    assert fake.requests == []


def test_builds_log(home: Path) -> None:
    text = "-----> Python app detected\n-----> Done\n"

    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(text)))
        handler.end_headers()
        handler.wfile.write(text.encode())

    with FakeController({("GET", f"/v2/apps/{APP}/builds/{BUILD['uuid']}/log"): route}) as fake:
        result = run(fake, "builds:log", str(BUILD["uuid"]), "-a", APP)
        missing = run(fake, "builds:log", "nope", "-a", APP)
    assert result.exit_code == 0 and result.stdout == text
    assert missing.exit_code == 1 and "Not found." in missing.stderr


def test_buildpacks_commands(home: Path, tmp_path: Path) -> None:
    item = {"name": "python", "owner": "root", "size": 2048, "created": "2024-01-02", "updated": ""}
    page = {"count": 1, "next": None, "previous": None, "results": [item]}
    routes: dict[tuple[str, str], Route] = {
        ("GET", "/v2/buildpacks/"): lambda h: send_json(h, 200, page),
        ("POST", "/v2/buildpacks/"): lambda h: send_json(h, 201, item),
        ("DELETE", "/v2/buildpacks/python"): lambda h: h.send_response(204) or h.end_headers(),
    }
    pack_dir = tmp_path / "python-pack"
    (pack_dir / "bin").mkdir(parents=True)
    with FakeController(routes) as fake:
        listed = run(fake, "buildpacks:list")
        as_json = run(fake, "buildpacks", "--json")
        not_a_pack = run(fake, "buildpacks:add", "python", str(pack_dir))
        (pack_dir / "bin" / "compile").write_text("#!/bin/sh\n")
        added = run(fake, "buildpacks:add", "python", str(pack_dir))
        refused = run(fake, "buildpacks:remove", "python", input="pyhton\n")
        removed = run(fake, "buildpacks:remove", "python", "--confirm", "python")
    assert listed.exit_code == 0 and "python" in listed.stdout and "2.0 KB" in listed.stdout
    assert json.loads(as_json.stdout) == [item]
    assert not_a_pack.exit_code == 1 and "no bin/compile at its root" in not_a_pack.stderr
    assert added.exit_code == 0 and "Added buildpack python (2.0 KB)." in added.stdout
    assert refused.exit_code == 1 and "nothing was removed" in refused.stderr
    assert removed.exit_code == 0 and "Removed buildpack python." in removed.stdout
    sent = [(r.method, urlsplit(r.path).path) for r in fake.requests]
    assert sent == [
        ("GET", "/v2/buildpacks/"),
        ("GET", "/v2/buildpacks/"),
        ("POST", "/v2/buildpacks/"),
        ("DELETE", "/v2/buildpacks/python"),
    ]
    form = fake.requests[2]
    assert form.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="name"\r\n\r\npython\r\n' in form.body
    assert b'name="buildpack"; filename="python.tar.gz"' in form.body
    assert b"\x1f\x8b" in form.body


def test_deploy_from_git_sends_the_commit(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for step in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "first"]):
        subprocess.run(
            ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.test", *step],
            cwd=source,
            check=True,
            capture_output=True,
        )
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=source, check=True, capture_output=True, text=True
    ).stdout.strip()

    def route(handler: Handler) -> None:
        sha = parse_qs(urlsplit(handler.path).query)["sha"][0]
        lines({"build": {**BUILD, "sha": sha}, "release": {"version": 4}})(handler)

    routes = {("POST", SOURCES): route, ("GET", f"/v2/apps/{APP}/"): app_route}
    with FakeController(routes) as fake:
        result = run(fake, "deploy", str(source), "-a", APP)
    assert result.exit_code == 0, result.output
    assert fake.requests[0].path == f"{SOURCES}?sha={head}"
    assert f"Deployed {head[:7]} to {APP} as v4 in " in result.stdout
