"""Applications: list what a user may see, create (with release v1), load with a permission
check, transfer ownership and destroy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import User
from dockyard.accounts.service import get_user
from dockyard.apps.access import Action, require
from dockyard.apps.models import App, Collaborator
from dockyard.apps.naming import generate_name, generate_with_suffix
from dockyard.core.errors import Invalid, NotFound
from dockyard.core.names import check_app_id
from dockyard.db.paging import page_rows
from dockyard.releases.service import create_initial_release

APP_TAKEN = "Application with this id already exists."
NAME_ATTEMPTS = 20


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


def _visible_to(user: User):  # type: ignore[no-untyped-def]
    shared = exists().where(Collaborator.app_uuid == App.uuid, Collaborator.user_id == user.id)
    return or_(App.owner_id == user.id, shared)


async def list_apps(
    *, session: AsyncSession, user: User, limit: int, offset: int
) -> tuple[int, list[tuple[App, str]]]:
    """Superusers see every app; others the apps they own plus those shared with them."""
    where = [] if user.is_superuser else [_visible_to(user)]
    stmt = select(App, User.username).join(User, User.id == App.owner_id).where(*where)
    return await page_rows(session, stmt.order_by(App.id), limit=limit, offset=offset)


async def load_app(
    *, session: AsyncSession, user: User, app_id: str, action: Action = Action.use
) -> AppAccess:
    collaborating = (
        exists()
        .where(Collaborator.app_uuid == App.uuid, Collaborator.user_id == user.id)
        .correlate(App)
    )
    row = (
        await session.execute(
            select(App, User.username, collaborating.label("collab"))
            .join(User, User.id == App.owner_id)
            .where(App.id == app_id)
        )
    ).first()
    if row is None:
        raise NotFound("No App matches the given query.")
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
    *, session: AsyncSession, owner: User, app_id: str | None, reserved: frozenset[str]
) -> App:
    if app_id is None:
        name = await _generate(session, reserved)
    else:
        name = check_app_id(app_id, reserved=reserved)
        if not await _name_free(session, name):
            raise Invalid(APP_TAKEN, field="id")
    app = App(id=name, owner_id=owner.id, structure={})
    session.add(app)
    try:
        await session.flush()
        await create_initial_release(session=session, app=app, owner=owner.username)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Invalid(APP_TAKEN, field="id") from None
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


async def destroy(*, session: AsyncSession, access: AppAccess) -> None:
    access.require(Action.destroy)
    await session.delete(access.app)
    await session.commit()
