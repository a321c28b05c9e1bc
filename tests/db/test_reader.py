"""The driver-level reader against the real database (SQLite, or PostgreSQL in CI): the
values it gives match what the ORM gives, it sees every committed write at once, and it
hands its connection back to the pool even when a query fails."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest
from sqlalchemy import bindparam, select, text, update

from dockyard.accounts.models import User
from dockyard.apps.models import App
from dockyard.db.paging import PagedSelect, read_page
from dockyard.db.session import Database

ROW = select(App.uuid, App.id, App.structure, App.created, User.username, User.is_superuser).join(
    User, User.id == App.owner_id
)
ONE = ROW.where(App.id == bindparam("app_id"))


async def _seed(db: Database, *app_ids: str) -> None:
    async with db.session() as session:
        owner = User(username="reader-owner", password_hash="x", is_superuser=True)
        session.add(owner)
        await session.flush()
        for i, app_id in enumerate(app_ids):
            session.add(App(id=app_id, owner_id=owner.id, structure={"web": i, "worker": 0}))
        await session.commit()


async def test_values_match_the_orm(clean_db: Database) -> None:
    await _seed(clean_db, "typed-app")
    row = await clean_db.reader.first(ONE, {"app_id": "typed-app"})
    async with clean_db.session() as session:
        expected = (await session.execute(ONE, {"app_id": "typed-app"})).one()
    assert row == tuple(expected)
    assert isinstance(row[3], datetime)
    assert row[2] == {"web": 0, "worker": 0}
    assert row[5] is True
    assert await clean_db.reader.first(ONE, {"app_id": "no-such-app"}) is None


async def test_sees_each_commit_at_once(clean_db: Database) -> None:
    await _seed(clean_db, "changing-app")
    before = await clean_db.reader.first(ONE, {"app_id": "changing-app"})
    assert before is not None and before[2] == {"web": 0, "worker": 0}
    async with clean_db.session() as session:
        await session.execute(
            update(App).where(App.id == "changing-app").values(structure={"web": 3})
        )
        await session.commit()
    after = await clean_db.reader.first(ONE, {"app_id": "changing-app"})
    assert after is not None and after[2] == {"web": 3}


async def test_read_page_counts_and_pages(clean_db: Database) -> None:
    await _seed(clean_db, *(f"paged-{i}" for i in range(5)))
    query = PagedSelect.of(select(App.id).order_by(App.id))
    count, rows = await read_page(clean_db.reader, query, {}, limit=2, offset=2)
    assert count == 5
    assert rows == [("paged-2",), ("paged-3",)]
    # Past the end the window sees no row, so the count comes from its own query.
    assert await read_page(clean_db.reader, query, {}, limit=2, offset=50) == (5, [])
    assert await read_page(clean_db.reader, query, {}, limit=2, offset=2**63 - 1) == (5, [])


async def test_connection_goes_back_to_the_pool_after_a_failed_query(
    clean_db: Database,
) -> None:
    bad = select(text("1")).where(text("no_such_column = 1"))
    with pytest.raises(Exception, match="no_such_column"):
        await clean_db.reader.all(bad)
    assert clean_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await _seed(clean_db, "after-failure")
    assert await clean_db.reader.first(ONE, {"app_id": "after-failure"}) is not None
    assert clean_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_overflow_connections_close_cleanly(
    clean_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """More reads at once than the pool keeps: the extra connections are closed on return,
    which on PostgreSQL is I/O that must run inside SQLAlchemy's greenlet bridge."""
    await _seed(clean_db, "busy-app")
    caplog.set_level(logging.ERROR, logger="sqlalchemy")
    reads = [clean_db.reader.first(ONE, {"app_id": "busy-app"}) for _ in range(12)]
    rows = await asyncio.gather(*reads)
    assert all(row is not None and row[1] == "busy-app" for row in rows)
    assert clean_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
