"""Reads on the hottest paths (token authentication, the app list, app detail) run prebuilt
Core selects on the database driver itself, not through an ORM session.

Measured in-process, a session costs more than the rest of such a request: building it,
checking a connection out through SQLAlchemy's greenlet bridge, aiosqlite's thread hops for
every statement, and result processing. Here:

- SQLite: one plain ``sqlite3`` connection per process, ``query_only``, in autocommit mode,
  used on the event loop's thread. In WAL mode a reader never waits for a writer, and
  selects of a few indexed rows take microseconds, less than one hop to a worker thread.
- PostgreSQL: a connection from the engine's own pool, queried with asyncpg directly
  (asyncpg caches the prepared statement); no transaction is opened, so returning it to the
  pool costs no round trip.

Each statement is compiled once per dialect. SQLite hands back text for timestamps and JSON
and integers for booleans, so its rows are converted to what the ORM types would give.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, DateTime, Select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from dockyard.db.sqlite import set_pragmas

Row = tuple[Any, ...]
# Any select, whatever its columns (Select is variadic in SQLAlchemy 2.1).
AnySelect = Select[*tuple[Any, ...]]
Convert = Callable[[Any], Any] | None


def _sqlite_converter(column_type: Any) -> Convert:
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat
    if isinstance(column_type, JSON):
        return orjson.loads
    if isinstance(column_type, Boolean):
        return bool
    return None


@dataclass(frozen=True)
class _Prepared:
    sql: str
    compiled: Any  # a SQLCompiler: builds each call's parameters, defaults included
    order: tuple[str, ...]  # bind names in positional order
    converters: tuple[Convert, ...] | None  # per column (SQLite); None: rows as they come

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        return [values[name] for name in self.order]

    def convert(self, rows: list[Any]) -> list[Row]:
        converters = self.converters
        if converters is None:
            return [tuple(row) for row in rows]
        return [
            tuple(
                v if fn is None or v is None else fn(v)
                for fn, v in zip(converters, row, strict=True)
            )
            for row in rows
        ]


class Reader:
    """Runs Core selects straight on the driver. Statements are usually module constants,
    so each is compiled the first time it runs and kept."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.is_sqlite = self.dialect.name == "sqlite"
        self._sqlite: sqlite3.Connection | None = None
        self._prepared: dict[AnySelect, _Prepared] = {}

    def _prepare(self, stmt: AnySelect) -> _Prepared:
        prepared = self._prepared.get(stmt)
        if prepared is None:
            compiled = stmt.compile(dialect=self.dialect)
            converters = tuple(_sqlite_converter(c.type) for c in stmt.selected_columns)
            prepared = _Prepared(
                sql=compiled.string,
                compiled=compiled,
                order=tuple(compiled.positiontup or ()),
                converters=converters if self.is_sqlite and any(converters) else None,
            )
            self._prepared[stmt] = prepared
        return prepared

    def _sqlite_connection(self) -> sqlite3.Connection:
        if self._sqlite is None:
            path = self.engine.url.database or ""
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # The engine's pragmas (WAL above all, which lets this connection read without
            # waiting for writers): this may be the first connection a process opens.
            set_pragmas(conn)
            conn.execute("PRAGMA query_only=ON")
            self._sqlite = conn
        return self._sqlite

    async def all(self, stmt: AnySelect, params: Mapping[str, Any] | None = None) -> list[Row]:
        prepared = self._prepare(stmt)
        args = prepared.args(params or {})
        if self.is_sqlite:
            # fetchall ends the statement, and with it the read transaction (autocommit).
            rows = self._sqlite_connection().execute(prepared.sql, args).fetchall()
            return prepared.convert(rows)
        raw = await self.engine.raw_connection()
        try:
            records = await raw.driver_connection.fetch(prepared.sql, *args)  # type: ignore[union-attr]
        except BaseException:
            # A connection in an unknown state does not go back to the pool.
            await greenlet_spawn(raw.invalidate)
            raise
        # Returning it may close it (past the pool's size), which is I/O: like every pool
        # call on an async engine it runs inside SQLAlchemy's greenlet bridge.
        await greenlet_spawn(raw.close)
        return prepared.convert(records)

    async def first(self, stmt: AnySelect, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.all(stmt, params)
        return rows[0] if rows else None

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
