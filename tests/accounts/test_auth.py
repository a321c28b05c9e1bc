"""Register, login, whoami, the auth header, passwd, cancel and token regeneration,
through the real ASGI app and a real database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy import select

from dockyard.accounts.models import User
from dockyard.api.app import create_app
from dockyard.core.settings import RegistrationMode, Settings
from dockyard.db.session import Database
from dockyard.models import metadata
from tests.conftest import Account, Accounts, create_app_for

NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
BAD_LOGIN = {"non_field_errors": ["Unable to log in with provided credentials."]}
PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}
USER_FIELDS = {
    "id",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "groups",
    "user_permissions",
}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

ClientFactory = Callable[[RegistrationMode], Awaitable[httpx.AsyncClient]]


def auth(token: str, keyword: str = "token") -> dict[str, str]:
    return {"Authorization": f"{keyword} {token}"}


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/v2/auth/login/", json={"username": username, "password": password})


async def whoami(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/v2/auth/whoami/", headers=auth(token))


@pytest.fixture
async def client_for(settings: Settings, clean_db: Database) -> AsyncIterator[ClientFactory]:
    """Clients over apps built with another registration mode, sharing the clean database."""
    async with AsyncExitStack() as stack:

        async def make(mode: RegistrationMode) -> httpx.AsyncClient:
            app = create_app(settings.model_copy(update={"registration_mode": mode}), clean_db)
            transport = httpx.ASGITransport(app=app)
            return await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )

        yield make


# --- register -------------------------------------------------------------------------


async def test_register_answers_user_object_and_first_user_is_superuser(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/v2/auth/register/",
        json={
            "username": "first",
            "password": "pw-first-123",
            "email": "first@example.com",
            "first_name": "Fir",
            "last_name": "St",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == USER_FIELDS
    assert "pw-first-123" not in r.text
    assert body["username"] == "first"
    assert body["email"] == "first@example.com"
    assert body["first_name"] == "Fir"
    assert body["last_name"] == "St"
    assert body["is_superuser"] is True
    assert body["is_staff"] is True
    assert body["is_active"] is True
    assert isinstance(body["id"], int)
    assert body["groups"] == [] and body["user_permissions"] == []
    assert TIMESTAMP.match(body["date_joined"])

    r2 = await client.post(
        "/v2/auth/register", json={"username": "second", "password": "pw", "email": ""}
    )
    assert r2.status_code == 201, r2.text
    assert r2.json()["is_superuser"] is False
    assert r2.json()["is_staff"] is False
    assert r2.json()["first_name"] == ""


async def test_register_duplicate_username(client: httpx.AsyncClient, admin: Account) -> None:
    r = await client.post(
        "/v2/auth/register/", json={"username": admin.username, "password": "other-pw"}
    )
    assert r.status_code == 400
    assert r.json() == {"username": ["A user with that username already exists."]}
    # The original password still works: the duplicate did not overwrite anything.
    assert (await login(client, admin.username, admin.password)).status_code == 200


async def test_register_missing_fields(client: httpx.AsyncClient) -> None:
    r = await client.post("/v2/auth/register/", json={})
    assert r.status_code == 400
    assert r.json() == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }
    r = await client.post("/v2/auth/register/", json={"username": "nopw"})
    assert r.status_code == 400
    assert r.json() == {"password": ["This field is required."]}
    r = await client.post("/v2/auth/register/", json={"username": "blankpw", "password": ""})
    assert r.status_code == 400
    assert list(r.json()) == ["password"]
    # Nothing was created by the failed attempts.
    r = await client.post("/v2/auth/register/", json={"username": "nopw", "password": "x"})
    assert r.status_code == 201
    assert r.json()["is_superuser"] is True


@pytest.mark.parametrize(
    "username", ["has space", "semi;colon", "slash/y", "", "a" * 151, "newline\n"]
)
async def test_register_invalid_username(client: httpx.AsyncClient, username: str) -> None:
    r = await client.post("/v2/auth/register/", json={"username": username, "password": "pw"})
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["username"]
    assert isinstance(r.json()["username"][0], str)


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "sp ace@x.io"])
async def test_register_invalid_email(client: httpx.AsyncClient, email: str) -> None:
    r = await client.post(
        "/v2/auth/register/", json={"username": "mailer", "password": "pw", "email": email}
    )
    assert r.status_code == 400, r.text
    assert r.json() == {"email": ["Enter a valid email address."]}


async def test_register_and_login_form_encoded(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v2/auth/register",
        data={"username": "formuser", "password": "form-pw", "email": "f@example.com"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "formuser"
    assert r.json()["email"] == "f@example.com"
    r = await client.post("/v2/auth/login", data={"username": "formuser", "password": "form-pw"})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert (await whoami(client, token)).json()["username"] == "formuser"
    r = await client.post("/v2/auth/login", data={"username": "formuser", "password": "nope"})
    assert r.status_code == 400
    assert r.json() == BAD_LOGIN


# --- registration modes ---------------------------------------------------------------


async def test_registration_disabled(client_for: ClientFactory) -> None:
    enabled = await client_for(RegistrationMode.enabled)
    disabled = await client_for(RegistrationMode.disabled)
    body = {"username": "nobody", "password": "pw"}
    # Even the very first user may not register.
    r = await disabled.post("/v2/auth/register/", json=body)
    assert r.status_code == 403
    assert r.json() == {"detail": "Registration is disabled"}
    # A user created while registration was open can still log in.
    assert (await enabled.post("/v2/auth/register/", json=body)).status_code == 201
    r = await login(disabled, "nobody", "pw")
    assert r.status_code == 200
    # Not even a superuser may register others.
    r = await disabled.post(
        "/v2/auth/register/",
        json={"username": "another", "password": "pw"},
        headers=auth(r.json()["token"]),
    )
    assert r.status_code == 403
    assert r.json() == {"detail": "Registration is disabled"}


async def test_registration_admin_only(client_for: ClientFactory) -> None:
    c = await client_for(RegistrationMode.admin_only)
    # Open while no superuser exists: the first user registers and becomes one.
    r = await c.post("/v2/auth/register/", json={"username": "boss", "password": "boss-pw"})
    assert r.status_code == 201, r.text
    assert r.json()["is_superuser"] is True
    boss = (await login(c, "boss", "boss-pw")).json()["token"]

    # Now anonymous registration is refused...
    r = await c.post("/v2/auth/register/", json={"username": "anon", "password": "pw"})
    assert r.status_code == 403
    assert "detail" in r.json()

    # ...but a superuser's token may register someone, who is not a superuser.
    r = await c.post(
        "/v2/auth/register/", json={"username": "worker", "password": "w-pw"}, headers=auth(boss)
    )
    assert r.status_code == 201, r.text
    assert r.json()["is_superuser"] is False
    worker = (await login(c, "worker", "w-pw")).json()["token"]

    # An ordinary user's token may not.
    r = await c.post(
        "/v2/auth/register/", json={"username": "friend", "password": "pw"}, headers=auth(worker)
    )
    assert r.status_code == 403
    assert (await login(c, "anon", "pw")).status_code == 400
    assert (await login(c, "friend", "pw")).status_code == 400


# --- login, whoami, the auth header ---------------------------------------------------


async def test_login_bad_credentials(client: httpx.AsyncClient, admin: Account) -> None:
    for username, password in [
        (admin.username, "wrong"),
        ("no-such-user", admin.password),
        (admin.username, ""),
    ]:
        r = await login(client, username, password)
        assert r.status_code == 400, (username, password)
        assert r.json() == BAD_LOGIN
    r = await client.post("/v2/auth/login/", json={"username": admin.username})
    assert r.status_code == 400
    assert r.json() == {"password": ["This field is required."]}


async def test_each_login_gives_a_working_token(client: httpx.AsyncClient, admin: Account) -> None:
    r = await login(client, admin.username, admin.password)
    assert r.status_code == 200
    assert set(r.json()) == {"token"}
    second = r.json()["token"]
    assert second != admin.token
    for token in (admin.token, second):
        r = await whoami(client, token)
        assert r.status_code == 200
        assert r.json()["username"] == admin.username


async def test_whoami(client: httpx.AsyncClient, user: Account) -> None:
    r = await client.get("/v2/auth/whoami", headers=user.headers)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == USER_FIELDS
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["is_superuser"] is False
    assert body["id"] == user.data["id"]
    # The login set last_login, in the API's timestamp form.
    assert body["last_login"] is not None
    assert TIMESTAMP.match(body["last_login"])


async def test_auth_keyword_is_case_insensitive(client: httpx.AsyncClient, admin: Account) -> None:
    for keyword in ("token", "Token", "TOKEN", "tOkEn"):
        r = await client.get("/v2/auth/whoami/", headers=auth(admin.token, keyword))
        assert r.status_code == 200, keyword
        assert r.json()["username"] == admin.username


async def test_missing_header_is_401(client: httpx.AsyncClient) -> None:
    for path in ("/v2/auth/whoami/", "/v2/users/", "/v2/keys"):
        r = await client.get(path)
        assert r.status_code == 401, path
        assert r.json() == NO_CREDENTIALS
        assert r.headers["www-authenticate"] == "Token"


async def test_bad_token_is_401(client: httpx.AsyncClient, admin: Account) -> None:
    for token in ("0" * 40, admin.token[:-1], admin.token + "0", admin.token.upper()):
        r = await whoami(client, token)
        assert r.status_code == 401, token
        assert r.json() == INVALID_TOKEN
        assert r.headers["www-authenticate"] == "Token"


# --- passwd ---------------------------------------------------------------------------


async def test_passwd_changes_password(client: httpx.AsyncClient, admin: Account) -> None:
    r = await client.post(
        "/v2/auth/passwd/",
        json={"password": admin.password, "new_password": "brand-new"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert (await login(client, admin.username, admin.password)).status_code == 400
    assert (await login(client, admin.username, "brand-new")).status_code == 200


async def test_passwd_errors(client: httpx.AsyncClient, admin: Account) -> None:
    r = await client.post(
        "/v2/auth/passwd/",
        json={"password": "not-it", "new_password": "x"},
        headers=admin.headers,
    )
    assert r.status_code == 401
    assert r.json() == {"detail": "Current password does not match"}
    # A 401 for a wrong password does not log the caller out.
    assert (await whoami(client, admin.token)).status_code == 200

    r = await client.post(
        "/v2/auth/passwd/", json={"password": admin.password}, headers=admin.headers
    )
    assert r.status_code == 400
    assert r.json() == {"detail": "new_password is a required field"}

    r = await client.post("/v2/auth/passwd/", json={"new_password": "x"}, headers=admin.headers)
    assert r.status_code == 400
    assert r.json() == {"detail": "password is a required field"}

    r = await client.post("/v2/auth/passwd/", json={"password": "a", "new_password": "b"})
    assert r.status_code == 401
    # None of the failures changed the password.
    assert (await login(client, admin.username, admin.password)).status_code == 200


async def test_superuser_changes_another_users_password(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.post(
        "/v2/auth/passwd/",
        json={"username": user.username, "new_password": "set-by-admin"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert (await login(client, user.username, user.password)).status_code == 400
    r = await login(client, user.username, "set-by-admin")
    assert r.status_code == 200
    assert (await whoami(client, r.json()["token"])).json()["username"] == user.username
    # The admin's own password is untouched.
    assert (await login(client, admin.username, admin.password)).status_code == 200


async def test_passwd_for_someone_else_needs_superuser(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.post(
        "/v2/auth/passwd/",
        json={"username": admin.username, "password": user.password, "new_password": "hijack"},
        headers=user.headers,
    )
    assert r.status_code == 403
    assert r.json() == PERMISSION_DENIED
    assert (await login(client, admin.username, "hijack")).status_code == 400
    assert (await login(client, admin.username, admin.password)).status_code == 200


# --- cancel ---------------------------------------------------------------------------


async def test_cancel_own_account(client: httpx.AsyncClient, user: Account) -> None:
    r = await client.delete("/v2/auth/cancel/", headers=user.headers)
    assert r.status_code == 204
    assert r.content == b""
    r = await whoami(client, user.token)
    assert r.status_code == 401
    assert r.json() == INVALID_TOKEN
    assert (await login(client, user.username, user.password)).json() == BAD_LOGIN
    # The name is free again.
    r = await client.post(
        "/v2/auth/register/", json={"username": user.username, "password": "again"}
    )
    assert r.status_code == 201


async def test_cancel_refused_while_owning_apps(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "alice-app")
    r = await client.delete("/v2/auth/cancel", headers=user.headers)
    assert r.status_code == 409
    assert r.json() == {
        "detail": "alice still has applications assigned. Delete or transfer ownership"
    }
    assert (await whoami(client, user.token)).status_code == 200


async def test_superuser_cancels_another_user(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.request(
        "DELETE", "/v2/auth/cancel/", json={"username": user.username}, headers=admin.headers
    )
    assert r.status_code == 204
    assert (await whoami(client, user.token)).status_code == 401
    assert (await whoami(client, admin.token)).status_code == 200
    r = await client.request(
        "DELETE", "/v2/auth/cancel/", json={"username": user.username}, headers=admin.headers
    )
    assert r.status_code == 404


async def test_superuser_cancel_checks_the_targets_apps(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    await create_app_for(client, user, "kept-app")
    r = await client.request(
        "DELETE", "/v2/auth/cancel/", json={"username": user.username}, headers=admin.headers
    )
    assert r.status_code == 409
    assert r.json() == {
        "detail": "alice still has applications assigned. Delete or transfer ownership"
    }


async def test_cancel_someone_else_needs_superuser(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.request(
        "DELETE", "/v2/auth/cancel/", json={"username": admin.username}, headers=user.headers
    )
    assert r.status_code == 403
    assert r.json() == PERMISSION_DENIED
    assert (await whoami(client, admin.token)).status_code == 200
    assert (await whoami(client, user.token)).status_code == 200


# --- tokens ---------------------------------------------------------------------------


async def test_regenerate_own_token(client: httpx.AsyncClient, admin: Account) -> None:
    r = await client.post("/v2/auth/tokens/", headers=admin.headers)
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    assert new != admin.token
    assert (await whoami(client, admin.token)).status_code == 401
    assert (await whoami(client, new)).json()["username"] == admin.username


async def test_regenerate_revokes_every_token_of_the_user(
    client: httpx.AsyncClient, admin: Account
) -> None:
    other = (await login(client, admin.username, admin.password)).json()["token"]
    r = await client.post("/v2/auth/tokens/", json={}, headers=auth(other))
    assert r.status_code == 200
    assert (await whoami(client, admin.token)).status_code == 401
    assert (await whoami(client, other)).status_code == 401
    assert (await whoami(client, r.json()["token"])).status_code == 200


async def test_regenerate_for_another_user(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.post(
        "/v2/auth/tokens/", json={"username": user.username}, headers=user.headers
    )
    assert r.status_code == 200  # naming oneself needs no privilege

    user_token = r.json()["token"]
    r = await client.post(
        "/v2/auth/tokens/", json={"username": admin.username}, headers=auth(user_token)
    )
    assert r.status_code == 403
    assert r.json() == PERMISSION_DENIED
    assert (await whoami(client, admin.token)).status_code == 200

    r = await client.post(
        "/v2/auth/tokens/", json={"username": user.username}, headers=admin.headers
    )
    assert r.status_code == 200
    assert (await whoami(client, user_token)).status_code == 401
    assert (await whoami(client, r.json()["token"])).json()["username"] == user.username
    assert (await whoami(client, admin.token)).status_code == 200

    r = await client.post("/v2/auth/tokens/", json={"username": "ghost"}, headers=admin.headers)
    assert r.status_code == 404


async def test_regenerate_all_tokens(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await client.post("/v2/auth/tokens/", json={"all": True}, headers=user.headers)
    assert r.status_code == 403
    assert (await whoami(client, user.token)).status_code == 200
    assert (await whoami(client, admin.token)).status_code == 200

    r = await client.post("/v2/auth/tokens/", json={"all": True}, headers=admin.headers)
    assert r.status_code == 200, r.text
    for token in (admin.token, user.token):
        r = await whoami(client, token)
        assert r.status_code == 401
        assert r.json() == INVALID_TOKEN
    # Logging in again works.
    r = await login(client, user.username, user.password)
    assert (await whoami(client, r.json()["token"])).status_code == 200


async def test_regenerate_all_form_encoded_string(
    client: httpx.AsyncClient, admin: Account
) -> None:
    # The API reference shows "all": "true" as a string.
    r = await client.post("/v2/auth/tokens/", data={"all": "true"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert (await whoami(client, admin.token)).status_code == 401


# --- secrets at rest ------------------------------------------------------------------


async def test_database_stores_no_plaintext_token_or_password(
    client: httpx.AsyncClient, clean_db: Database, accounts: Accounts
) -> None:
    account = await accounts.make("secretive", password="Plain-Text-Password-42")
    regenerated = (await client.post("/v2/auth/tokens/", headers=account.headers)).json()["token"]
    fresh = (await login(client, account.username, account.password)).json()["token"]
    secrets = [account.password, account.token, regenerated, fresh]

    async with clean_db.session() as s:
        row = await s.scalar(select(User).where(User.username == "secretive"))
        assert row is not None
        assert row.password_hash.startswith("$argon2")
        assert account.password not in row.password_hash
        # Scan every column of every table for any of the secrets.
        seen = 0
        for table in metadata.sorted_tables:
            for values in (await s.execute(select(table))).all():
                for value in values:
                    seen += 1
                    text = str(value)
                    for secret in secrets:
                        assert secret not in text, (table.name, secret)
        assert seen > 0
        tokens = metadata.tables["tokens"]
        assert len((await s.execute(select(tokens))).all()) == 2  # regenerated + fresh
