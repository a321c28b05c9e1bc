"""SSH keys a user registers for git push: add, list (own keys only), remove."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import Key, User
from dockyard.core.errors import Invalid, NotFound
from dockyard.core.names import check_key_id
from dockyard.db.paging import page_rows

ID_TAKEN = "SSH Key with this id already exists."
KEY_TAKEN = "Public Key is already in use"


async def add_key(*, session: AsyncSession, owner: User, key_id: str, public: str) -> Key:
    key_id = check_key_id(key_id)
    # cryptography (about 10 MB per process) loads with the first key parsed, not at start.
    from dockyard.accounts.sshkeys import parse_public_key

    parsed = parse_public_key(public)
    if await session.scalar(select(Key.uuid).where(Key.owner_id == owner.id, Key.id == key_id)):
        raise Invalid(ID_TAKEN, field="id")
    if await session.scalar(
        select(Key.uuid).where(Key.fingerprint_sha256 == parsed.fingerprint_sha256)
    ):
        raise Invalid(KEY_TAKEN, field="public")
    key = Key(
        id=key_id,
        owner_id=owner.id,
        public=parsed.openssh,
        fingerprint=parsed.fingerprint_md5,
        fingerprint_sha256=parsed.fingerprint_sha256,
    )
    session.add(key)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Invalid(KEY_TAKEN, field="public") from None
    return key


async def list_keys(
    *, session: AsyncSession, owner: User, limit: int, offset: int
) -> tuple[int, list[Key]]:
    stmt = select(Key).where(Key.owner_id == owner.id).order_by(Key.created, Key.id)
    return await page_rows(session, stmt, limit=limit, offset=offset)


async def remove_key(*, session: AsyncSession, owner: User, key_id: str) -> None:
    key = await session.scalar(select(Key).where(Key.owner_id == owner.id, Key.id == key_id))
    if key is None:
        raise NotFound(f"SSH Key {key_id} does not exist.")
    await session.delete(key)
    await session.commit()
