"""``git push`` and ``git clone`` over HTTP (``<controller>/git/<app>.git``), with the API
token as the Basic password: the same build stream, rejection and permissions as SSH."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.builder.apps import plain_app
from tests.builder.conftest import Controller, Pusher, Users, commit, make_repo
from tests.builder.conftest import wait_for as served


def test_a_push_over_http_builds_and_serves(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("over http"), home=alice.home)

    pushed = alice.push(repo, app, url=alice.http_url(app))

    assert pushed.returncode == 0, pushed.stderr
    assert "remote: -----> No buildpack applies; using the source as it is" in pushed.stderr
    assert "remote:        Released v2" in pushed.stderr
    served(app, controller, "over http")

    clone = tmp_path / "clone"
    alice.git(tmp_path, "clone", "-q", alice.http_url(app), str(clone))
    assert (clone / "text.txt").read_text() == "over http\n"


def test_a_failed_build_over_http_rejects_the_push(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("kept"), home=alice.home)
    assert alice.push(repo, app, url=alice.http_url(app)).returncode == 0
    commit(alice, repo, {"Procfile": "web python3 web.py\n"})  # no colon: not a Procfile

    pushed = alice.push(repo, app, url=alice.http_url(app))

    assert pushed.returncode != 0
    assert "The Procfile is not valid" in pushed.stderr
    assert "pre-receive hook declined" in pushed.stderr
    served(app, controller, "kept")


def test_http_credentials_are_checked(users: Users, controller: Controller, tmp_path: Path) -> None:
    alice, bob = users.make("alice"), users.make("bob")
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app(), home=alice.home)

    wrong = alice.push(repo, app, url=alice.http_url(app, token="not-a-token"))
    assert wrong.returncode != 0
    assert "Authentication failed" in wrong.stderr

    theirs = bob.push(repo, app, url=bob.http_url(app))
    assert theirs.returncode != 0
    assert "403" in theirs.stderr

    port = controller.url.rsplit(":", 1)[1]
    bare = httpx.get(f"http://127.0.0.1:{port}/git/{app}.git/info/refs?service=git-receive-pack")
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"].startswith("Basic ")
    assert "API token as the password" in bare.json()["detail"]

    dumb = httpx.get(
        f"http://127.0.0.1:{port}/git/{app}.git/info/refs", auth=(alice.username, alice.token)
    )
    assert dumb.status_code == 400
    assert "smart HTTP" in dumb.text

    missing = httpx.get(
        f"http://127.0.0.1:{port}/git/no-such-app.git/info/refs?service=git-upload-pack",
        auth=(alice.username, alice.token),
    )
    assert missing.status_code == 404
