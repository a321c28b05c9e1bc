"""``dockyard backup`` and ``dockyard restore`` as an operator runs them, around real
``dockyard server`` processes, on SQLite and on PostgreSQL (``database_url``): a user, an
app with config and a deployed release are backed up while the server runs, restored into
an empty data dir and an empty database, and a new server serves them; a restore into a
data dir or database that is not empty, or of a tampered archive, is refused and writes
nothing."""

from __future__ import annotations

import asyncio
import io
import os
import secrets
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_ENV, _pg_admin
from tests.releases.helpers import marked_pids, write_app
from tests.servers import free_port, running_server, server_env

PASSWORD = "s3cret-pw"


@dataclass
class Controller:
    base: Path
    env: dict[str, str]
    port: int
    router: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def dockyard(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dockyard", *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )


def controller(base: Path, sources: Path, database: str | None) -> Controller:
    base.mkdir(parents=True, exist_ok=True)
    port, router = free_port(), free_port()
    settings = {
        "DOCKYARD_DATA_DIR": str(base / "data"),
        "DOCKYARD_PLATFORM_DOMAIN": "example.test",
        "DOCKYARD_LOG_LEVEL": "warning",
        "DOCKYARD_LOCAL_SOURCE_ROOTS": str(sources),
        "DOCKYARD_ROUTER_HTTP_PORT": str(router),
        "DOCKYARD_ROUTER_HTTPS_PORT": str(free_port()),
        "DOCKYARD_SSH_PORT": str(free_port()),
        "DOCKYARD_SETTLE_TIME": "0.3",
        "DOCKYARD_ARGON2_TIME_COST": "1",
        "DOCKYARD_ARGON2_MEMORY_KIB": "1024",
        "DOCKYARD_APP_USER": "",  # pytest's temporary directories are private (0700)
    }
    if database:
        settings["DOCKYARD_DATABASE_URL"] = database
    return Controller(base, server_env(**settings), port, router)


@pytest.fixture
def databases(database_url: str) -> Iterator[tuple[str | None, str | None]]:
    """The source and target databases: None (SQLite in each data dir), or two new, empty
    PostgreSQL databases, dropped after the test."""
    admin = os.environ.get(PG_ENV)
    if not admin:
        yield None, None
        return
    names = [f"dockyard_backup_{secrets.token_hex(4)}" for _ in range(2)]
    for name in names:
        asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        urls = [
            make_url(admin).set(database=name).render_as_string(hide_password=False)
            for name in names
        ]
        yield urls[0], urls[1]
    finally:
        for name in names:
            asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def call(c: Controller, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
    headers = {"Authorization": f"token {token}"} if token else {}
    r = httpx.request(method, c.url + path, headers=headers, timeout=60, **kw)
    assert r.is_success, (method, path, r.status_code, r.text)
    return r.json() if r.content else None


def served(c: Controller, app: str, within: float = 20.0) -> dict[str, Any]:
    """What the app's web process answers through the controller's router."""
    deadline = time.monotonic() + within
    while True:
        try:
            r = httpx.get(f"http://127.0.0.1:{c.router}/", headers={"Host": f"{app}.example.test"})
            if r.status_code == 200:
                return dict(r.json())
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{app} is not served"
        time.sleep(0.1)


def tampered(original: Path, dest: Path) -> Path:
    """The backup with one more entry that climbs out of the data dir."""
    with tarfile.open(original) as src, tarfile.open(dest, "w:gz") as out:
        for member in src:
            out.addfile(member, src.extractfile(member) if member.isreg() else None)
        evil = tarfile.TarInfo("data/../../evil.txt")
        evil.size = 4
        out.addfile(evil, io.BytesIO(b"evil"))
    return dest


def test_backup_restore_round_trip(
    tmp_path: Path, databases: tuple[str | None, str | None]
) -> None:
    source_db, target_db = databases
    sources = tmp_path / "sources"
    marker = f"backup-test-{secrets.token_hex(4)}"
    app_source = write_app(sources / "shop", marker)
    old = controller(tmp_path / "old", sources, source_db)
    archive = tmp_path / "shop.tar.gz"

    with running_server(old.base, old.env, port=old.port):
        call(
            old,
            "POST",
            "/v2/auth/register/",
            json={"username": "alice", "password": PASSWORD, "email": "alice@example.test"},
        )
        token = call(
            old, "POST", "/v2/auth/login/", json={"username": "alice", "password": PASSWORD}
        )["token"]
        call(old, "POST", "/v2/apps/", token, json={"id": "shop"})
        call(old, "POST", "/v2/apps/shop/config/", token, json={"values": {"GREETING": "hi"}})
        call(old, "POST", "/v2/apps/shop/builds/", token, json={"image": str(app_source)})
        assert served(old, "shop")["env"]["GREETING"] == "hi"

        done = old.dockyard("backup", str(archive))  # while the server runs
        assert done.returncode == 0, done.stderr
        assert f"to {archive}" in done.stdout
        assert f"Backed up the {'postgresql' if source_db else 'sqlite'} database" in done.stdout
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        again = old.dockyard("backup", str(archive))
        assert again.returncode == 1
        assert "already exists" in again.stderr
        call(old, "DELETE", "/v2/apps/shop/", token)  # its pods stop with it

    # Refused, touching nothing: a data dir that is not empty...
    busy = controller(tmp_path / "busy", sources, target_db)
    (busy.base / "data").mkdir()
    (busy.base / "data" / "notes.txt").write_text("mine")
    done = busy.dockyard("restore", str(archive))
    assert done.returncode == 1
    assert "is not empty; restore into an empty one" in done.stderr
    assert os.listdir(busy.base / "data") == ["notes.txt"]
    # ... a database that is not empty (the old server's) ...
    refused = controller(tmp_path / "refused", sources, source_db)
    if source_db is None:
        old_db = old.base / "data" / "dockyard.db"
        refused.env["DOCKYARD_DATABASE_URL"] = f"sqlite+aiosqlite:///{old_db}"
    done = refused.dockyard("restore", str(archive))
    assert done.returncode == 1
    assert "is not empty; restore into an empty one" in done.stderr
    assert not (refused.base / "data").exists()
    # ... and a tampered archive.
    done = refused.dockyard(
        "restore",
        str(tampered(archive, tmp_path / "evil.tar.gz")),
        DOCKYARD_DATABASE_URL=target_db or "",
    )
    assert done.returncode == 1
    assert "Refused" in done.stderr and "'..' component" in done.stderr
    assert not (refused.base / "data").exists()
    assert not (tmp_path / "evil.txt").exists() and not (refused.base / "evil.txt").exists()

    new = controller(tmp_path / "new", sources, target_db)
    done = new.dockyard("restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert "Restored 1 users, 1 apps and 3 releases" in done.stdout

    with running_server(new.base, new.env, port=new.port):
        token = call(
            new, "POST", "/v2/auth/login/", json={"username": "alice", "password": PASSWORD}
        )["token"]
        assert call(new, "GET", "/v2/apps/shop/", token)["owner"] == "alice"
        config = call(new, "GET", "/v2/apps/shop/config/", token)
        assert config["values"]["GREETING"] == "hi"
        releases = call(new, "GET", "/v2/apps/shop/releases/", token)["results"]
        assert [r["version"] for r in releases] == [3, 2, 1]
        # The app serves its last release from the restored slug, started by the server.
        answer = served(new, "shop")
        assert answer["env"]["GREETING"] == "hi"
        assert answer["env"]["WORKFLOW_RELEASE"] == "v3"
        assert answer["env"]["HOME"].startswith(str(new.base / "data" / "builds" / "shop"))
        call(new, "DELETE", "/v2/apps/shop/", token)
    assert not marked_pids(marker)
