"""Collaborators of an app: list, share and unshare."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import User
from dockyard.accounts.service import get_user
from dockyard.apps.access import Action
from dockyard.apps.models import Collaborator
from dockyard.apps.service import AppAccess
from dockyard.core.errors import Conflict, Forbidden, Invalid, NotFound


async def list_collaborators(*, session: AsyncSession, access: AppAccess) -> list[str]:
    rows = await session.scalars(
        select(User.username)
        .join(Collaborator, Collaborator.user_id == User.id)
        .where(Collaborator.app_uuid == access.app.uuid)
        .order_by(User.username)
    )
    return list(rows)


async def add_collaborator(*, session: AsyncSession, access: AppAccess, username: str) -> None:
    access.require(Action.share)
    target = await get_user(session, username)
    if target.id == access.app.owner_id:
        raise Invalid(f"{username} owns {access.app.id} already.", field="username")
    found = await session.scalar(
        select(Collaborator.pk).where(
            Collaborator.app_uuid == access.app.uuid, Collaborator.user_id == target.id
        )
    )
    if found is not None:
        raise Conflict(f"{username} is already a collaborator on {access.app.id}.")
    session.add(Collaborator(app_uuid=access.app.uuid, user_id=target.id))
    await session.commit()


async def remove_collaborator(
    *, session: AsyncSession, access: AppAccess, actor: User, username: str
) -> None:
    """Allowed for the owner, a superuser, or the collaborator removing themselves."""
    if not (access.is_owner or access.is_superuser or actor.username == username):
        raise Forbidden()
    try:
        target = await get_user(session, username)
    except NotFound:
        raise NotFound(f"{username} is not a collaborator on {access.app.id}.") from None
    row = await session.scalar(
        select(Collaborator).where(
            Collaborator.app_uuid == access.app.uuid, Collaborator.user_id == target.id
        )
    )
    if row is None:
        raise NotFound(f"{username} is not a collaborator on {access.app.id}.")
    await session.delete(row)
    await session.commit()
