"""Fixtures of the source-deploy tests: one real controller for the session (``python -m
dockyard server`` with its git SSH endpoint, edge router and node agent) that builds as the
unprivileged app user when the tests run as root, and helpers that push with the real
``git`` and ``ssh`` commands, as a user would.

The controller's data dir lies under a directory other users may traverse (0711), not
under pytest's private temporary directories, so builds and app processes really run as
``nobody``. With ``DOCKYARD_TEST_DATABASE_URL`` set it uses a PostgreSQL database of its
own, made and dropped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from dockyard.client import ClientError, DockyardClient
from tests.conftest import PG_ENV, _pg_admin
from tests.servers import free_port, running_server, server_env

ADMIN = "builder-admin"
PASSWORD = "s3cret-pw"
KEEP_RELEASES = 4


@dataclass(frozen=True)
class Controller:
    url: str
    base: Path
    data_dir: Path
    sources: Path
    router_port: int
    ssh_port: int

    def get(self, app: str, path: str = "/", timeout: float = 10.0) -> httpx.Response:
        """A request to the app through the edge router, by its platform hostname."""
        return httpx.get(
            f"http://127.0.0.1:{self.router_port}{path}",
            headers={"Host": f"{app}.example.test"},
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def controller_database() -> Iterator[dict[str, str]]:
    """The controller's database settings: its own PostgreSQL database on PostgreSQL runs
    (a fixture of ``tests.conftest.DATABASE_FIXTURES``), else none (SQLite in its data dir)."""
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        yield {}
        return
    name = f"dockyard_builder_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield {"DOCKYARD_DATABASE_URL": url}
    finally:
        asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def controller(controller_database: dict[str, str]) -> Iterator[Controller]:
    base = Path(tempfile.mkdtemp(prefix="dockyard-builder-"))
    os.chmod(base, 0o711)  # the app user must reach the slugs and build caches inside
    sources = base / "sources"
    sources.mkdir()
    os.chmod(sources, 0o755)
    port, router_port, ssh_port = free_port(), free_port(), free_port()
    env = server_env(
        DOCKYARD_DATA_DIR=str(base / "data"),
        DOCKYARD_PLATFORM_DOMAIN="example.test",
        DOCKYARD_LOG_LEVEL="warning",
        DOCKYARD_LOCAL_SOURCE_ROOTS=str(sources),
        DOCKYARD_ROUTER_HTTP_PORT=str(router_port),
        DOCKYARD_ROUTER_HTTPS_PORT=str(free_port()),
        DOCKYARD_SSH_PORT=str(ssh_port),
        DOCKYARD_SETTLE_TIME="0.3",
        DOCKYARD_ARGON2_TIME_COST="1",
        DOCKYARD_ARGON2_MEMORY_KIB="1024",
        DOCKYARD_KEEP_RELEASES=str(KEEP_RELEASES),
        DOCKYARD_MAX_SOURCE_SIZE="2M",
        **controller_database,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with running_server(base, env, port=port, workers=2):
            with DockyardClient(url) as client:
                assert client.register(ADMIN, PASSWORD, "admin@example.test")["is_superuser"]
            yield Controller(url, base, base / "data", sources, router_port, ssh_port)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Pusher:
    """A user of the controller with an API token and an SSH key, and the apps made."""

    controller: Controller
    home: Path
    username: str
    token: str
    key: Path
    apps: list[str] = field(default_factory=list)

    @property
    def client(self) -> DockyardClient:
        return DockyardClient(self.controller.url, self.token, deploy_timeout=600)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def create_app(self, name: str | None = None) -> str:
        name = name or f"b-{secrets.token_hex(4)}"
        with self.client as client:
            client.create_app(name)
        self.apps.append(name)
        return name

    def env(self) -> dict[str, str]:
        ssh = (
            f"ssh -i {self.key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
        )
        return {
            **os.environ,
            "HOME": str(self.home),
            "GIT_SSH_COMMAND": ssh,
            "GIT_CONFIG_GLOBAL": str(self.home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }

    def ssh_url(self, app: str) -> str:
        return f"ssh://git@127.0.0.1:{self.controller.ssh_port}/{app}.git"

    def http_url(self, app: str, token: str | None = None) -> str:
        secret = self.token if token is None else token
        port = self.controller.url.rsplit(":", 1)[1]
        return f"http://{self.username}:{secret}@127.0.0.1:{port}/git/{app}.git"

    def git(self, repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["git", *args],
            cwd=repo,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check:
            assert done.returncode == 0, f"git {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    def push(
        self, repo: Path, app: str, *, branch: str = "main", url: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``git push <url> <branch>``; its output (git writes it to stderr) in ``.stderr``."""
        return self.git(repo, "push", url or self.ssh_url(app), branch, check=False)


def make_repo(path: Path, files: dict[str, str], *, home: Path) -> Path:
    """A git repository with ``files`` committed on ``main``."""
    path.mkdir(parents=True)
    write_files(path, files)
    env = {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "first"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)
    return path


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        if name.startswith("bin/") or name.endswith(".sh"):
            target.chmod(0o755)


def commit(pusher: Pusher, repo: Path, files: dict[str, str], message: str = "change") -> str:
    write_files(repo, files)
    pusher.git(repo, "add", "-A")
    pusher.git(repo, "commit", "-qm", message)
    return pusher.git(repo, "rev-parse", "HEAD").stdout.strip()


def _user(controller: Controller, root: Path, username: str) -> Pusher:
    home = root / f"home-{username}"
    (home / ".ssh").mkdir(parents=True)
    (home / ".gitconfig").write_text(
        f"[user]\n\tname = {username}\n\temail = {username}@example.test\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    key = home / ".ssh" / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", username, "-f", str(key)],
        check=True,
    )
    with DockyardClient(controller.url) as client:
        client.register(username, PASSWORD, f"{username}@example.test")
        token = client.login(username, PASSWORD)
        client.token = token
        client.add_key("laptop", (home / ".ssh" / "id_ed25519.pub").read_text())
    return Pusher(controller, home, username, token, key)


class Users:
    def __init__(self, controller: Controller, root: Path) -> None:
        self.controller = controller
        self.root = root
        self.made: list[Pusher] = []

    def make(self, prefix: str = "u") -> Pusher:
        pusher = _user(self.controller, self.root, f"{prefix}{secrets.token_hex(3)}")
        self.made.append(pusher)
        return pusher


@pytest.fixture
def users(controller: Controller, tmp_path: Path) -> Iterator[Users]:
    made = Users(controller, tmp_path)
    yield made
    with DockyardClient(controller.url) as admin:
        admin.login(ADMIN, PASSWORD)
        for pusher in made.made:
            for app in pusher.apps:
                with contextlib.suppress(ClientError):
                    admin.destroy_app(app)


@pytest.fixture
def alice(users: Users) -> Pusher:
    return users.make("alice")


def wait_for(app: str, controller: Controller, text: str, timeout: float = 20.0) -> str:
    """The app's answer through the router once it contains ``text``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = controller.get(app)
            last = f"{response.status_code} {response.text[:200]}"
            if response.status_code == 200 and text in response.text:
                return response.text
        time.sleep(0.1)
    raise AssertionError(f"{app} never answered with {text!r}; last answer: {last}")
