"""Per-app locks that hold across API worker processes: one deploy, scale, restart or config
change at a time per app, while different apps proceed in parallel.

- PostgreSQL: a session-level advisory lock on a dedicated autocommit connection, so no
  transaction stays open while the lock is held (the scheduler call happens inside it).
- SQLite (one host by definition): an exclusive ``flock`` on ``<lock_dir>/<key>.lock``,
  polled without blocking so waiting never ties up a thread.

An in-process ``asyncio.Lock`` per key sits in front of both, so coroutines of one worker
queue fairly and only one of them touches the cross-process lock at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from sqlalchemy import func, select

from dockyard.db.session import Database, is_sqlite

POLL_START = 0.002
POLL_MAX = 0.05


def _advisory_key(key: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class AppLocks:
    def __init__(self, database: Database, lock_dir: Path) -> None:
        self.database = database
        self.lock_dir = lock_dir
        self._local: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(
        self, key: str, *, on_wait: Callable[[], None] | None = None
    ) -> AsyncIterator[None]:
        """Hold the lock of ``key``. ``on_wait`` is called once if someone else holds it,
        before waiting (a build says in its output that it waits for another)."""
        waiting = _Once(on_wait)
        local = self._local.setdefault(key, asyncio.Lock())
        if local.locked():
            waiting()
        async with local:
            if is_sqlite(self.database.url):
                async with self._file_lock(key, waiting):
                    yield
            else:
                async with self._advisory_lock(key, waiting):
                    yield

    @contextlib.asynccontextmanager
    async def _file_lock(self, key: str, waiting: _Once) -> AsyncIterator[None]:
        self.lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_dir / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            delay = POLL_START
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    waiting()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, POLL_MAX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @contextlib.asynccontextmanager
    async def _advisory_lock(self, key: str, waiting: _Once) -> AsyncIterator[None]:
        lock_key = _advisory_key(key)
        async with self.database.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if not await conn.scalar(select(func.pg_try_advisory_lock(lock_key))):
                waiting()
                await conn.execute(select(func.pg_advisory_lock(lock_key)))
            try:
                yield
            finally:
                await conn.execute(select(func.pg_advisory_unlock(lock_key)))


class _Once:
    def __init__(self, callback: Callable[[], None] | None) -> None:
        self.callback = callback

    def __call__(self) -> None:
        callback, self.callback = self.callback, None
        if callback is not None:
            callback()
