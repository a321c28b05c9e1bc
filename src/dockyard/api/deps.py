"""Request dependencies: the database session, settings, and the authenticated user (an ORM
``User``, or for read-only routes an ``Actor`` read without a session)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import User
from dockyard.accounts.service import Actor, authenticate, authenticate_actor
from dockyard.core.errors import Unauthenticated
from dockyard.core.settings import Settings
from dockyard.db.locks import AppLocks
from dockyard.db.session import Database
from dockyard.scheduler.base import Scheduler

NO_CREDENTIALS = "Authentication credentials were not provided."


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def token_from(request: Request) -> str | None:
    """The key of ``Authorization: token <key>`` (keyword case-insensitive), if any."""
    header = request.headers.get("authorization")
    if not header:
        return None
    keyword, _, key = header.strip().partition(" ")
    if keyword.lower() != "token":
        return None
    key = key.strip()
    if not key or " " in key:
        raise Unauthenticated("Invalid token header. Token string should not contain spaces.")
    return key


async def current_user(request: Request, session: SessionDep) -> User:
    token = token_from(request)
    if token is None:
        raise Unauthenticated(NO_CREDENTIALS)
    return await authenticate(session=session, token=token)


async def optional_user(request: Request, session: SessionDep) -> User | None:
    token = token_from(request)
    if token is None:
        return None
    return await authenticate(session=session, token=token)


async def current_actor(request: Request) -> Actor:
    """The authenticated user for read-only routes: no ORM session is opened."""
    token = token_from(request)
    if token is None:
        raise Unauthenticated(NO_CREDENTIALS)
    return await authenticate_actor(reader=get_database(request).reader, token=token)


UserDep = Annotated[User, Depends(current_user)]
ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalUserDep = Annotated[User | None, Depends(optional_user)]


async def get_scheduler(request: Request) -> Scheduler:
    scheduler: Scheduler = request.app.state.scheduler
    return scheduler


async def get_locks(request: Request) -> AppLocks:
    locks: AppLocks = request.app.state.locks
    return locks


SchedulerDep = Annotated[Scheduler, Depends(get_scheduler)]
LocksDep = Annotated[AppLocks, Depends(get_locks)]


def client_address(request: Request) -> str:
    """The client's address as the socket peer gives it (never ``X-Forwarded-For``, which
    any client can write): what the sign-in throttle counts failures by. Empty when the
    transport has none (a Unix socket)."""
    return request.client.host if request.client else ""


AddressDep = Annotated[str, Depends(client_address)]
