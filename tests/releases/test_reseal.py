"""Slugs made before apps had uids of their own (readable by every user) are made their app's
alone at the next server start (``slugs.reseal_all``, run by ``dockyard.startup``)."""

from __future__ import annotations

import os

import httpx
import pytest
from sqlalchemy import select

from dockyard.apps.models import App
from dockyard.core import layout
from dockyard.core.settings import Settings
from dockyard.db.session import Database
from dockyard.releases.slugs import reseal_all
from tests.conftest import Account, create_app_for


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's group needs root")
async def test_old_slugs_become_their_apps_alone(
    client: httpx.AsyncClient, user: Account, clean_db: Database, settings: Settings
) -> None:
    await create_app_for(client, user, "old-slugs")
    await create_app_for(client, user, "never-built")
    async with clean_db.session() as session:
        uid = await session.scalar(select(App.uid).where(App.id == "old-slugs"))
    assert uid is not None
    root = layout.slugs_dir(settings.data_dir, "old-slugs")
    slug = root / "b1"
    (slug / "bin").mkdir(parents=True)
    (slug / "bin" / "run").write_text("#!/bin/sh\n")
    (slug / "app.py").write_text("print('hi')\n")
    for path, mode in ((root, 0o711), (slug, 0o755), (slug / "bin", 0o755)):
        path.chmod(mode)
    (slug / "bin" / "run").chmod(0o755)
    (slug / "app.py").chmod(0o644)

    async with clean_db.session() as session:
        assert await reseal_all(session=session, data_dir=settings.data_dir) == 1
        assert await reseal_all(session=session, data_dir=settings.data_dir) == 0

    expected = {
        root: 0o750,
        slug: 0o750,
        slug / "bin": 0o750,
        slug / "bin" / "run": 0o750,
        slug / "app.py": 0o640,
    }
    for path, mode in expected.items():
        info = os.stat(path)
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, uid, mode), path
