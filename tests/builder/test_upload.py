"""``POST /v2/apps/<id>/sources``: a source archive uploaded, checked, built and deployed,
with the build's output streamed back as ndjson; and ``dockyard deploy``, which packs a
directory the controller cannot see and uploads it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builder.apps import plain_app
from tests.builder.conftest import Controller, Pusher, Users, write_files
from tests.builder.conftest import wait_for as served


def tarball(files: dict[str, str | bytes], *, mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload(
    pusher: Pusher, app: str, content: bytes, *, content_type: str = "application/gzip", **kw: Any
) -> tuple[int, list[dict[str, Any]], str]:
    """Status, the ndjson events (when 200) and the raw body."""
    with httpx.stream(
        "POST",
        f"{pusher.controller.url}/v2/apps/{app}/sources/",
        content=content,
        headers={**pusher.headers, "Content-Type": content_type},
        timeout=300,
        **kw,
    ) as response:
        body = response.read().decode()
        if response.status_code != 200:
            return response.status_code, [], body
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return 200, [json.loads(line) for line in body.splitlines() if line.strip()], body


def test_an_upload_builds_deploys_and_streams_its_output(
    alice: Pusher, controller: Controller
) -> None:
    app = alice.create_app()

    status, events, body = upload(
        alice, app, tarball(plain_app("uploaded")), params={"sha": "abc1234"}
    )

    assert status == 200, body
    logs = [e["log"] for e in events[:-1]]
    assert all(set(e) == {"log"} for e in events[:-1])
    assert "-----> No buildpack applies; using the source as it is, with its Procfile" in logs
    assert "       Released v2" in logs
    final = events[-1]
    assert final["release"]["version"] == 2
    assert final["release"]["summary"] == f"{alice.username} deployed abc1234"
    assert final["build"]["status"] == "succeeded" and final["build"]["sha"] == "abc1234"
    assert final["url"] == f"http://{app}.example.test:{controller.router_port}/"
    served(app, controller, "uploaded")
    with alice.client as client:
        assert "Released v2" in client.build_log(app, final["build"]["uuid"])


def test_a_form_upload_takes_a_procfile_and_a_sha(alice: Pusher, controller: Controller) -> None:
    app = alice.create_app()
    files = plain_app("from a form")
    del files["Procfile"]

    response = httpx.post(
        f"{controller.url}/v2/apps/{app}/sources",
        headers=alice.headers,
        files={"source": ("app.tar.gz", tarball(files), "application/gzip")},
        data={"procfile": "web: python3 web.py\n", "sha": "deadbeef"},
        timeout=300,
    )

    assert response.status_code == 200, response.text
    final = json.loads(response.text.splitlines()[-1])
    assert final["build"]["procfile"] == {"web": "python3 web.py"}
    assert final["release"]["summary"] == f"{alice.username} deployed deadbee"
    served(app, controller, "from a form")


def test_a_failed_build_answers_an_error_line_and_keeps_the_old_release(
    alice: Pusher, controller: Controller
) -> None:
    app = alice.create_app()
    assert upload(alice, app, tarball(plain_app("first")))[0] == 200
    served(app, controller, "first")

    status, events, _ = upload(alice, app, tarball({"README": "no Procfile, no buildpack\n"}))

    assert status == 200
    assert events[-1]["error"].startswith("Build failed: No buildpack applies to this app")
    assert "first" in controller.get(app).text
    with alice.client as client:
        assert [b["status"] for b in client.builds(app)][:2] == ["failed", "succeeded"]


@pytest.mark.parametrize(
    ("member", "kind", "message"),
    [
        ("../evil", tarfile.REGTYPE, "'../evil'"),
        ("/abs/path", tarfile.REGTYPE, "'/abs/path'"),
        ("link", tarfile.SYMTYPE, "'link'"),
        ("dev", tarfile.CHRTYPE, "'dev'"),
    ],
)
def test_unsafe_archives_are_refused_naming_the_entry(
    alice: Pusher, controller: Controller, member: str, kind: bytes, message: str
) -> None:
    app = alice.create_app()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(member)
        info.type = kind
        if kind == tarfile.SYMTYPE:
            info.linkname = "/etc/passwd"
        data = b"" if kind != tarfile.REGTYPE else b"pwned\n"
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    status, _, body = upload(alice, app, buffer.getvalue())

    assert status == 400
    assert message in json.loads(body)["source"][0]
    with alice.client as client:
        assert client.builds(app) == []


def test_size_limits_and_content_types(alice: Pusher, controller: Controller) -> None:
    app = alice.create_app()
    # DOCKYARD_MAX_SOURCE_SIZE is 2M on the test controller.
    status, _, body = upload(alice, app, os.urandom(3 * 1024 * 1024))
    assert status == 413
    assert "DOCKYARD_MAX_SOURCE_SIZE" in json.loads(body)["detail"]

    bomb = tarball({"zeros": b"\0" * (3 * 1024 * 1024)})
    assert len(bomb) < 100_000
    status, _, body = upload(alice, app, bomb)
    assert status == 400
    assert "unpacks to more than" in body

    status, _, body = upload(alice, app, b'{"image": "x"}', content_type="application/json")
    assert status == 415
    assert "application/gzip" in json.loads(body)["detail"]

    status, _, body = upload(alice, app, b"")
    assert status == 400

    status, _, body = upload(alice, app, b"this is not a tarball at all")
    assert status == 400
    assert "not a valid .tar.gz archive" in body


def test_who_may_upload(users: Users, controller: Controller) -> None:
    alice, bob = users.make("alice"), users.make("bob")
    app = alice.create_app()
    source = tarball(plain_app())

    assert upload(bob, app, source)[0] == 403
    assert upload(alice, "no-such-app", source)[0] == 404
    anonymous = httpx.post(
        f"{controller.url}/v2/apps/{app}/sources",
        content=source,
        headers={"Content-Type": "application/gzip"},
    )
    assert anonymous.status_code == 401


def test_two_builds_of_one_app_take_turns_and_the_second_says_it_waits(
    alice: Pusher, controller: Controller
) -> None:
    app = alice.create_app()
    pack = controller.sources / f"slow-{app}"
    write_files(
        pack,
        {"bin/compile": '#!/bin/sh\necho "compiling"\nsleep 1.5\necho "compiled"\n'},
    )
    pack.chmod(0o755)
    with alice.client as client:
        client.set_config(app, values={"BUILDPACK_URL": f"file://{pack}"})
    results: list[tuple[int, list[dict[str, Any]], str]] = []

    def one(text: str) -> None:
        results.append(upload(alice, app, tarball(plain_app(text))))

    threads = [threading.Thread(target=one, args=(t,)) for t in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [r[0] for r in results] == [200, 200]
    logs = [[e.get("log", "") for e in r[1]] for r in results]
    waited = [any("Waiting for the build of" in line for line in log) for log in logs]
    assert sorted(waited) == [False, True]
    versions = sorted(r[1][-1]["release"]["version"] for r in results)
    assert versions == [3, 4]  # v2 was the BUILDPACK_URL config change


def test_dockyard_deploy_uploads_a_directory_the_controller_cannot_see(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    source = tmp_path / "mysite"
    write_files(source, {**plain_app("deployed by the cli"), ".dockyardignore": "secret.txt\n"})
    (source / "secret.txt").write_text("not for the controller\n")
    env = {
        **os.environ,
        "HOME": str(alice.home),
        "DOCKYARD_URL": controller.url,
        "DOCKYARD_TOKEN": alice.token,
    }

    done = subprocess.run(
        [sys.executable, "-m", "dockyard", "deploy", str(source), "-a", app],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "-----> No buildpack applies" in done.stdout
    assert f"to {app} as v2" in done.stdout
    served(app, controller, "deployed by the cli")
    slugs = controller.data_dir / "builds" / app
    assert not list(slugs.glob("*/secret.txt"))
    assert list(slugs.glob("*/text.txt"))

    (source / "Procfile").write_text("web: exit 7\n")
    failed = subprocess.run(
        [sys.executable, "-m", "dockyard", "deploy", str(source), "-a", app],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode == 1
    assert "Deploy failed" in failed.stderr
    assert "deployed by the cli" in controller.get(app).text
