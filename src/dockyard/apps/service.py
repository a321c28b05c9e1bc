"""Applications: list what a user may see, create (with release v1), load with a permission
check, transfer ownership and destroy."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Exists, bindparam, delete, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import User
from dockyard.accounts.service import Actor, get_user
from dockyard.apps import uids
from dockyard.apps.access import Action, require
from dockyard.apps.models import App, Collaborator
from dockyard.apps.naming import generate_name, generate_with_suffix
from dockyard.core import layout
from dockyard.core.errors import Conflict, Invalid, NotFound
from dockyard.core.names import check_app_id
from dockyard.db.locks import AppLocks
from dockyard.db.paging import PagedSelect, read_page
from dockyard.db.reader import Reader
from dockyard.releases.service import create_initial_release
from dockyard.routing.publish import publish
from dockyard.scheduler.base import Scheduler

APP_TAKEN = "Application with this id already exists."
NO_APP = "No App matches the given query."
NAME_ATTEMPTS = 20
UID_ATTEMPTS = 5


@dataclass
class AppAccess:
    """An app as the acting user sees it, with the facts permission checks need."""

    app: App
    owner: str
    is_owner: bool
    is_collaborator: bool
    is_superuser: bool

    def require(self, action: Action) -> None:
        require(
            action=action,
            is_owner=self.is_owner,
            is_collaborator=self.is_collaborator,
            is_superuser=self.is_superuser,
        )


def _collaborating(user_id: Any) -> Exists:
    """Whether the user (an id, or a bind parameter) collaborates on the ``App`` in scope."""
    return exists().where(Collaborator.app_uuid == App.uuid, Collaborator.user_id == user_id)


# The list and detail read plain columns through the driver-level reader, not App objects
# through a session: on these, the busiest reads, the ORM cost more CPU than everything
# else in the request (measured with bench/api.py and a profiler).
_SHOWN = select(App.uuid, App.id, App.structure, App.created, App.updated, User.username).join(
    User, User.id == App.owner_id
)
_LISTED = _SHOWN.order_by(App.id)
_ALL_APPS = PagedSelect.of(_LISTED)
_VISIBLE_APPS = PagedSelect.of(
    _LISTED.where(or_(App.owner_id == bindparam("user_id"), _collaborating(bindparam("user_id"))))
)
_DETAIL = _SHOWN.add_columns(
    App.owner_id, _collaborating(bindparam("user_id")).correlate(App)
).where(App.id == bindparam("app_id"))


class ListedApp(NamedTuple):
    uuid: str
    id: str
    structure: dict[str, Any]
    created: datetime
    updated: datetime
    owner: str


async def list_apps(
    *, reader: Reader, actor: Actor, limit: int, offset: int
) -> tuple[int, list[ListedApp]]:
    """Superusers see every app; others the apps they own plus those shared with them."""
    query = _ALL_APPS if actor.is_superuser else _VISIBLE_APPS
    count, rows = await read_page(reader, query, {"user_id": actor.id}, limit=limit, offset=offset)
    return count, [ListedApp(*row) for row in rows]


async def read_app(*, reader: Reader, actor: Actor, app_id: str) -> ListedApp:
    """An app the actor may use (``load_app`` for read-only routes, without a session)."""
    row = await reader.first(_DETAIL, {"user_id": actor.id, "app_id": app_id})
    if row is None:
        raise NotFound(NO_APP)
    require(
        action=Action.use,
        is_owner=row[6] == actor.id,
        is_collaborator=bool(row[7]),
        is_superuser=actor.is_superuser,
    )
    return ListedApp(*row[:6])


async def load_app(
    *, session: AsyncSession, user: User, app_id: str, action: Action = Action.use
) -> AppAccess:
    row = (
        await session.execute(
            select(App, User.username, _collaborating(user.id).correlate(App).label("collab"))
            .join(User, User.id == App.owner_id)
            .where(App.id == app_id)
        )
    ).first()
    if row is None:
        raise NotFound(NO_APP)
    app, owner, collab = row
    access = AppAccess(
        app=app,
        owner=owner,
        is_owner=app.owner_id == user.id,
        is_collaborator=bool(collab),
        is_superuser=user.is_superuser,
    )
    access.require(action)
    return access


async def _name_free(session: AsyncSession, name: str) -> bool:
    return await session.scalar(select(App.uuid).where(App.id == name)) is None


async def _generate(session: AsyncSession, reserved: frozenset[str]) -> str:
    for attempt in range(NAME_ATTEMPTS):
        name = generate_name() if attempt < NAME_ATTEMPTS // 2 else generate_with_suffix()
        if name not in reserved and await _name_free(session, name):
            return name
    raise Invalid("Could not generate a free app name; pass an id.", field="id")


async def create_app(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    owner: User,
    app_id: str | None,
    reserved: frozenset[str],
    platform_domain: str,
    uid_range: tuple[int, int],
) -> App:
    if app_id is None:
        name = await _generate(session, reserved)
    else:
        name = check_app_id(app_id, reserved=reserved)
        if not await _name_free(session, name):
            raise Invalid(APP_TAKEN, field="id")
    for _attempt in range(UID_ATTEMPTS):
        app = App(
            id=name, owner_id=owner.id, structure={}, uid=await uids.allocate(session, uid_range)
        )
        session.add(app)
        try:
            await session.flush()
            release = await create_initial_release(session=session, app=app, owner=owner.username)
            await session.commit()
            break
        except IntegrityError:
            await session.rollback()
            if not await _name_free(session, name):
                raise Invalid(APP_TAKEN, field="id") from None
            # Another app took the same uid at the same moment: take the next one.
    else:
        raise Conflict("Too many apps are being created at once; try again.")
    await scheduler.log_event(app.id, "dockyard", f"{release.summary} (v1)")
    await publish(session=session, scheduler=scheduler, app=app, platform_domain=platform_domain)
    return app


async def transfer(*, session: AsyncSession, access: AppAccess, new_owner: str) -> str:
    access.require(Action.transfer)
    target = await get_user(session, new_owner)
    app = access.app
    app.owner_id = target.id
    # The new owner needs no collaborator row of their own any more.
    await session.execute(
        delete(Collaborator).where(
            Collaborator.app_uuid == app.uuid, Collaborator.user_id == target.id
        )
    )
    await session.commit()
    return target.username


async def destroy(
    *, session: AsyncSession, access: AppAccess, scheduler: Scheduler, data_dir: Path
) -> None:
    """Stop every process first (idempotent), then delete the rows (config, builds,
    releases, collaborators cascade) and what the app has on disk: its slugs, its git
    repository and its build cache."""
    access.require(Action.destroy)
    app = access.app
    await session.commit()
    await scheduler.destroy(app.id)
    await session.delete(app)
    await session.commit()
    for directory in layout.app_dirs(data_dir, app.id):
        await asyncio.to_thread(shutil.rmtree, directory, True)


@asynccontextmanager
async def hold_app(session: AsyncSession, locks: AppLocks, app: App) -> AsyncIterator[App]:
    """Serialise an operation on ``app`` across workers: end the open read transaction (so
    no snapshot or transaction spans the wait), take the app's lock, re-read the app."""
    await session.commit()
    async with locks.hold(app.uuid):
        await session.refresh(app)
        yield app
