"""Accounts: registration, login, passwords, tokens, cancellation and superuser admin.

Every function takes the session and the acting user explicitly and raises the core error
hierarchy; nothing here knows about HTTP. Every password check, whichever facade asks for it,
goes through ``_password_ok``, which applies the sign-in throttle (``accounts.throttle``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts import throttle
from dockyard.accounts.models import Token, User
from dockyard.accounts.schemas import RegisterIn
from dockyard.accounts.secrets import (
    hash_password,
    new_token,
    token_hash,
    verify_nothing,
    verify_password,
)
from dockyard.apps.models import App
from dockyard.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from dockyard.core.names import check_email, check_username
from dockyard.core.settings import RegistrationMode
from dockyard.core.timefmt import utcnow
from dockyard.db.paging import page_rows
from dockyard.db.reader import Reader

USERNAME_TAKEN = "A user with that username already exists."
BAD_CREDENTIALS = "Unable to log in with provided credentials."
INVALID_TOKEN = "Invalid token."
# DRF's own message for an inactive user with the right password.
ACCOUNT_DISABLED = "User account is disabled."


async def get_user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"User {username} does not exist.")
    return user


async def _superuser_exists(session: AsyncSession) -> bool:
    found = await session.scalar(select(User.id).where(User.is_superuser.is_(True)).limit(1))
    return found is not None


async def register(
    *, session: AsyncSession, mode: RegistrationMode, actor: User | None, data: RegisterIn
) -> User:
    has_admin = await _superuser_exists(session)
    if mode is RegistrationMode.disabled:
        raise Forbidden("Registration is disabled")
    if mode is RegistrationMode.admin_only and has_admin and not (actor and actor.is_superuser):
        raise Forbidden("Registration is restricted to administrators")
    username = check_username(data.username)
    if not data.password:
        raise Invalid("This field may not be blank.", field="password")
    email = check_email(data.email) if data.email else ""
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Invalid(USERNAME_TAKEN, field="username")
    user = User(
        username=username,
        email=email,
        first_name=data.first_name,
        last_name=data.last_name,
        password_hash=await asyncio.to_thread(hash_password, data.password),
        is_superuser=not has_admin,
        is_staff=not has_admin,
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Invalid(USERNAME_TAKEN, field="username") from None
    return user


async def issue_token(session: AsyncSession, user: User) -> str:
    token = new_token()
    session.add(Token(key_hash=token_hash(token), user_id=user.id))
    return token


async def _password_ok(
    *,
    session: AsyncSession,
    username: str,
    user: User | None,
    password: str,
    address: str,
    now: datetime | None,
) -> bool:
    """Check ``password`` for ``username`` (``user``, None if there is no such user) asked
    from ``address``, under the sign-in throttle: a locked username or address is refused
    (429) before the password is verified; the attempt counts as a failure unless it
    succeeds, which forgets the username's failures."""
    await throttle.begin(session=session, username=username, address=address, now=now or utcnow())
    if user is None:
        await asyncio.to_thread(verify_nothing, password)
        return False
    ok = await asyncio.to_thread(verify_password, user.password_hash, password)
    if ok:  # the caller commits
        await throttle.forget(session=session, username=username)
    return ok


async def login(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    address: str,
    now: datetime | None = None,
) -> str:
    """A new token for ``username``. ``address`` is the client's (the socket peer), for the
    sign-in throttle; ``now`` is the throttle's clock."""
    user = await session.scalar(select(User).where(User.username == username))
    ok = await _password_ok(
        session=session,
        username=username,
        user=user,
        password=password,
        address=address,
        now=now,
    )
    if not ok or user is None:
        raise Invalid(BAD_CREDENTIALS, field="non_field_errors")
    if not user.is_active:  # said only to whoever knows the password
        await session.commit()
        raise Invalid(ACCOUNT_DISABLED, field="non_field_errors")
    user.last_login = utcnow()
    token = await issue_token(session, user)
    await session.commit()
    return token


# Built once: authentication runs on every request.
_BY_TOKEN = (
    select(User).join(Token, Token.user_id == User.id).where(Token.key_hash == bindparam("h"))
)


async def authenticate(*, session: AsyncSession, token: str) -> User:
    user = await session.scalar(_BY_TOKEN, {"h": token_hash(token)})
    if user is None or not user.is_active:
        raise Unauthenticated(INVALID_TOKEN)
    return user


class Actor(NamedTuple):
    """The authenticated user as read-only routes need it (no ORM object)."""

    id: int
    username: str
    is_superuser: bool


_ACTOR_BY_TOKEN = _BY_TOKEN.with_only_columns(
    User.id, User.username, User.is_superuser, User.is_active
)


async def authenticate_actor(*, reader: Reader, token: str) -> Actor:
    """``authenticate`` for the read-only hot paths, through the driver-level reader."""
    row = await reader.first(_ACTOR_BY_TOKEN, {"h": token_hash(token)})
    if row is None or not row[3]:
        raise Unauthenticated(INVALID_TOKEN)
    return Actor(*row[:3])


async def _target(session: AsyncSession, actor: User, username: str | None) -> User:
    """The user an account operation applies to: the actor, or (superusers only) another."""
    if username is None or username == actor.username:
        return actor
    if not actor.is_superuser:
        raise Forbidden()
    return await get_user(session, username)


async def change_password(
    *,
    session: AsyncSession,
    actor: User,
    password: str | None,
    new_password: str | None,
    username: str | None,
    address: str,
    now: datetime | None = None,
) -> None:
    target = await _target(session, actor, username)
    if not new_password:
        raise Invalid("new_password is a required field")
    acting_as_admin = actor.is_superuser and username is not None
    if not acting_as_admin:
        if not password:
            raise Invalid("password is a required field")
        ok = await _password_ok(
            session=session,
            username=target.username,
            user=target,
            password=password,
            address=address,
            now=now,
        )
        if not ok:
            raise Unauthenticated("Current password does not match")
    target.password_hash = await asyncio.to_thread(hash_password, new_password)
    await session.commit()


async def cancel(*, session: AsyncSession, actor: User, username: str | None) -> None:
    target = await _target(session, actor, username)
    owned = await session.scalar(select(func.count()).where(App.owner_id == target.id))
    if owned:
        raise Conflict(
            f"{target.username} still has applications assigned. Delete or transfer ownership"
        )
    await session.delete(target)
    await session.commit()


async def regenerate_tokens(
    *, session: AsyncSession, actor: User, username: str | None, everyone: bool
) -> str | None:
    """Revoke tokens and issue a new one. With ``everyone`` every user (the actor included)
    must log in again, and no token is returned."""
    if everyone:
        if not actor.is_superuser:
            raise Forbidden()
        await session.execute(delete(Token))
        await session.commit()
        return None
    target = await _target(session, actor, username)
    await session.execute(delete(Token).where(Token.user_id == target.id))
    token = await issue_token(session, target)
    await session.commit()
    return token


async def list_users(
    session: AsyncSession, *, limit: int, offset: int, superusers_only: bool = False
) -> tuple[int, list[User]]:
    query = select(User)
    if superusers_only:
        query = query.where(User.is_superuser.is_(True))
    return await page_rows(session, query.order_by(User.id), limit=limit, offset=offset)


def require_superuser(actor: User) -> None:
    if not actor.is_superuser:
        raise Forbidden()


async def grant_admin(*, session: AsyncSession, actor: User, username: str) -> User:
    require_superuser(actor)
    target = await get_user(session, username)
    target.is_superuser = True
    target.is_staff = True
    await session.commit()
    return target


async def revoke_admin(*, session: AsyncSession, actor: User, username: str) -> None:
    require_superuser(actor)
    target = await session.scalar(
        select(User).where(User.username == username, User.is_superuser.is_(True))
    )
    if target is None:
        raise NotFound(f"{username} is not an administrator.")
    admins = await session.scalar(select(func.count()).where(User.is_superuser.is_(True)))
    if admins == 1:
        raise Conflict("Cannot revoke the last administrator; grant another one first.")
    await session.execute(
        update(User).where(User.id == target.id).values(is_superuser=False, is_staff=False)
    )
    await session.commit()


async def set_active(*, session: AsyncSession, actor: User, username: str, active: bool) -> None:
    """Disable or enable an account (superusers only). A disabled user's tokens and SSH keys
    are refused and they cannot log in; their tokens are kept, so enabling the account
    brings them back. Administrators cannot disable themselves: the platform would be left
    without one able to enable them again."""
    require_superuser(actor)
    target = await get_user(session, username)
    if not active and target.id == actor.id:
        raise Invalid("You cannot disable your own account.")
    target.is_active = active
    await session.commit()
