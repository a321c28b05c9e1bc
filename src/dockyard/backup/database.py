"""The database side of a backup: a consistent copy while the server keeps running, and
loading one into an empty database.

SQLite is copied with its online backup API (``sqlite3.Connection.backup``), page by page
under SQLite's own locking, so writers may go on. PostgreSQL is dumped by ``pg_dump`` as
plain SQL (one snapshot) and loaded by ``psql`` in one transaction; both take the
connection from ``PG*`` environment variables, so the password never shows on a command
line. After a load, the slugs' paths are moved from the source data dir to this one.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect, select, text, update
from sqlalchemy.engine import URL, make_url

from dockyard.db.session import Database, is_sqlite
from dockyard.releases.models import Build


class DatabaseError(Exception):
    """A dump or load failed; the message says why, without the URL's password."""


def kind(url: str) -> str:
    return "sqlite" if is_sqlite(url) else "postgresql"


def where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DatabaseError(f"{where(url)} is not a SQLite database file.")
    return Path(database)


def _pg_env(url: str) -> dict[str, str]:
    u: URL = make_url(url)
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", u.host or "127.0.0.1"),
        ("PGPORT", str(u.port or 5432)),
        ("PGUSER", u.username or ""),
        ("PGPASSWORD", u.password or ""),
        ("PGDATABASE", u.database or ""),
    ):
        if value:
            env[name] = value
    return env


def _run(command: list[str], url: str, what: str) -> None:
    try:
        done = subprocess.run(command, env=_pg_env(url), capture_output=True, text=True)
    except FileNotFoundError:
        raise DatabaseError(
            f"{command[0]} is not installed; it is needed to {what} a PostgreSQL database."
        ) from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise DatabaseError(f"{command[0]} could not {what} {where(url)}: {reason}")


def dump(url: str, dest: Path) -> None:
    """A consistent copy of the database at ``url`` in ``dest`` (blocking)."""
    if is_sqlite(url):
        path = sqlite_path(url)
        if not path.is_file():
            raise DatabaseError(f"There is no database at {path}.")
        source = sqlite3.connect(path)
        try:
            target = sqlite3.connect(dest)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
        return
    _run(
        ["pg_dump", "--format=plain", "--no-owner", "--no-privileges", "-f", str(dest)], url, "dump"
    )


def load(url: str, source: Path) -> None:
    """Load a dump into the empty database at ``url`` (blocking)."""
    if is_sqlite(url):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        src, target = sqlite3.connect(source), sqlite3.connect(path)
        try:
            src.backup(target)
        finally:
            src.close()
            target.close()
        return
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    _run([*command, "-f", str(source)], url, "load into")


async def _tables(url: str) -> list[str]:
    database = Database(url, pool_size=1)
    try:
        async with database.engine.connect() as conn:
            return await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await database.close()


def is_empty(url: str) -> bool:
    """Whether the database at ``url`` holds no table (a SQLite file that does not exist
    yet is empty)."""
    if is_sqlite(url) and not sqlite_path(url).exists():
        return True
    return not asyncio.run(_tables(url))


async def _move_slugs(url: str, old: str, new: str) -> dict[str, int]:
    database = Database(url, pool_size=1)
    try:
        async with database.session() as session:
            rows = (await session.execute(select(Build.uuid, Build.source_dir))).all()
            for uuid, source_dir in rows:
                if source_dir and source_dir.startswith(old):
                    moved = new + source_dir[len(old) :]
                    await session.execute(
                        update(Build).where(Build.uuid == uuid).values(source_dir=moved)
                    )
            await session.commit()
            counts = {}
            for table in ("users", "apps", "releases"):
                counts[table] = int(await session.scalar(text(f"SELECT count(*) FROM {table}")))
            return counts
    finally:
        await database.close()


def relocate(url: str, old_data_dir: str, new_data_dir: Path) -> dict[str, int]:
    """Point the builds' slugs at the restored data dir; the number of users, apps and
    releases restored."""
    old = old_data_dir.rstrip("/") + "/"
    return asyncio.run(_move_slugs(url, old, str(new_data_dir).rstrip("/") + "/"))
