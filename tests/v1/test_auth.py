"""v1 accounts as the Deis v1 clients use them: the ``/v1/`` probe, form-encoded register
and login, cancel, token regeneration, password change and the user list, with the 1.6
version headers on every answer."""

from __future__ import annotations

import httpx

from dockyard.core.settings import RegistrationMode, Settings
from tests.conftest import Account, Accounts
from tests.v1.helpers import TIMESTAMP, assert_v1_headers, message, py

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


async def register_form(
    client: httpx.AsyncClient, username: str, password: str = "opensesame", **extra: str
) -> httpx.Response:
    """``deis register``: form-encoded, no trailing slash, no redirects followed."""
    payload = {"username": username, "password": password, "email": f"{username}@example.com"}
    r = await client.post("/v1/auth/register", data={**payload, **extra})
    assert_v1_headers(r)
    return r


async def login_form(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """``deis login``: form-encoded to ``/v1/auth/login/``."""
    r = await client.post("/v1/auth/login/", data={"username": username, "password": password})
    assert_v1_headers(r)
    return r


async def test_probe_answers_401_with_v1_headers(client: httpx.AsyncClient) -> None:
    for path in ("/v1/", "/v1"):  # the Python client probes /v1/, the Go client too
        r = await client.get(path)
        assert r.status_code == 401, path
        assert r.json() == {"detail": "Authentication credentials were not provided."}
        assert r.headers["www-authenticate"] == "Token"
        assert_v1_headers(r)


async def test_probe_with_a_token(client: httpx.AsyncClient, user: Account) -> None:
    r = await client.get("/v1/", headers=user.headers)
    assert r.status_code == 200
    assert r.json() == {"username": "alice"}
    assert_v1_headers(r)


async def test_register_and_login_form_encoded(client: httpx.AsyncClient) -> None:
    r = await register_form(client, "first", first_name="Test", last_name="Testerson")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == USER_FIELDS
    assert "password" not in r.text and "opensesame" not in r.text
    assert body["username"] == "first"
    assert (body["first_name"], body["last_name"]) == ("Test", "Testerson")
    # The first user registered becomes the superuser.
    assert body["is_superuser"] is True and body["is_staff"] is True
    assert TIMESTAMP.match(body["date_joined"])

    r = await login_form(client, "first", "opensesame")
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert list(r.json()) == ["token"]
    # The token works on v1 and v2 alike.
    for path in ("/v1/apps", "/v2/apps"):
        r = await client.get(path, headers={"Authorization": f"token {token}"})
        assert r.status_code == 200, path

    r = await register_form(client, "second")
    assert r.status_code == 201
    assert r.json()["is_superuser"] is False


async def test_register_and_login_json(client: httpx.AsyncClient) -> None:
    """The v1 docs (and the Go v1 client) post JSON to the slashed paths."""
    r = await py(
        client,
        None,
        "POST",
        "/v1/auth/register/",
        {"username": "json-user", "password": "pw", "email": "j@example.com"},
    )
    assert r.status_code == 201, r.text
    r = await py(
        client, None, "POST", "/v1/auth/login/", {"username": "json-user", "password": "pw"}
    )
    assert r.status_code == 200
    assert r.json()["token"]


async def test_register_and_login_errors(client: httpx.AsyncClient, user: Account) -> None:
    r = await register_form(client, "alice")
    assert r.status_code == 400
    assert r.json() == {"username": ["A user with that username already exists."]}

    r = await login_form(client, "alice", "wrong")
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    r = await login_form(client, "nobody", "wrong")
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}

    r = await client.post("/v1/auth/register", data={"password": "x"})
    assert r.status_code == 400
    assert r.json() == {"username": ["This field is required."]}
    assert_v1_headers(r)

    r = await client.get("/v1/apps", headers={"Authorization": "token nope"})
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid token."}
    assert_v1_headers(r)


async def test_passwd(client: httpx.AsyncClient, admin: Account, user: Account) -> None:
    body = {"password": user.password, "new_password": "n3w", "username": "alice"}
    r = await py(client, user, "POST", "/v1/auth/passwd", body)
    assert r.status_code == 200, r.text
    assert (await login_form(client, "alice", "n3w")).status_code == 200

    r = await py(client, user, "POST", "/v1/auth/passwd", {"password": "bad", "new_password": "x"})
    assert r.status_code == 401
    assert r.json() == {"detail": "Current password does not match"}
    r = await py(client, user, "POST", "/v1/auth/passwd", {"password": "n3w"})
    assert r.status_code == 400
    assert message(r) == "new_password is a required field"
    r = await py(client, user, "POST", "/v1/auth/passwd", {"new_password": "x"})
    assert r.status_code == 400
    assert message(r) == "password is a required field"

    # 1.6: an administrator needs no password to change another user's.
    r = await py(
        client, admin, "POST", "/v1/auth/passwd/", {"username": "alice", "new_password": "a"}
    )
    assert r.status_code == 200, r.text
    assert (await login_form(client, "alice", "a")).status_code == 200
    # Others may not.
    r = await py(
        client, user, "POST", "/v1/auth/passwd", {"username": "admin-user", "new_password": "x"}
    )
    assert r.status_code == 403
    assert r.json() == {"detail": "You do not have permission to perform this action."}


async def test_tokens(client: httpx.AsyncClient, admin: Account, user: Account) -> None:
    r = await py(client, user, "POST", "/v1/auth/tokens")
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    assert new != user.token
    assert (await client.get("/v1/apps", headers=user.headers)).status_code == 401
    fresh = Account(user.username, user.password, new)
    assert (await py(client, fresh, "GET", "/v1/apps")).status_code == 200

    r = await py(client, fresh, "POST", "/v1/auth/tokens", {"username": "admin-user"})
    assert r.status_code == 403
    r = await py(client, admin, "POST", "/v1/auth/tokens/", {"username": "alice"})
    assert r.status_code == 200
    assert (await client.get("/v1/apps", headers=fresh.headers)).status_code == 401
    # all=true: everyone logs in again.
    r = await py(client, admin, "POST", "/v1/auth/tokens", {"all": True})
    assert r.status_code == 200
    assert (await client.get("/v1/apps", headers=admin.headers)).status_code == 401


async def test_cancel(client: httpx.AsyncClient, accounts: Accounts, admin: Account) -> None:
    bob = await accounts.make("bob")
    r = await py(client, bob, "POST", "/v1/apps", {"id": "bobs-app"})
    assert r.status_code == 201
    r = await py(client, bob, "DELETE", "/v1/auth/cancel")
    assert r.status_code == 409
    assert r.json() == {
        "detail": "bob still has applications assigned. Delete or transfer ownership"
    }
    assert (await py(client, bob, "DELETE", "/v1/apps/bobs-app")).status_code == 204
    r = await py(client, bob, "DELETE", "/v1/auth/cancel")
    assert r.status_code == 204
    assert r.content == b""
    assert (await login_form(client, "bob", "s3cret-pw")).status_code == 400

    # 1.6: an administrator cancels another user without their password.
    carol = await accounts.make("carol")
    r = await py(client, carol, "DELETE", "/v1/auth/cancel/", {"username": "admin-user"})
    assert r.status_code == 403
    r = await py(client, admin, "DELETE", "/v1/auth/cancel/", {"username": "carol"})
    assert r.status_code == 204
    assert (await client.get("/v1/apps", headers=carol.headers)).status_code == 401


async def test_users_list_needs_a_superuser(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    r = await py(client, admin, "GET", "/v1/users/")  # deis users:list sends the slash
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [u["username"] for u in body["results"]] == ["admin-user", "alice"]
    assert set(body["results"][0]) == USER_FIELDS
    r = await py(client, admin, "GET", "/v1/users?page_size=1")
    assert r.json()["count"] == 2 and len(r.json()["results"]) == 1
    assert r.json()["next"].startswith("http://testserver/v1/users")
    r = await py(client, user, "GET", "/v1/users")
    assert r.status_code == 403
    assert r.json() == {"detail": "You do not have permission to perform this action."}


async def test_registration_modes(client: httpx.AsyncClient, settings: Settings) -> None:
    """Registration stays governed by the setting under v1 too."""
    settings.registration_mode = RegistrationMode.disabled
    r = await register_form(client, "nobody-allowed")
    assert r.status_code == 403
    assert r.json() == {"detail": "Registration is disabled"}
