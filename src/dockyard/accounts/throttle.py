"""Sign-in throttling: after ``USER_LIMIT`` failed password checks for one username, or
``ADDRESS_LIMIT`` from one client address, within ``WINDOW``, every password check for that
username or from that address is refused with 429 for ``WINDOW`` after the failure that
reached the limit, even with the right password. A successful check forgets the username's
failures (not the address's: one address trying many usernames stays counted).

The failures are rows of ``login_failures``, so every API worker (and a PostgreSQL-backed
cluster of them) counts the same ones. The service checks the lock *before* verifying a
password: argon2 is expensive, and a locked username must stay locked whatever is tried.
Rows older than two windows can no longer start or extend a lock and are pruned as new
failures are written. The rules (when a run of failures locks, for how long, the
Retry-After value) are the pure functions at the top, tested without a database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
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
    session: AsyncSession, which: ColumnElement[bool], now: datetime
) -> list[datetime]:
    query = (
        select(LoginFailure.at)
        .where(which, LoginFailure.at > now - HISTORY)
        .order_by(LoginFailure.at)
    )
    return list(await session.scalars(query))


async def check(*, session: AsyncSession, username: str, address: str, now: datetime) -> None:
    """Raise ``TooManyRequests`` if ``username`` or ``address`` is locked at ``now``."""
    waits = []
    for which, limit in (
        (LoginFailure.username == _key(username, USERNAME_WIDTH), USER_LIMIT),
        (LoginFailure.address == _key(address, ADDRESS_WIDTH), ADDRESS_LIMIT),
    ):
        times = await _times(session, which, now)
        wait = retry_after(lock_end(times, limit=limit), now)
        if wait is not None:
            waits.append(wait)
    if waits:
        seconds = max(waits)
        raise TooManyRequests(message(seconds), retry_after=seconds)


async def record_failure(
    *, session: AsyncSession, username: str, address: str, now: datetime
) -> None:
    """Count one failed password check, prune what can no longer lock, and commit (the
    caller is about to answer with an error, which would otherwise roll it back)."""
    await session.execute(delete(LoginFailure).where(LoginFailure.at <= now - HISTORY))
    session.add(
        LoginFailure(
            username=_key(username, USERNAME_WIDTH), address=_key(address, ADDRESS_WIDTH), at=now
        )
    )
    await session.commit()


async def forget(*, session: AsyncSession, username: str) -> None:
    """A successful sign-in: the username's failures no longer count (the caller commits)."""
    await session.execute(
        delete(LoginFailure).where(LoginFailure.username == _key(username, USERNAME_WIDTH))
    )
