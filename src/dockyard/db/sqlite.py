"""What every SQLite connection gets, the engine's and the reader's alike: WAL mode (readers
never wait for the writer), a busy timeout and foreign keys, so several API worker processes
can share one file safely."""

from __future__ import annotations

from typing import Any

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


def set_pragmas(dbapi_conn: Any, _record: Any = None) -> None:
    """Apply ``PRAGMAS`` to a DBAPI connection (also usable as a pool ``connect`` event)."""
    cursor = dbapi_conn.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
