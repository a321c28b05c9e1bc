"""Each built-in buildpack through a real ``git push`` (Node.js, Go, a static site), custom
buildpacks named by ``BUILDPACK_URL`` and ``.buildpacks``, and the buildpacks
administrators install through ``/v2/buildpacks``."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.builder.conftest import ADMIN, PASSWORD, Controller, Pusher, Users, make_repo
from tests.builder.conftest import wait_for as served

NODE_SERVER = """
const http = require("http");
const fs = require("fs");
http.createServer((req, res) => {
  res.end(fs.readFileSync("built.txt", "utf8") + " env=" + process.env.NODE_ENV);
}).listen(process.env.PORT, "127.0.0.1");
"""
GO_SERVER = """package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from go")
	})
	http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
}
"""


def test_a_node_app(alice: Pusher, controller: Controller, tmp_path: Path) -> None:
    app = alice.create_app()
    package = (
        '{"name": "shop", "version": "1.0.0", "scripts": '
        "{\"build\": \"node -e \\\"require('fs').writeFileSync('built.txt', 'node built')\\\"\", "
        '"start": "node server.js"}}\n'
    )
    repo = make_repo(
        tmp_path / "node", {"package.json": package, "server.js": NODE_SERVER}, home=alice.home
    )

    pushed = alice.push(repo, app)

    assert pushed.returncode == 0, pushed.stderr
    assert "remote: -----> Node.js app detected" in pushed.stderr
    assert "Default types for buildpack -> web" in pushed.stderr
    assert served(app, controller, "node built") == "node built env=production"


@pytest.mark.skipif(shutil.which("go") is None, reason="Go is not installed on this host")
def test_a_go_app(alice: Pusher, controller: Controller, tmp_path: Path) -> None:
    app = alice.create_app()
    files = {"go.mod": "module example.com/hello\n\ngo 1.19\n", "main.go": GO_SERVER}
    repo = make_repo(tmp_path / "go", files, home=alice.home)

    pushed = alice.push(repo, app)

    assert pushed.returncode == 0, pushed.stderr
    assert "remote: -----> Go app detected" in pushed.stderr
    served(app, controller, "hello from go", timeout=30)
    with alice.client as client:
        assert client.builds(app)[0]["procfile"] == {"web": "bin/hello"}


def test_a_static_site(alice: Pusher, controller: Controller, tmp_path: Path) -> None:
    app = alice.create_app()
    files = {"public/index.html": "<h1>static home</h1>\n", "notes.md": "private\n"}
    repo = make_repo(tmp_path / "site", files, home=alice.home)

    pushed = alice.push(repo, app)

    assert pushed.returncode == 0, pushed.stderr
    assert "remote: -----> Static app detected" in pushed.stderr
    served(app, controller, "static home")
    assert controller.get(app, "/notes.md").status_code == 404
    missing = controller.get(app, "/nope.html")
    assert missing.status_code == 404


def _buildpack(root: Path, name: str, compile_: str, release: str | None = None) -> Path:
    pack = root / name
    (pack / "bin").mkdir(parents=True)
    (pack / "bin" / "compile").write_text("#!/bin/sh\nset -e\n" + compile_)
    if release is not None:
        (pack / "bin" / "release").write_text(f"#!/bin/sh\ncat <<'EOF'\n{release}EOF\n")
    for script in (pack / "bin").iterdir():
        script.chmod(0o755)
    pack.chmod(0o755)
    return pack


def test_buildpack_url_names_a_custom_buildpack_whose_release_gives_the_process_types(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    pack = _buildpack(
        controller.sources / app,
        "hello-pack",
        'echo "-----> Compiling with hello-pack"\n'
        'printf "print(\\"custom compiled\\")\\n" > "$1/made.py"\n'
        'cp "$1/server.py" "$1/web.py"\n',
        "---\ndefault_process_types:\n  web: python3 web.py\n  tick: 'sleep 3600'\n",
    )
    server = (
        "import os\nfrom http.server import BaseHTTPRequestHandler, HTTPServer\n"
        "class H(BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers()\n"
        "        self.wfile.write(open('made.py').read().encode())\n"
        "HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n"
    )
    with alice.client as client:
        client.set_config(app, values={"BUILDPACK_URL": f"file://{pack}"})
    repo = make_repo(tmp_path / "app", {"server.py": server}, home=alice.home)

    pushed = alice.push(repo, app)

    assert pushed.returncode == 0, pushed.stderr
    assert "remote: -----> Compiling with hello-pack" in pushed.stderr
    assert "Default types for buildpack -> tick, web" in pushed.stderr
    served(app, controller, "custom compiled")
    with alice.client as client:
        assert client.builds(app)[0]["procfile"] == {"web": "python3 web.py", "tick": "sleep 3600"}


def test_dot_buildpacks_runs_several_in_order_and_a_procfile_wins(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    first = _buildpack(
        controller.sources / app,
        "first",
        'echo "first ran"\nmkdir -p "$1/out"\necho one > "$1/out/first.txt"\n'
        'echo "export FROM_FIRST=yes" > "$(dirname "$0")/../export"\n',
        "---\ndefault_process_types:\n  web: this-is-overridden\n",
    )
    second = _buildpack(
        controller.sources / app,
        "second",
        'echo "second ran after first: $(cat "$1/out/first.txt") FROM_FIRST=$FROM_FIRST"\n',
    )
    files = {
        ".buildpacks": f"# two buildpacks\n{first}\nfile://{second}\n",
        "Procfile": "web: python3 -m http.server --bind 127.0.0.1 $PORT --directory out\n",
    }
    repo = make_repo(tmp_path / "app", files, home=alice.home)

    pushed = alice.push(repo, app)

    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stderr.index("first ran") < pushed.stderr.index("second ran")
    assert "second ran after first: one FROM_FIRST=yes" in pushed.stderr
    served(app, controller, "first.txt")  # the directory listing of out/


def test_buildpacks_off_this_host_or_outside_the_source_roots_are_refused(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", {"Procfile": "web: sleep 100\n"}, home=alice.home)
    for spec, message in (
        ("https://github.com/heroku/heroku-buildpack-python", "is a URL"),
        ("/etc", "is not under a directory listed in DOCKYARD_LOCAL_SOURCE_ROOTS"),
        (str(controller.data_dir), "is not under a directory listed in"),
        ("no-such-pack", "There is no buildpack named no-such-pack"),
    ):
        with alice.client as client:
            client.set_config(app, values={"BUILDPACK_URL": spec})
        pushed = alice.push(repo, app)
        assert pushed.returncode != 0, spec
        assert message in pushed.stderr, (spec, pushed.stderr)


def _pack_archive(pack: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(pack, arcname="mypack")
    return buffer.getvalue()


def test_administrators_install_buildpacks_that_apps_name(
    users: Users, controller: Controller, tmp_path: Path
) -> None:
    alice = users.make("alice")
    pack = _buildpack(
        tmp_path,
        "greeter",
        'echo "-----> greeter compiling"\necho "installed pack" > "$1/text.txt"\n',
        "---\ndefault_process_types:\n  web: python3 -m http.server --bind 127.0.0.1 $PORT\n",
    )
    name = f"greeter-{tmp_path.name[-6:]}".lower().replace("_", "-")
    admin = httpx.Client(base_url=controller.url, timeout=60)
    token = admin.post("/v2/auth/login", json={"username": ADMIN, "password": PASSWORD}).json()
    admin.headers["Authorization"] = f"token {token['token']}"
    files = {"buildpack": ("greeter.tar.gz", _pack_archive(pack), "application/gzip")}

    refused = httpx.post(
        f"{controller.url}/v2/buildpacks", headers=alice.headers, data={"name": name}, files=files
    )
    assert refused.status_code == 403
    added = admin.post("/v2/buildpacks", data={"name": name}, files=files)
    assert added.status_code == 201, added.text
    assert added.json()["name"] == name and added.json()["owner"] == ADMIN
    assert admin.post("/v2/buildpacks", data={"name": name}, files=files).status_code == 409
    assert admin.post("/v2/buildpacks", data={"name": "python"}, files=files).status_code == 400
    listed = httpx.get(f"{controller.url}/v2/buildpacks", headers=alice.headers).json()
    assert name in [b["name"] for b in listed["results"]]
    empty = {"buildpack": ("x.tar.gz", b"not an archive", "application/gzip")}
    assert admin.post("/v2/buildpacks", data={"name": "broken"}, files=empty).status_code == 400

    try:
        app = alice.create_app()
        with alice.client as client:
            client.set_config(app, values={"BUILDPACK_URL": name})
        repo = make_repo(tmp_path / "app", {"README": "hi\n"}, home=alice.home)
        pushed = alice.push(repo, app)
        assert pushed.returncode == 0, pushed.stderr
        assert "remote: -----> greeter compiling" in pushed.stderr
        served(app, controller, "text.txt")
    finally:
        assert admin.delete(f"/v2/buildpacks/{name}").status_code == 204
    assert admin.delete(f"/v2/buildpacks/{name}").status_code == 404
    admin.close()
