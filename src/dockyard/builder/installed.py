"""Buildpacks administrators install (``/v2/buildpacks``): add one from an archive, list,
remove. A build uses one when ``BUILDPACK_URL`` or ``.buildpacks`` names it.

The archive is untrusted input even from an administrator (it may come from anywhere): it
is checked and unpacked with the same rules as a source upload, must hold ``bin/compile``,
and ends up read-only in ``<data dir>/buildpacks/<name>/``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.builder import catalog
from dockyard.builder.archive import ArchiveError, Limits, extract_archive
from dockyard.builder.buildpack_rules import NAME_RE
from dockyard.builder.models import Buildpack
from dockyard.core import layout
from dockyard.core.errors import Conflict, Invalid, NotFound
from dockyard.db.paging import page_rows
from dockyard.releases import slugs

MAX_ENTRIES = 100_000


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME_RE.match(name):
        raise Invalid(
            "A buildpack name is 1 to 64 characters: lowercase letters, digits, '.', '_' and "
            "'-', starting with a letter or digit.",
            field="name",
        )
    if name in catalog.BUILTIN:
        raise Invalid(f"{name} is the name of a built-in buildpack.", field="name")
    return name


def _unpack(archive: Path, staging: Path, limit: int) -> int:
    staging.mkdir(mode=0o700)
    try:
        summary = extract_archive(
            archive, staging, Limits(max_bytes=limit, max_entries=MAX_ENTRIES)
        )
    except ArchiveError as exc:
        raise Invalid(str(exc), field="buildpack") from None
    if not (staging / "bin" / "compile").is_file():
        raise Invalid("The buildpack has no bin/compile.", field="buildpack")
    slugs.seal(staging)
    for script in (staging / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            os.chmod(script, 0o755)
    return summary.unpacked_bytes


async def add(
    *, session: AsyncSession, data_dir: Path, name: str, owner: str, archive: Path, limit: int
) -> Buildpack:
    name = check_name(name)
    if await session.scalar(select(Buildpack.uuid).where(Buildpack.name == name)):
        raise Conflict(f"A buildpack named {name} is installed already; remove it first.")
    root = layout.buildpacks_dir(data_dir)
    staging = root / f".new-{name}-{os.getpid()}"
    await asyncio.to_thread(shutil.rmtree, staging, True)
    try:
        size = await asyncio.to_thread(_unpack, archive, staging, limit)
        row = Buildpack(name=name, owner=owner, size=size)
        session.add(row)
        await session.flush()
        target = catalog.installed_dir(data_dir, name)
        await asyncio.to_thread(shutil.rmtree, target, True)
        await asyncio.to_thread(staging.rename, target)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"A buildpack named {name} is installed already; remove it first.") from None
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, True)
    return row


async def list_installed(
    *, session: AsyncSession, limit: int, offset: int
) -> tuple[int, list[Buildpack]]:
    return await page_rows(
        session, select(Buildpack).order_by(Buildpack.name), limit=limit, offset=offset
    )


async def remove(*, session: AsyncSession, data_dir: Path, name: str) -> None:
    row = await session.scalar(select(Buildpack).where(Buildpack.name == name))
    if row is None:
        raise NotFound(f"No buildpack named {name} is installed.")
    await session.delete(row)
    await session.commit()
    await asyncio.to_thread(shutil.rmtree, catalog.installed_dir(data_dir, name), True)
