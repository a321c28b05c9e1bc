"""Sign-in throttling: after ``USER_LIMIT`` failed password checks for one username, or
``ADDRESS_LIMIT`` from one client address, within ``WINDOW``, every password check for that
username or from that address is refused with 429 for ``WINDOW`` after the failure that
reached the limit, even with the right password. A successful check forgets the username's
failures (not the address's: one address trying many usernames stays counted).

The failures are rows of ``login_failures``, so every API worker (and a PostgreSQL-backed
cluster of them) counts the same ones. The service checks the lock *before* verifying a
password: argon2 is expensive, and a locked username must stay locked whatever is tried.
Each admitted attempt is written as a failure first (``begin``), the attempts on one
username or from one address taking turns, so concurrent attempts cannot outrun the count.
Rows older than two windows can no longer start or extend a lock and are pruned as new
failures are written. The rules (when a run of failures locks, for how long, the
Retry-After value) are the pure functions at the top, tested without a database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import LoginFailure
from dockyard.core.errors import TooManyRequests

WINDOW = timedelta(minutes=5)
USER_LIMIT = 10
ADDRESS_LIMIT = 50
# A lock starts at a failure at most one window ago and counts failures up to one window
# before that one: older rows can never matter again.
HISTORY = 2 * WINDOW
# Column widths of ``login_failures``: longer input cannot name a user or an address.
USERNAME_WIDTH = 150
ADDRESS_WIDTH = 64


def lock_end(
    failures: Sequence[datetime], *, limit: int, window: timedelta = WINDOW
) -> datetime | None:
    """When the lock these failures (oldest first) impose ends: ``limit`` failures within
    less than ``window`` lock for ``window`` after the last of them. None if they never
    reached the limit."""
    end = None
    for last in range(limit - 1, len(failures)):
        if failures[last] - failures[last - limit + 1] < window:
            end = failures[last] + window
    return end


def retry_after(end: datetime | None, now: datetime) -> int | None:
    """Whole seconds until ``end`` (rounded up, at least 1), or None if it has passed."""
    if end is None or end <= now:
        return None
    return max(1, math.ceil((end - now).total_seconds()))


def message(seconds: int) -> str:
    return f"Too many failed sign-in attempts. Please try again in {seconds} seconds."


def _key(value: str, width: int) -> str:
    return value[:width]


async def _times(
    session: AsyncSession, which: ColumnElement[bool], now: datetime, mine: int | None
) -> list[datetime]:
    query = (
        select(LoginFailure.at)
        .where(which, LoginFailure.at > now - HISTORY, LoginFailure.id != (mine or 0))
        .order_by(LoginFailure.at)
    )
    return list(await session.scalars(query))


async def check(
    *,
    session: AsyncSession,
    username: str,
    address: str,
    now: datetime,
    mine: int | None = None,
) -> None:
    """Raise ``TooManyRequests`` if ``username`` or ``address`` is locked at ``now`` by the
    failures recorded (other than the attempt ``mine``)."""
    waits = []
    for which, limit in (
        (LoginFailure.username == _key(username, USERNAME_WIDTH), USER_LIMIT),
        (LoginFailure.address == _key(address, ADDRESS_WIDTH), ADDRESS_LIMIT),
    ):
        times = await _times(session, which, now, mine)
        wait = retry_after(lock_end(times, limit=limit), now)
        if wait is not None:
            waits.append(wait)
    if waits:
        seconds = max(waits)
        raise TooManyRequests(message(seconds), retry_after=seconds)


async def _serialise(session: AsyncSession, username: str, address: str) -> None:
    """Make the attempts on one username, or from one address, take turns from here to
    the commit. SQLite already does: the first write below takes its one write lock. On
    PostgreSQL, transaction-scoped advisory locks (always username, then address: no
    deadlock)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for space, key in ((1, username), (2, address)):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
            {"space": space, "key": key},
        )


async def begin(*, session: AsyncSession, username: str, address: str, now: datetime) -> None:
    """Admit one password check, or raise ``TooManyRequests`` having written nothing.

    An admitted attempt is recorded as a failure, and committed, before the password is
    verified; a success then forgets it with the username's other failures. So however
    many attempts arrive at once, each is judged against all those admitted before it:
    a burst cannot slip more than the limit past the check while argon2 runs."""
    await check(session=session, username=username, address=address, now=now)  # cheap
    await session.commit()  # a fresh transaction, whose first statement writes
    username, address = _key(username, USERNAME_WIDTH), _key(address, ADDRESS_WIDTH)
    await _serialise(session, username, address)
    await session.execute(delete(LoginFailure).where(LoginFailure.at <= now - HISTORY))
    attempt = LoginFailure(username=username, address=address, at=now)
    session.add(attempt)
    await session.flush()
    try:
        await check(session=session, username=username, address=address, now=now, mine=attempt.id)
    except TooManyRequests:
        await session.rollback()
        raise
    await session.commit()


async def forget(*, session: AsyncSession, username: str) -> None:
    """A successful sign-in: the username's failures, and this attempt, no longer count
    (the caller commits)."""
    await session.execute(
        delete(LoginFailure).where(LoginFailure.username == _key(username, USERNAME_WIDTH))
    )
