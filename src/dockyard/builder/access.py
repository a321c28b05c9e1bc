"""Who the git endpoints speak for: the builder key that proves a request comes from them
(``X-Deis-Builder-Auth``, as the Deis builder sent it), and the user a key or a name is.
What that user may do to an app is decided as for every request (``apps.service.load_app``).
"""

from __future__ import annotations

import hmac

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import Key, User
from dockyard.core.builderkey import builder_key
from dockyard.core.errors import NotFound, Unauthenticated
from dockyard.core.settings import Settings

HEADER = "X-Deis-Builder-Auth"


def require_builder(request: Request, settings: Settings) -> None:
    key = getattr(request.app.state, "builder_key", None)
    if key is None:
        key = builder_key(settings.data_dir, settings.builder_key)
        request.app.state.builder_key = key
    sent = request.headers.get(HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), key.encode()):
        raise Unauthenticated(f"{HEADER} is missing or wrong.")


async def git_user(*, session: AsyncSession, fingerprint: str, username: str) -> User:
    """The active user who registered the key with this SHA-256 fingerprint, or the active
    user of that name."""
    if fingerprint:
        user = await session.scalar(
            select(User)
            .join(Key, Key.owner_id == User.id)
            .where(Key.fingerprint_sha256 == fingerprint)
        )
        if user is None:
            raise NotFound("No user has registered this SSH key (dockyard keys:add).")
    elif username:
        user = await session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"User {username} does not exist.")
    else:
        raise NotFound("Name a key fingerprint or a user.")
    if not user.is_active:
        raise Unauthenticated("This account is disabled.")
    return user
