"""Each app's own uid (and gid, the same number) on the local scheduler, from
``DOCKYARD_APP_UID_RANGE``: given once at creation, recorded on the app, never shared.

The next uid is one above the highest ever given (``UidMark``, whose row is locked while an
app is created), so a destroyed app's uid (whose processes are gone, but whose files in
``/tmp`` may not be) is not given to another app while the range has room; once the top of
the range is reached, the lowest uid no app holds is used. Two creations racing for one uid
are told apart by the unique constraint: the loser retries (``service.create_app``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App, UidMark
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
    mark = await session.scalar(select(UidMark).where(UidMark.id == 1).with_for_update())
    uid = after(mark.top if mark else None, first, last)
    if uid is None:
        in_range = App.uid.between(first, last)
        uid = lowest_free(await session.scalars(select(App.uid).where(in_range)), first, last)
    if uid is None:
        raise Unavailable(
            f"Every uid of DOCKYARD_APP_UID_RANGE ({first}-{last}) belongs to an app; "
            "an administrator must widen the range before another app can be created."
        )
    if mark is None:
        session.add(UidMark(id=1, top=uid))
    elif uid > mark.top:
        mark.top = uid
    return uid
