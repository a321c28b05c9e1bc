"""Sign-in throttling: the pure rules, then the behaviour through the v2 and v1 login (JSON
and form-encoded), passwd, and several client addresses, on the real database; the end of
a lock through the service's injectable clock."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts import service
from dockyard.accounts.models import LoginFailure
from dockyard.accounts.throttle import (
    ADDRESS_LIMIT,
    USER_LIMIT,
    WINDOW,
    lock_end,
    retry_after,
)
from dockyard.api.app import create_app
from dockyard.core.errors import Invalid, TooManyRequests
from dockyard.core.settings import Settings
from dockyard.db.session import Database
from dockyard.scheduler.local.client import LocalScheduler
from tests.conftest import Account

T0 = datetime(2026, 1, 1, 12, 0, 0)
THROTTLED = re.compile(r"^Too many failed sign-in attempts\. Please try again in (\d+) seconds\.$")

# --- the rules, without a database -----------------------------------------------------


def _every(seconds: float, count: int) -> list[datetime]:
    return [T0 + timedelta(seconds=seconds * i) for i in range(count)]


def test_below_the_limit_nothing_is_locked() -> None:
    assert lock_end(_every(1, USER_LIMIT - 1), limit=USER_LIMIT) is None
    assert lock_end([], limit=USER_LIMIT) is None


def test_the_limit_within_a_window_locks_for_a_window_after_the_last() -> None:
    times = _every(20, USER_LIMIT)  # 10 failures over 3 minutes
    assert lock_end(times, limit=USER_LIMIT) == times[-1] + WINDOW


def test_failures_spread_over_more_than_a_window_do_not_lock() -> None:
    # 10 failures, 40 s apart: 6 minutes from the first to the last.
    assert lock_end(_every(40, USER_LIMIT), limit=USER_LIMIT) is None


def test_the_latest_run_that_reached_the_limit_decides() -> None:
    early = _every(1, USER_LIMIT)
    late = [T0 + timedelta(minutes=7) + timedelta(seconds=i) for i in range(USER_LIMIT)]
    assert lock_end(early + late, limit=USER_LIMIT) == late[-1] + WINDOW
    # A lone failure long after starts no lock: the end is the earlier run's (long past).
    lone = T0 + timedelta(minutes=20)
    assert lock_end([*early, lone], limit=USER_LIMIT) == early[-1] + WINDOW
    assert retry_after(lock_end([*early, lone], limit=USER_LIMIT), lone) is None


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    end = T0 + WINDOW
    assert retry_after(end, T0) == 300
    assert retry_after(end, T0 + timedelta(seconds=0.2)) == 300
    assert retry_after(end, end - timedelta(milliseconds=1)) == 1
    assert retry_after(end, end) is None
    assert retry_after(end, end + timedelta(seconds=1)) is None
    assert retry_after(None, T0) is None


# --- through the API ---------------------------------------------------------------------

LoginFn = Callable[[httpx.AsyncClient, str, str], Awaitable[httpx.Response]]


async def v2_login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/v2/auth/login/", json={"username": username, "password": password})


async def v1_login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """``deis login`` (v1 Python client): form-encoded, no trailing slash."""
    return await client.post("/v1/auth/login", data={"username": username, "password": password})


LOGINS = pytest.mark.parametrize("login", [v2_login, v1_login], ids=["v2", "v1"])
At = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def at(
    settings: Settings, clean_db: Database, scheduler: LocalScheduler
) -> AsyncIterator[At]:
    """Clients of one app, each connecting from the address it is asked for."""
    app = create_app(settings, database=clean_db, scheduler=scheduler)
    clients: dict[str, httpx.AsyncClient] = {}
    async with AsyncExitStack() as stack:

        def client_at(address: str) -> httpx.AsyncClient:
            if address not in clients:
                transport = httpx.ASGITransport(app=app, client=(address, 123))
                clients[address] = httpx.AsyncClient(
                    transport=transport, base_url="http://testserver"
                )
                stack.push_async_callback(clients[address].aclose)
            return clients[address]

        yield client_at


def assert_throttled(r: httpx.Response) -> int:
    assert r.status_code == 429, r.text
    match = THROTTLED.match(r.json()["detail"])
    assert match, r.json()
    seconds = int(r.headers["retry-after"])
    assert seconds == int(match.group(1))
    assert 0 < seconds <= 300
    return seconds


async def fail(login: LoginFn, client: httpx.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        r = await login(client, username, "wrong password")
        assert r.status_code == 400, r.text
        assert r.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}


@LOGINS
async def test_ten_failures_lock_the_username_even_with_the_right_password(
    login: LoginFn,
    at: At,
    clean_db: Database,
    user: Account,
    admin: Account,
) -> None:
    here = at("10.0.0.5")
    await fail(login, here, user.username, USER_LIMIT)
    assert_throttled(await login(here, user.username, "wrong password"))
    assert_throttled(await login(here, user.username, user.password))
    # The username is locked from every address, and on the other API version too.
    assert_throttled(await login(at("10.0.0.6"), user.username, user.password))
    other = v1_login if login is v2_login else v2_login
    assert_throttled(await other(here, user.username, user.password))
    # Another user from the same address is not.
    r = await login(here, admin.username, admin.password)
    assert r.status_code == 200, r.text
    # The refused attempts were not counted: only the ten failures are.
    async with clean_db.session() as session:
        assert await _failures(session, user.username) == USER_LIMIT


@LOGINS
async def test_a_success_before_the_limit_resets_the_username(
    login: LoginFn,
    at: At,
    user: Account,
) -> None:
    here = at("10.0.0.5")
    await fail(login, here, user.username, USER_LIMIT - 1)
    r = await login(here, user.username, user.password)
    assert r.status_code == 200, r.text
    await fail(login, here, user.username, USER_LIMIT)  # ten more are answered, not locked
    assert_throttled(await login(here, user.username, user.password))


async def test_a_burst_of_attempts_cannot_outrun_the_count(
    at: At, clean_db: Database, user: Account
) -> None:
    here = at("10.0.0.5")
    answers = await asyncio.gather(
        *(v2_login(here, user.username, f"guess{i}") for i in range(3 * USER_LIMIT))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [400] * USER_LIMIT + [429] * (2 * USER_LIMIT)
    async with clean_db.session() as session:
        assert await _failures(session, user.username) == USER_LIMIT


async def test_fifty_failures_from_one_address_lock_that_address_only(
    at: At, user: Account
) -> None:
    attacker = at("10.0.0.5")
    for i in range(ADDRESS_LIMIT):  # one failure each for many usernames, real or not
        await fail(v2_login, attacker, f"guess{i}", 1)
    assert_throttled(await v2_login(attacker, user.username, user.password))
    assert_throttled(await v1_login(attacker, user.username, user.password))
    r = await v2_login(at("10.0.0.6"), user.username, user.password)
    assert r.status_code == 200, r.text


async def test_x_forwarded_for_is_not_the_client_address(at: At, user: Account) -> None:
    attacker = at("10.0.0.5")
    for i in range(ADDRESS_LIMIT):
        r = await attacker.post(
            "/v2/auth/login/",
            json={"username": f"guess{i}", "password": "x"},
            headers={"X-Forwarded-For": f"192.0.2.{i}"},
        )
        assert r.status_code == 400
    assert_throttled(await v2_login(attacker, user.username, user.password))


async def test_wrong_current_passwords_count_and_lock(at: At, user: Account) -> None:
    here = at("10.0.0.5")
    for _ in range(USER_LIMIT):
        r = await here.post(
            "/v2/auth/passwd/",
            json={"password": "wrong", "new_password": "new-pw"},
            headers=user.headers,
        )
        assert r.status_code == 401, r.text
    r = await here.post(
        "/v2/auth/passwd/",
        json={"password": user.password, "new_password": "new-pw"},
        headers=user.headers,
    )
    assert_throttled(r)
    assert_throttled(await v2_login(here, user.username, user.password))


async def test_login_documents_429(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/v2/auth/login", "/v1/auth/login", "/v2/auth/passwd"):
        assert "429" in paths[path]["post"]["responses"], path


# --- the clock: a lock ends, old failures are pruned ------------------------------------


async def _failures(session: AsyncSession, username: str | None = None) -> int:
    query = select(func.count()).select_from(LoginFailure)
    if username is not None:
        query = query.where(LoginFailure.username == username)
    return int(await session.scalar(query) or 0)


async def test_a_lock_ends_a_window_after_the_last_failure(
    clean_db: Database, user: Account
) -> None:
    async with clean_db.session() as session:
        for i in range(USER_LIMIT):
            with pytest.raises(Invalid):
                await service.login(
                    session=session,
                    username=user.username,
                    password="wrong",
                    address="10.0.0.5",
                    now=T0 + timedelta(seconds=i),
                )
        last = T0 + timedelta(seconds=USER_LIMIT - 1)
        with pytest.raises(TooManyRequests) as locked:
            await service.login(
                session=session,
                username=user.username,
                password=user.password,
                address="10.0.0.5",
                now=last + timedelta(minutes=4),
            )
        assert locked.value.retry_after == 60
        token = await service.login(
            session=session,
            username=user.username,
            password=user.password,
            address="10.0.0.5",
            now=last + WINDOW,
        )
        assert token
        assert await _failures(session, user.username) == 0


async def test_failures_older_than_two_windows_are_pruned(
    clean_db: Database, user: Account
) -> None:
    async with clean_db.session() as session:
        for when in (T0, T0 + timedelta(minutes=6), T0 + timedelta(minutes=10, seconds=1)):
            with pytest.raises(Invalid):
                await service.login(
                    session=session,
                    username="nobody",
                    password="wrong",
                    address="10.0.0.5",
                    now=when,
                )
        # The first is over two windows older than the last: gone; the second stays.
        assert await _failures(session) == 2
