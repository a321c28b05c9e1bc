"""Each app's own uid: the allocation rules (pure), and what app creation records through
the API (the uid is not shown to clients; the database holds it)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from dockyard.apps.models import App
from dockyard.apps.uids import after, lowest_free
from dockyard.core.identity import parse_uid_range
from dockyard.core.settings import Settings
from dockyard.db.session import Database
from tests.conftest import Account, create_app_for


def test_parse_uid_range() -> None:
    assert parse_uid_range("200000-299999") == (200000, 299999)
    assert parse_uid_range(" 5000-5000 ") == (5000, 5000)
    for bad in ("", "200000", "a-b", "300-400", "5000-4000", "5000-2147483647"):
        with pytest.raises(ValueError):
            parse_uid_range(bad)


def test_settings_refuse_a_bad_uid_range() -> None:
    assert Settings(app_uid_range="300000-300009").uid_range == (300000, 300009)
    with pytest.raises(ValidationError, match="not a usable uid range"):
        Settings(app_uid_range="0-100")


def test_the_next_uid_is_above_the_highest_then_the_lowest_free() -> None:
    assert after(None, 100, 200) == 100
    assert after(50, 100, 200) == 100  # a uid below the range does not count
    assert after(150, 100, 200) == 151
    assert after(200, 100, 200) is None
    assert lowest_free([100, 101, 103, 200], 100, 200) == 102
    assert lowest_free(range(100, 201), 100, 200) is None


async def uids(database: Database) -> dict[str, int | None]:
    async with database.session() as session:
        return {a.id: a.uid for a in await session.scalars(select(App))}


async def test_each_app_gets_its_own_uid_and_a_destroyed_apps_is_not_reused_at_once(
    client: httpx.AsyncClient, user: Account, clean_db: Database, settings: Settings
) -> None:
    first, _last = settings.uid_range
    for name in ("uid-one", "uid-two", "uid-three"):
        await create_app_for(client, user, name)
    assert await uids(clean_db) == {"uid-one": first, "uid-two": first + 1, "uid-three": first + 2}
    r = await client.delete("/v2/apps/uid-two", headers=user.headers)
    assert r.status_code == 204, r.text
    await create_app_for(client, user, "uid-four")
    assert (await uids(clean_db))["uid-four"] == first + 3


async def test_a_full_uid_range_refuses_new_apps_with_a_reason(
    client: httpx.AsyncClient, user: Account, clean_db: Database, settings: Settings
) -> None:
    settings.app_uid_range = "400000-400001"
    await create_app_for(client, user, "full-one")
    r = await client.delete("/v2/apps/full-one", headers=user.headers)
    assert r.status_code == 204, r.text
    await create_app_for(client, user, "full-two")
    await create_app_for(client, user, "full-three")  # wraps to the lowest free uid
    assert await uids(clean_db) == {"full-two": 400001, "full-three": 400000}
    r = await client.post("/v2/apps/", json={"id": "full-four"}, headers=user.headers)
    assert r.status_code == 503, r.text
    assert "DOCKYARD_APP_UID_RANGE (400000-400001)" in r.json()["detail"]
