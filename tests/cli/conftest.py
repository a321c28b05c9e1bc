"""Fixtures for the CLI tests: one real controller per session (``python -m dockyard server``
on a free port, SQLite in a temporary directory, its edge router on free ports, terminated at
the end), a temporary HOME and working directory per test, and a runner that drives the real
``dockyard`` Typer app.

Builds read their sources from ``Server.sources`` (the server's
``DOCKYARD_LOCAL_SOURCE_ROOTS``). ``deploy`` writes the sample web + worker app there and
deploys it; every app it made is destroyed after the test, and the test fails if a process
of its sample app outlives that.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dockyard.cli.app import app
from dockyard.client import ClientError, DockyardClient
from tests.releases.helpers import marked_pids, write_app
from tests.servers import cmdline, free_port, running_server, server_env

ADMIN = "root-admin"
PASSWORD = "s3cret-pw"


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    sources: Path
    router_port: int
    ssh_port: int
    admin: str = ADMIN
    password: str = PASSWORD


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("controller")
    sources = tmp_path_factory.mktemp("sources")
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
        # pytest's temporary directories are private (0700): an unprivileged app user (the
        # default when the tests run as root) could not reach the build copies under them.
        DOCKYARD_APP_USER="",
    )
    url = f"http://127.0.0.1:{port}"
    with running_server(base, env, port=port):
        # The first user registered becomes the administrator.
        with DockyardClient(url) as client:
            assert client.register(ADMIN, PASSWORD, "admin@example.test")["is_superuser"]
        yield Server(
            url=url,
            log=base / "server.log",
            sources=sources,
            router_port=router_port,
            ssh_port=ssh_port,
        )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME (so profiles land in a temp dir) and a working directory outside any
    git repository."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for name in list(os.environ):
        if name.startswith("DOCKYARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(work)
    return home


class Cli:
    """Runs ``dockyard`` commands in-process; ``ok`` asserts success, ``fails`` failure."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.runner = CliRunner()

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        return self.runner.invoke(app, list(args), input=input, env=env)

    def ok(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        result = self.run(*args, input=input, env=env)
        command = " ".join(args)
        assert result.exit_code == 0, (
            f"dockyard {command} -> {result.exit_code}\n{result.output}\n{result.exception!r}"
        )
        return result

    def fails(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        result = self.run(*args, input=input, env=env)
        assert result.exit_code != 0, f"dockyard {' '.join(args)} succeeded:\n{result.output}"
        assert "Traceback" not in result.output
        assert "Unexpected" not in result.output
        # An error is a clean exit with a message, never an exception escaping the command.
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        return result

    def register(self, username: str | None = None, password: str = PASSWORD) -> str:
        username = username or f"u{secrets.token_hex(4)}"
        self.ok(
            "register",
            self.server.url,
            "-u",
            username,
            "-p",
            password,
            "--email",
            f"{username}@example.test",
        )
        return username

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.ok("login", self.server.url, "-u", username, "-p", password)

    def login_admin(self) -> None:
        self.login(self.server.admin, self.server.password)


@pytest.fixture
def cli(server: Server, home: Path) -> Cli:
    return Cli(server)


@pytest.fixture
def user(cli: Cli) -> str:
    """A new ordinary user, registered and logged in through the CLI."""
    return cli.register()


def app_name() -> str:
    return f"app-{secrets.token_hex(4)}"


@dataclass
class Deployer:
    """Creates apps and deploys the sample app (``web`` + ``worker``, see
    ``tests.releases.helpers``) to them through the CLI."""

    cli: Cli
    marker: str
    source_root: Path
    apps: list[str]

    def source(self, name: str = "src", *, procfile: str | None = "", version: str = "one") -> Path:
        return write_app(self.source_root / name, self.marker, procfile=procfile, version=version)

    def create(self, name: str | None = None) -> str:
        app = name or app_name()
        self.cli.ok("apps:create", app)
        self.apps.append(app)
        return app

    def __call__(self, name: str | None = None) -> str:
        """A new app with the sample app deployed (web=1)."""
        app = self.create(name)
        self.cli.ok("builds:create", str(self.source()), "-a", app)
        return app


@pytest.fixture
def deploy(cli: Cli, server: Server) -> Iterator[Deployer]:
    marker = f"cli-test-{secrets.token_hex(6)}"
    root = server.sources / marker
    root.mkdir()
    deployer = Deployer(cli, marker, root, [])
    try:
        yield deployer
    finally:
        # Destroy as the administrator: the test may have logged in as someone else.
        with DockyardClient(server.url) as client:
            client.login(server.admin, server.password)
            for app in deployer.apps:
                with contextlib.suppress(ClientError):
                    client.destroy_app(app)
        deadline = time.monotonic() + 10
        while marked_pids(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        leaked = {pid: cmdline(pid) for pid in marked_pids(marker)}
        for pid in leaked:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert not leaked, f"app processes outlived their apps: {leaked}"
