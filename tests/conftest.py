"""Shared fixtures: a real database (SQLite by default, PostgreSQL when
``DOCKYARD_TEST_DATABASE_URL`` is set), migrated once per session with the real Alembic
migrations and emptied before every test, and an httpx client over the real ASGI app.

``DOCKYARD_TEST_DATABASE_URL`` names a server to use as an admin connection, for example
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``; the suite creates its own
database there and drops it at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from dockyard.api.app import create_app
from dockyard.apps.models import App
from dockyard.core.settings import Settings
from dockyard.db.migrate import upgrade
from dockyard.db.session import Database
from dockyard.models import metadata
from dockyard.scheduler.local.agent import Agent
from dockyard.scheduler.local.client import LocalScheduler
from tests.guards import (  # noqa: F401  (autouse fixtures)
    SharedProcesses,
    no_stray_processes,
    no_stray_tasks,
)

PG_ENV = "DOCKYARD_TEST_DATABASE_URL"
# The fixtures through which a test reaches the database under test. On PostgreSQL runs only
# the tests that use one of them are collected: the others never open a database, or always
# run on SQLite (the CLI's server, the server start-up tests), so they ran in the SQLite pass
# and would only repeat it.
DATABASE_FIXTURES = frozenset({"database_url", "controller_database"})


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SharedProcesses(), "dockyard-shared-processes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get(PG_ENV):
        return
    kept, dropped = [], []
    for item in items:
        uses = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (kept if uses else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


async def _pg_admin(url: str, statement: str) -> None:
    import asyncpg  # only needed on PostgreSQL runs

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        database=u.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    name = f"dockyard_test_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, pool_size=5)
    yield db
    await db.close()


@pytest.fixture(scope="session")
async def agent_root(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Path]:
    """One real node agent for the session, in-process; app processes run as the test user."""
    root = tmp_path_factory.mktemp("agent")
    agent = Agent(root, deploy_timeout=20.0, run_timeout=20.0, app_user=None)
    await agent.start()
    try:
        yield root
    finally:
        await agent.close()


@pytest.fixture
async def scheduler(agent_root: Path) -> AsyncIterator[LocalScheduler]:
    client = LocalScheduler(agent_root)
    yield client
    await client.aclose()


@pytest.fixture
async def clean_db(database: Database, scheduler: LocalScheduler) -> AsyncIterator[Database]:
    yield database
    # Stop every process a test started, then empty every table.
    async with database.session() as session:
        app_ids = list(await session.scalars(select(App.id)))
    for app_id in app_ids:
        await scheduler.destroy(app_id)
    async with database.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(delete(table))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        reserved_names="admin,dockyard,reserved-app",
        platform_domain="example.test",
        local_source_roots=str(tmp_path),
        # argon2id still, at its cheapest: the suite registers hundreds of users.
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        deploy_timeout=20.0,
    )


@pytest.fixture
async def client(
    settings: Settings, clean_db: Database, scheduler: LocalScheduler
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database=clean_db, scheduler=scheduler)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


_counter = itertools.count(1)


@dataclass
class Account:
    """A registered, logged-in user as a client sees them."""

    username: str
    password: str
    token: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


class Accounts:
    """Factory: ``await accounts.make()`` registers and logs in a new user."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def make(self, username: str | None = None, password: str = "s3cret-pw") -> Account:
        username = username or f"user{next(_counter)}"
        r = await self.client.post(
            "/v2/auth/register/",
            json={"username": username, "password": password, "email": f"{username}@example.com"},
        )
        assert r.status_code == 201, r.text
        r2 = await self.client.post(
            "/v2/auth/login/", json={"username": username, "password": password}
        )
        assert r2.status_code == 200, r2.text
        return Account(username, password, r2.json()["token"], r.json())


@pytest.fixture
def accounts(client: httpx.AsyncClient) -> Accounts:
    return Accounts(client)


@pytest.fixture
async def admin(accounts: Accounts) -> Account:
    """The first user registered: a superuser."""
    account = await accounts.make("admin-user")
    assert account.data["is_superuser"] is True
    return account


@pytest.fixture
async def user(accounts: Accounts, admin: Account) -> Account:
    """An ordinary (non-superuser) user; the admin exists first."""
    return await accounts.make("alice")


async def create_app_for(
    client: httpx.AsyncClient, owner: Account, app_id: str | None = None
) -> dict[str, Any]:
    body = {"id": app_id} if app_id else {}
    r = await client.post("/v2/apps/", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()
