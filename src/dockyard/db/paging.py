"""One-query pagination: the page's rows and the total count together, through a
``count(*) OVER ()`` window (SQLite 3.25+ and PostgreSQL), instead of a second query.

``page_rows`` runs on an ORM session; ``PagedSelect`` and ``read_page`` are the same rule
for the driver-level reader, with the page bounds as bind parameters so the statement is
built and compiled once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.db.reader import AnySelect, Reader, Row


def _counted(stmt: AnySelect) -> AnySelect:
    return stmt.add_columns(func.count().over().label("_total"))


def _count_of(stmt: AnySelect) -> AnySelect:
    return select(func.count()).select_from(stmt.subquery())


def _split(result: Sequence[Sequence[Any]]) -> tuple[int, list[Row]]:
    """The total (last column of any row) and the rows without it."""
    if not result:
        return 0, []
    return int(result[0][-1]), [tuple(row[:-1]) for row in result]


async def page_rows(
    session: AsyncSession, stmt: AnySelect, *, limit: int, offset: int
) -> tuple[int, list[Any]]:
    """Rows of ``stmt`` (without the count column) for one page, and the total count; a
    one-column select (often one ORM entity) gives its values rather than one-tuples."""
    result = (await session.execute(_counted(stmt).limit(limit).offset(offset))).all()
    if not result and offset > 0:
        # Past the end: the window saw no rows, so ask for the count alone.
        return await session.scalar(_count_of(stmt)) or 0, []
    total, rows = _split(result)
    return total, [row[0] for row in rows] if rows and len(rows[0]) == 1 else rows


@dataclass(frozen=True)
class PagedSelect:
    """A select made ready for ``read_page``: built once, at import."""

    page: AnySelect
    count: AnySelect

    @classmethod
    def of(cls, stmt: AnySelect) -> PagedSelect:
        page = _counted(stmt).limit(bindparam("_limit")).offset(bindparam("_offset"))
        return cls(page=page, count=_count_of(stmt))


async def read_page(
    reader: Reader, query: PagedSelect, params: Mapping[str, Any], *, limit: int, offset: int
) -> tuple[int, list[Row]]:
    result = await reader.all(query.page, {**params, "_limit": limit, "_offset": offset})
    if not result and offset > 0:
        counted = await reader.first(query.count, params)
        return int(counted[0]) if counted else 0, []
    return _split(result)
