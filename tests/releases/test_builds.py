"""Builds through the HTTP API on the local scheduler: sources (directory, archive, file://
URL), the Procfile and its override, the copy in the data dir, and the refusals."""

from __future__ import annotations

import io
import os
import re
import tarfile
from pathlib import Path

import httpx
import pytest

from dockyard.core.settings import Settings
from dockyard.scheduler.local.client import LocalScheduler
from tests.conftest import Account, create_app_for
from tests.releases.helpers import (
    POD_NAME,
    build,
    built,
    logs,
    message,
    pods,
    releases,
    run_output,
    structure,
    web_env,
    write_app,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SHA = "5f3c2b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"


def make_tarball(source: Path, target: Path, *, top: str | None = "app") -> Path:
    """``source`` packed into ``target`` (gzip if it ends in .gz), under ``top/`` if given."""
    mode = "w:gz" if target.name.endswith(".gz") else "w"
    with tarfile.open(target, mode) as archive:
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source)
            archive.add(path, arcname=str(Path(top) / rel) if top else str(rel), recursive=False)
    return target


async def builds_on_disk(settings: Settings, app: str) -> list[str]:
    root = settings.data_dir / "builds" / app
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


# --- successful builds ----------------------------------------------------------------------


async def test_build_from_directory_deploys_release_v2(
    client: httpx.AsyncClient,
    user: Account,
    source: Path,
    marker: str,
    settings: Settings,
    scheduler: LocalScheduler,
) -> None:
    await create_app_for(client, user, "bld-dir")
    r = await build(client, user, "bld-dir", source, sha=SHA)
    assert r.status_code == 201, r.text
    assert r.headers["Deis-Release"] == "2"
    assert r.headers["X-Deis-Release"] == "2"
    body = r.json()
    assert set(body) == {
        "uuid",
        "app",
        "owner",
        "image",
        "sha",
        "procfile",
        "dockerfile",
        "created",
        "updated",
        "status",
        "buildpack",
    }
    assert body["status"] == "succeeded"
    assert body["buildpack"] == ""
    assert UUID.match(body["uuid"])
    assert TIMESTAMP.match(body["created"])
    assert body["app"] == "bld-dir"
    assert body["owner"] == "alice"
    assert body["image"] == str(source)
    assert body["sha"] == SHA
    assert body["procfile"] == {
        "web": f"python3 web.py {marker}",
        "worker": f"python3 worker.py {marker}",
    }

    # The release: v2, newest first, pointing at the build, with the sha's short form.
    listed = await releases(client, user, "bld-dir")
    assert [x["version"] for x in listed] == [2, 1]
    assert listed[0]["summary"] == f"alice deployed {SHA[:7]}"
    assert listed[0]["build"] == body["uuid"]
    assert listed[0]["failed"] is False
    assert listed[1]["build"] is None
    assert listed[0]["config"] == listed[1]["config"]  # the config did not change

    # Default structure web: 1 (the procfile has web), one web pod up, on v2.
    assert await structure(client, user, "bld-dir") == {"web": 1}
    running = await pods(client, user, "bld-dir")
    assert len(running) == 1
    pod = running[0]
    assert re.match(POD_NAME.format(app="bld-dir", type="web"), pod["name"]), pod
    assert pod["type"] == "web"
    assert pod["state"] == "up"
    assert pod["release"] == "v2"
    assert TIMESTAMP.match(pod["started"])

    # The web process serves, with the injected env.
    (answer,) = await web_env(scheduler, "bld-dir")
    env = answer["env"]
    assert answer["version"] == "one"
    assert answer["argv"] == ["web.py", marker]
    assert env["PORT"] == str(answer["port"])
    assert env["DEIS_APP"] == env["DRYCC_APP"] == "bld-dir"
    assert env["WORKFLOW_RELEASE"] == "v2"
    assert env["WORKFLOW_RELEASE_SUMMARY"] == f"alice deployed {SHA[:7]}"
    assert TIMESTAMP.match(env["WORKFLOW_RELEASE_CREATED_AT"])
    assert env["SOURCE_VERSION"] == SHA

    # The build is a copy in the data dir: list and detail.
    assert await builds_on_disk(settings, "bld-dir") == [body["uuid"]]
    r = await client.get("/v2/apps/bld-dir/builds", headers=user.headers)
    assert r.status_code == 200
    assert r.json()["count"] == 1
    assert r.json()["results"][0] == body
    r = await client.get(f"/v2/apps/bld-dir/builds/{body['uuid']}/", headers=user.headers)
    assert r.status_code == 200
    assert r.json() == body
    r = await client.get(
        "/v2/apps/bld-dir/builds/00000000-0000-0000-0000-000000000000", headers=user.headers
    )
    assert r.status_code == 404

    # The deploy is a controller event in the logs.
    assert f"bld-dir[dockyard]: alice deployed {SHA[:7]} (v2)" in await logs(
        client, user, "bld-dir"
    )


async def test_later_changes_to_the_source_do_not_affect_the_build(
    client: httpx.AsyncClient,
    user: Account,
    source: Path,
    settings: Settings,
    scheduler: LocalScheduler,
) -> None:
    await create_app_for(client, user, "bld-copy")
    body = await built(client, user, "bld-copy", source)
    (source / "version.txt").write_text("two\n")
    (source / "Procfile").write_text("web: exit 1\n")
    (source / "web.py").unlink()

    (answer,) = await web_env(scheduler, "bld-copy")
    assert answer["version"] == "one"
    cwd = (await run_output(client, user, "bld-copy", "pwd; cat version.txt")).split()
    assert cwd == [str(settings.data_dir / "builds" / "bld-copy" / body["uuid"]), "one"]
    # Without a sha the summary names the image.
    assert (await releases(client, user, "bld-copy"))[0]["summary"] == f"alice deployed {source}"


async def test_build_from_tar_gz_with_procfile_override(
    client: httpx.AsyncClient,
    user: Account,
    source: Path,
    tmp_path: Path,
    marker: str,
    scheduler: LocalScheduler,
) -> None:
    """The archive unpacks (its single top directory flattened); the request's procfile
    replaces the Procfile of the source, and only its types exist."""
    archive = make_tarball(source, tmp_path / "app.tar.gz")
    await create_app_for(client, user, "bld-tgz")
    procfile = {"web": f"python3 web.py {marker} override", "clock": "sleep 1000"}
    body = await built(client, user, "bld-tgz", archive, procfile=procfile)
    assert body["procfile"] == procfile
    assert body["image"] == str(archive)
    (answer,) = await web_env(scheduler, "bld-tgz")
    assert answer["argv"] == ["web.py", marker, "override"]
    assert answer["version"] == "one"
    # worker came from the Procfile only, so it is not a type of this build.
    r = await client.post("/v2/apps/bld-tgz/scale", json={"worker": 1}, headers=user.headers)
    assert r.status_code == 404
    assert message(r) == "Container type worker does not exist in application"
    listing = await run_output(client, user, "bld-tgz", "ls")
    assert listing.split() == ["Procfile", "version.txt", "web.py", "worker.py"]


async def test_build_from_file_url_of_a_plain_tar(
    client: httpx.AsyncClient, user: Account, source: Path, tmp_path: Path, marker: str
) -> None:
    """A file:// URL to an archive without a top directory; a procfile without web starts
    nothing (structure stays empty) until scaled."""
    archive = make_tarball(source, tmp_path / "flat.tar", top=None)
    await create_app_for(client, user, "bld-url")
    procfile = {"worker": f"python3 worker.py {marker}"}
    body = await built(client, user, "bld-url", f"file://{archive}", procfile=procfile)
    assert body["image"] == f"file://{archive}"
    assert await structure(client, user, "bld-url") == {}
    assert await pods(client, user, "bld-url") == []
    assert (await run_output(client, user, "bld-url", "cat version.txt")) == "one\n"
    r = await client.post("/v2/apps/bld-url/scale", json={"worker": 1}, headers=user.headers)
    assert r.status_code == 204, r.text
    (pod,) = await pods(client, user, "bld-url")
    assert pod["type"] == "worker" and pod["state"] == "up" and pod["release"] == "v2"


async def test_file_url_of_a_directory_and_localhost(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    await create_app_for(client, user, "bld-url-dir")
    # A procfile with no web type: nothing starts, so the build is quick.
    built_ = await built(
        client, user, "bld-url-dir", f"file://localhost{source}", procfile={"job": "true"}
    )
    assert built_["procfile"] == {"job": "true"}
    r = await build(client, user, "bld-url-dir", f"file://otherhost{source}")
    assert r.status_code == 400
    assert message(r) == "file:// URLs must name a path on this host"


async def test_new_build_keeps_scale_and_drops_vanished_types(
    client: httpx.AsyncClient, user: Account, source: Path, marker: str
) -> None:
    await create_app_for(client, user, "bld-keep")
    await built(client, user, "bld-keep", source)
    r = await client.post("/v2/apps/bld-keep/scale", json={"worker": 1}, headers=user.headers)
    assert r.status_code == 204
    assert await structure(client, user, "bld-keep") == {"web": 1, "worker": 1}
    # The next build has no worker: it is scaled to 0 and its pod stops.
    await built(client, user, "bld-keep", source, procfile={"web": f"python3 web.py {marker}"})
    assert await structure(client, user, "bld-keep") == {"web": 1}
    running = await pods(client, user, "bld-keep")
    assert [(p["type"], p["release"], p["state"]) for p in running] == [("web", "v3", "up")]


# --- refusals -------------------------------------------------------------------------------


async def assert_nothing_created(
    client: httpx.AsyncClient, user: Account, app: str, settings: Settings
) -> None:
    assert [x["version"] for x in await releases(client, user, app)] == [1]
    r = await client.get(f"/v2/apps/{app}/builds", headers=user.headers)
    assert r.json()["count"] == 0
    assert await builds_on_disk(settings, app) == []


@pytest.mark.parametrize(
    "procfile",
    [{"web": ""}, {"web": "   "}, {"web": "python3 web.py", "worker": ""}],
)
async def test_empty_command_in_request_procfile(
    client: httpx.AsyncClient,
    user: Account,
    source: Path,
    settings: Settings,
    procfile: dict[str, str],
) -> None:
    await create_app_for(client, user, "bld-empty")
    r = await build(client, user, "bld-empty", source, procfile=procfile)
    assert r.status_code == 400
    assert r.json() == {"procfile": ["Command can't be empty for process type"]}
    await assert_nothing_created(client, user, "bld-empty", settings)


async def test_empty_command_in_source_procfile(
    client: httpx.AsyncClient, user: Account, tmp_path: Path, marker: str, settings: Settings
) -> None:
    src = write_app(tmp_path / "bad", marker, procfile="web: python3 web.py\nworker:\n")
    await create_app_for(client, user, "bld-empty-src")
    r = await build(client, user, "bld-empty-src", src)
    assert r.status_code == 400
    assert message(r) == "Command can't be empty for process type"
    await assert_nothing_created(client, user, "bld-empty-src", settings)


async def test_bad_procfile_type_and_line(
    client: httpx.AsyncClient, user: Account, tmp_path: Path, marker: str, settings: Settings
) -> None:
    await create_app_for(client, user, "bld-badproc")
    r = await build(client, user, "bld-badproc", tmp_path, procfile={"Web_1": "true"})
    assert r.status_code == 400
    assert "Process types can only contain" in message(r)
    src = write_app(tmp_path / "bad", marker, procfile="web python3 web.py\n")
    r = await build(client, user, "bld-badproc", src)
    assert r.status_code == 400
    assert message(r) == "Procfile line 1 is not 'type: command'"
    await assert_nothing_created(client, user, "bld-badproc", settings)


@pytest.mark.parametrize("image", ["nginx:latest", "deis/example-go", "quay.io/a/b@sha256:00"])
async def test_container_image_needs_kubernetes(
    client: httpx.AsyncClient, user: Account, settings: Settings, image: str
) -> None:
    await create_app_for(client, user, "bld-image")
    r = await build(client, user, "bld-image", image)
    assert r.status_code == 400
    text = message(r)
    assert text.startswith(f"{image} looks like a container image")
    assert "kubernetes scheduler" in text
    await assert_nothing_created(client, user, "bld-image", settings)


async def test_relative_path_and_blank_image(
    client: httpx.AsyncClient, user: Account, settings: Settings
) -> None:
    await create_app_for(client, user, "bld-rel")
    r = await build(client, user, "bld-rel", "./app dir")
    assert r.status_code == 400
    assert message(r).startswith("image must be an absolute directory path")
    r = await build(client, user, "bld-rel", "  ")
    assert r.status_code == 400
    assert r.json() == {"image": ["This field may not be blank."]}
    r = await client.post("/v2/apps/bld-rel/builds", json={}, headers=user.headers)
    assert r.status_code == 400
    assert r.json() == {"image": ["This field is required."]}
    await assert_nothing_created(client, user, "bld-rel", settings)


async def test_path_outside_source_roots(
    client: httpx.AsyncClient,
    user: Account,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    marker: str,
    settings: Settings,
) -> None:
    outside = write_app(tmp_path_factory.mktemp("outside"), marker)
    await create_app_for(client, user, "bld-outside")
    for image in (str(outside), f"file://{outside}", f"{tmp_path}/../{outside.name}"):
        r = await build(client, user, "bld-outside", image)
        assert r.status_code == 400, image
        text = message(r)
        assert "is not under a directory listed in DOCKYARD_LOCAL_SOURCE_ROOTS" in text
        assert f"({tmp_path})" in text
    # A symlink under the roots that points outside is judged by its target.
    (tmp_path / "link").symlink_to(outside)
    r = await build(client, user, "bld-outside", tmp_path / "link")
    assert r.status_code == 400
    assert "DOCKYARD_LOCAL_SOURCE_ROOTS" in message(r)
    await assert_nothing_created(client, user, "bld-outside", settings)


async def test_missing_path_and_wrong_file_type(
    client: httpx.AsyncClient, user: Account, tmp_path: Path, settings: Settings
) -> None:
    await create_app_for(client, user, "bld-missing")
    r = await build(client, user, "bld-missing", tmp_path / "nope")
    assert r.status_code == 400
    assert message(r) == f"{tmp_path / 'nope'} does not exist"
    (tmp_path / "app.zip").write_bytes(b"PK")
    r = await build(client, user, "bld-missing", tmp_path / "app.zip")
    assert r.status_code == 400
    assert message(r) == f"{tmp_path / 'app.zip'} is neither a directory nor a .tar/.tar.gz archive"
    (tmp_path / "broken.tar.gz").write_bytes(b"not a tarball")
    r = await build(client, user, "bld-missing", tmp_path / "broken.tar.gz")
    assert r.status_code == 400
    assert message(r).startswith("Could not unpack broken.tar.gz")
    await assert_nothing_created(client, user, "bld-missing", settings)


async def test_archive_escaping_its_directory_is_refused(
    client: httpx.AsyncClient, user: Account, tmp_path: Path, settings: Settings
) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        data = b"web: true\n"
        info = tarfile.TarInfo("../../escaped-procfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    await create_app_for(client, user, "bld-evil")
    r = await build(client, user, "bld-evil", archive)
    assert r.status_code == 400
    assert message(r).startswith("Could not unpack evil.tar")
    for escaped in (tmp_path, settings.data_dir, settings.data_dir / "builds"):
        assert "escaped-procfile" not in os.listdir(escaped)
    await assert_nothing_created(client, user, "bld-evil", settings)


async def test_no_procfile_and_none_given(
    client: httpx.AsyncClient, user: Account, tmp_path: Path, marker: str, settings: Settings
) -> None:
    src = write_app(tmp_path / "noproc", marker, procfile=None)
    await create_app_for(client, user, "bld-noproc")
    r = await build(client, user, "bld-noproc", src)
    assert r.status_code == 400
    assert r.json() == {
        "procfile": ["No Procfile: add one to the source or pass procfile in the request"]
    }
    # An empty procfile in the request is no procfile either.
    r = await build(client, user, "bld-noproc", src, procfile={})
    assert r.status_code == 400
    assert "No Procfile" in message(r)
    await assert_nothing_created(client, user, "bld-noproc", settings)


async def test_source_overlapping_the_data_dir_is_refused(
    client: httpx.AsyncClient, user: Account, tmp_path: Path, marker: str, settings: Settings
) -> None:
    """The source roots here hold the data dir. Building the root itself used to copy the
    copy into itself until the path was too long (a 500 and a deep tree left on disk);
    building from inside the data dir would hand another app's build, or the database, to
    the app."""
    write_app(tmp_path, marker)
    await create_app_for(client, user, "bld-overlap")
    r = await build(client, user, "bld-overlap", tmp_path, procfile={"job": "true"})
    assert r.status_code == 400
    assert message(r) == f"{tmp_path} overlaps the controller's data directory and cannot be built"
    (settings.data_dir / "builds" / "other").mkdir(parents=True)
    r = await build(client, user, "bld-overlap", settings.data_dir / "builds" / "other")
    assert r.status_code == 400
    assert "overlaps the controller's data directory" in message(r)
    await assert_nothing_created(client, user, "bld-overlap", settings)


async def test_uncopyable_source_is_a_clean_400(
    client: httpx.AsyncClient, user: Account, tmp_path: Path, marker: str, settings: Settings
) -> None:
    """A FIFO in the source cannot be copied: 400 (not a 500), and no partial copy left."""
    src = write_app(tmp_path / "fifo", marker)
    os.mkfifo(src / "pipe")
    await create_app_for(client, user, "bld-fifo")
    r = await build(client, user, "bld-fifo", src)
    assert r.status_code == 400
    assert message(r).startswith(f"Could not copy {src}: ")
    await assert_nothing_created(client, user, "bld-fifo", settings)


async def test_builds_of_another_users_app_are_forbidden(
    client: httpx.AsyncClient, user: Account, admin: Account, accounts, source: Path
) -> None:
    other = await accounts.make("mallory")
    await create_app_for(client, user, "bld-perm")
    r = await build(client, other, "bld-perm", source)
    assert r.status_code == 403
    r = await client.get("/v2/apps/bld-perm/builds", headers=other.headers)
    assert r.status_code == 403
    r = await build(client, user, "no-such-app", source)
    assert r.status_code == 404
