"""Each app's own uid (and gid, the same number) on the local scheduler, from
``DOCKYARD_APP_UID_RANGE``: given once at creation, recorded on the app, never shared.

The next uid is one above the highest in use, so a destroyed app's uid is not handed out
again while the range has room (a process or file it left behind would otherwise belong to
the next app); once the top of the range is taken, the lowest free uid is used. Two
creations racing for one uid are told apart by the unique constraint: the loser retries
(``service.create_app``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core.errors import Unavailable


def after(top: int | None, first: int, last: int) -> int | None:
    """The uid after the highest in use, if the range has room above it."""
    if top is None or top < first:
        return first
    return top + 1 if top < last else None


def lowest_free(used: Iterable[int], first: int, last: int) -> int | None:
    taken = set(used)
    return next((uid for uid in range(first, last + 1) if uid not in taken), None)


async def allocate(session: AsyncSession, uid_range: tuple[int, int]) -> int:
    first, last = uid_range
    in_range = App.uid.between(first, last)
    uid = after(await session.scalar(select(func.max(App.uid)).where(in_range)), first, last)
    if uid is None:
        uid = lowest_free(await session.scalars(select(App.uid).where(in_range)), first, last)
    if uid is None:
        raise Unavailable(
            f"Every uid of DOCKYARD_APP_UID_RANGE ({first}-{last}) belongs to an app; "
            "an administrator must widen the range before another app can be created."
        )
    return uid
