"""Slugs: each build's is kept for rollback, but only those of the last
``DOCKYARD_KEEP_RELEASES`` releases (4 on the test controller); rolling back to a release
whose slug is gone is a 400 that says so. A finished slug is the controller's, read-only."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.builder.apps import plain_app
from tests.builder.conftest import KEEP_RELEASES, Controller, Pusher, commit, make_repo
from tests.builder.conftest import wait_for as served


def test_old_slugs_are_deleted_and_rolling_back_to_them_is_refused(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("v2 text"), home=alice.home)
    assert alice.push(repo, app).returncode == 0
    for version in range(3, 3 + KEEP_RELEASES + 1):
        commit(alice, repo, {"text.txt": f"v{version} text\n"})
        assert alice.push(repo, app).returncode == 0
    newest = 2 + KEEP_RELEASES + 1
    served(app, controller, f"v{newest} text")
    slugs = controller.data_dir / "builds" / app
    assert len(list(slugs.iterdir())) == KEEP_RELEASES

    gone = httpx.post(
        f"{controller.url}/v2/apps/{app}/releases/rollback/",
        json={"version": 2},
        headers=alice.headers,
    )
    assert gone.status_code == 400
    assert "Cannot roll back to v2: its slug was deleted" in gone.json()["detail"]

    kept = newest - 1
    with alice.client as client:
        assert client.rollback(app, kept) == newest + 1
    served(app, controller, f"v{kept} text")


def test_a_slug_is_read_only_for_the_app(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("sealed"), home=alice.home)
    assert alice.push(repo, app).returncode == 0
    (slug,) = (controller.data_dir / "builds" / app).iterdir()

    for path in [slug, *slug.rglob("*")]:
        info = path.lstat()
        assert info.st_mode & 0o022 == 0, path  # nobody but the owner may write
        if os.geteuid() == 0:
            assert info.st_uid == 0, path
