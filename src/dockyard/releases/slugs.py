"""Slugs on the local scheduler: the directory a build leaves in
``<data dir>/builds/<app>/<build>/``, which every release of that build runs.

A finished slug belongs to the controller and is only readable by the app's own gid (when
the controller is root), so an app can't change the code a later restart or rollback runs,
and no other app can read it. Only the slugs of the app's
last ``DOCKYARD_KEEP_RELEASES`` releases (and of the release that is running) are kept;
rolling back to a release whose slug is gone is refused with the reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core import layout
from dockyard.releases import engine
from dockyard.releases.models import Build, Release


def app_dir(path: Path, gid: int | None) -> None:
    """``builds/<app>/``: ``root:<gid>`` 0750 when the controller is root and the app has its
    own gid, so no other app can even reach its slugs; else traverse-only (0711). Blocking."""
    path.mkdir(parents=True, exist_ok=True)
    if gid is not None and os.geteuid() == 0:
        os.chown(path, 0, gid)
        os.chmod(path, 0o750)
    else:
        os.chmod(path, 0o711)


def seal(root: Path, gid: int | None = None) -> None:
    """Make a built slug the controller's (when it is root) and read-only for the app: with
    the app's own gid, ``root:<gid>`` with directories 0750 and files 0640 (0750 when
    executable), so no other app can read it; without one, readable by all (0755/0644).
    Blocking."""
    owner = 0 if os.geteuid() == 0 else None
    group = gid if owner is not None and gid is not None else owner
    private = group is not None and gid is not None
    dir_mode, file_mode = (0o750, 0o640) if private else (0o755, 0o644)
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(directory, name)
            if owner is not None and group is not None:
                os.lchown(path, owner, group)
            if os.path.islink(path):
                continue
            mode = os.lstat(path).st_mode
            os.chmod(path, dir_mode if name in dirs or mode & 0o111 else file_mode)
    if owner is not None and group is not None:
        os.lchown(root, owner, group)
    os.chmod(root, dir_mode)


def discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


async def prune(*, session: AsyncSession, app: App, data_dir: Path, keep: int) -> int:
    """Delete the slugs no longer needed for rollback; returns how many went."""
    recent = await session.scalars(
        select(Release.build_uuid)
        .where(Release.app_uuid == app.uuid)
        .order_by(Release.version.desc())
        .limit(keep)
    )
    kept = {uuid for uuid in recent if uuid}
    current = await engine.current_release(session, app)
    if current.build_uuid:
        kept.add(current.build_uuid)
    rows = await session.execute(
        select(Build.uuid, Build.source_dir).where(
            Build.app_uuid == app.uuid, Build.source_dir.is_not(None), Build.status != "building"
        )
    )
    root = layout.slugs_dir(data_dir, app.id)
    doomed = [Path(source) for uuid, source in rows if uuid not in kept and source]
    # Only directories of this app's slugs, whatever a row says.
    gone = [path for path in doomed if path.parent == root]
    return await asyncio.to_thread(_discard_all, gone)


def _discard_all(paths: list[Path]) -> int:
    found = [path for path in paths if path.exists()]
    for path in found:
        discard(path)
    return len(found)


async def interrupted_builds(*, session: AsyncSession, data_dir: Path) -> int:
    """Builds left ``building`` by a server that stopped mid-build: failed, slugs deleted.
    Only for a server's start, when no build can be running."""
    rows = list(
        await session.execute(
            select(Build.uuid, App.id)
            .join(App, App.uuid == Build.app_uuid)
            .where(Build.status == "building")
        )
    )
    for uuid, app_id in rows:
        await asyncio.to_thread(discard, layout.slug_dir(data_dir, app_id, uuid))
    if rows:
        await session.execute(
            update(Build).where(Build.status == "building").values(status="failed")
        )
        await session.commit()
    return len(rows)


async def reseal_all(*, session: AsyncSession, data_dir: Path) -> int:
    """Slugs sealed before apps had uids of their own (readable by every user) become their
    app's gid's alone; an app already sealed so is skipped at the cost of one ``stat``. For a
    server's start, as root. Returns how many apps were resealed."""
    if os.geteuid() != 0:
        return 0
    rows = await session.execute(select(App.id, App.uid).where(App.uid.is_not(None)))
    return await asyncio.to_thread(
        _reseal, data_dir, [(app, uid) for app, uid in rows if uid is not None]
    )


def _reseal(data_dir: Path, apps: list[tuple[str, int]]) -> int:
    done = 0
    for app, uid in apps:
        root = layout.slugs_dir(data_dir, app)
        try:
            info = root.stat()
        except FileNotFoundError:
            continue
        if (info.st_gid, info.st_mode & 0o777) == (uid, 0o750):
            continue
        for slug in root.iterdir():
            if slug.is_dir() and not slug.is_symlink():
                seal(slug, uid)
        app_dir(root, uid)  # last: an interrupted reseal is taken up again at the next start
        done += 1
    return done
