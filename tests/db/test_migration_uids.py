"""Migration 0006 gives every existing app a uid of its own, in the order the apps were made,
and records the highest one; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dockyard.db.migrate import upgrade
from dockyard.db.session import make_engine
from tests.conftest import PG_ENV, _pg_admin


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own, not migrated (``database_url`` only says which kind)."""
    admin_url = os.environ.get(PG_ENV)
    if not admin_url or not database_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"dockyard_mig_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = await conn.execute(text(statement))
                if result.returns_rows:
                    rows = [tuple(r) for r in result]
            return rows
    finally:
        await engine.dispose()


def test_existing_apps_get_their_own_uids(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKYARD_APP_UID_RANGE", "250000-250009")
    upgrade(empty_database, "0005")
    asyncio.run(
        _execute(
            empty_database,
            "INSERT INTO users (username, email, first_name, last_name, password_hash, "
            "is_superuser, is_staff, is_active, date_joined) VALUES "
            "('old', 'old@example.test', '', '', 'x', true, true, true, '2026-01-01')",
            "INSERT INTO apps (id, owner_id, structure, uuid, created, updated, stopped) VALUES "
            "('second', 1, '{}', 'u2', '2026-01-02', '2026-01-02', '{}'), "
            "('first', 1, '{}', 'u1', '2026-01-01', '2026-01-01', '{}')",
        )
    )
    upgrade(empty_database)
    apps = asyncio.run(_execute(empty_database, "SELECT id, uid FROM apps ORDER BY id"))
    mark = asyncio.run(_execute(empty_database, "SELECT top FROM app_uid_mark"))
    assert apps == [("first", 250000), ("second", 250001)]
    assert mark == [(250001,)]
