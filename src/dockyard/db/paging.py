"""One-query pagination: the page's rows and the total count together, through a
``count(*) OVER ()`` window (SQLite 3.25+ and PostgreSQL), instead of a second query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def page_rows(
    session: AsyncSession, stmt: Select[Any, Any] | Select[Any], *, limit: int, offset: int
) -> tuple[int, list[Any]]:
    """Rows of ``stmt`` (without the count column) for one page, and the total count."""
    counted = stmt.add_columns(func.count().over().label("_total")).limit(limit).offset(offset)
    result = (await session.execute(counted)).all()
    if result:
        total = int(result[0][-1])
    elif offset == 0:
        total = 0
    else:  # past the end: the window saw no rows, so ask for the count alone
        total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    width = len(result[0]) - 1 if result else 0
    rows = [row[0] if width == 1 else tuple(row[:width]) for row in result]
    return total, rows
