"""The v2 Go clients (Deis Workflow CLI over controller-sdk-go, and Drycc's fork) replayed
request by request: how they probe, authenticate, page, which paths they send with and
without a trailing slash, which fields they decode, and the error bodies they match
exactly (``checkForErrors``: 400 bodies by field and message, ``detail`` shown for 409
and 422)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dockyard import __version__
from tests.conftest import Account, Accounts
from tests.releases.helpers import write_app
from tests.routing import pki

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# Fields the Go client decodes into time values: never null.
TIME_FIELDS = ("created", "updated", "expires", "starts", "started")


class GoClient:
    """``Client.Request``: every request carries ``Content-Type: application/json`` (even a
    GET or DELETE with no body), the token, and a User-Agent; lists go through
    ``LimitedRequest`` (``?limit=N``)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    async def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Content-Type": "application/json", "User-Agent": "Deis Client v2.3.0"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        content = b"" if body is None else json.dumps(body).encode()
        r = await self.http.request(method, path, content=content, headers=headers)
        # Every answer carries the version the client compares (minor as a string).
        assert r.headers["DEIS_API_VERSION"] == "2.3", (path, dict(r.headers))
        assert r.headers["DRYCC_API_VERSION"] == "2.3"
        assert r.headers["DEIS_PLATFORM_VERSION"] == __version__
        assert r.headers["DRYCC_PLATFORM_VERSION"] == __version__
        return r

    async def limited(self, path: str, results: int = 100) -> tuple[list[Any], int]:
        r = await self.request("GET", f"{path}?limit={results}")
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        # res["results"].([]interface{}) and int(res["count"].(float64)) must not panic.
        assert isinstance(body["results"], list) and isinstance(body["count"], int)
        return body["results"], body["count"]


def no_null_times(obj: Any) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in TIME_FIELDS:
                assert isinstance(value, str) and TIMESTAMP.match(value), (key, obj)
            no_null_times(value)
    elif isinstance(obj, list):
        for item in obj:
            no_null_times(item)


def ssh_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " me@laptop"


async def test_probe_register_login(client: httpx.AsyncClient) -> None:
    go = GoClient(client)
    # CheckConnection: GET /v2/ without a token must answer 401.
    r = await go.request("GET", "/v2/")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Token"
    assert r.json() == {"detail": "Authentication credentials were not provided."}
    # /healthz needs no token and carries the headers too.
    r = await go.request("GET", "/healthz")
    assert (r.status_code, r.text) == (200, "OK")
    r = await go.request("GET", "/readiness")
    assert (r.status_code, r.text) == (200, "OK")

    body = {"username": "gopher", "password": "pw", "email": "gopher@example.com"}
    r = await go.request("POST", "/v2/auth/register/", body)
    assert r.status_code == 201, r.text
    no_null_times({k: v for k, v in r.json().items() if k != "last_login"})
    r = await go.request("POST", "/v2/auth/register/", body)
    assert r.status_code == 400
    assert r.json() == {"username": ["A user with that username already exists."]}
    r = await go.request("POST", "/v2/auth/register/", {**body, "username": ""})
    assert r.json() == {"username": ["This field may not be blank."]}
    r = await go.request("POST", "/v2/auth/register/", {**body, "username": "no spaces"})
    assert r.json() == {  # ErrInvalidUsername: matched word for word
        "username": [
            "Enter a valid username. This value may contain only letters, numbers and "
            "@/./+/-/_ characters."
        ]
    }
    r = await go.request("POST", "/v2/auth/register/", {**body, "username": "x", "password": ""})
    assert r.json() == {"password": ["This field may not be blank."]}
    r = await go.request("POST", "/v2/auth/register/", {**body, "username": "y", "email": "no"})
    assert r.json() == {"email": ["Enter a valid email address."]}

    r = await go.request("POST", "/v2/auth/login/", {"username": "gopher", "password": "bad"})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    r = await go.request("POST", "/v2/auth/login/", {"username": "gopher", "password": "pw"})
    assert r.status_code == 200
    go.token = r.json()["token"]

    r = await go.request("GET", "/v2/")
    assert r.status_code == 200
    r = await go.request("GET", "/v2/auth/whoami/")
    assert r.status_code == 200
    assert r.json()["username"] == "gopher"
    assert r.json()["last_login"] is not None  # logged in by now
    no_null_times(r.json())


async def test_apps_config_and_errors(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    go = GoClient(client, user.token)
    # apps.New with no id: an empty body, still Content-Type: application/json.
    r = await go.request("POST", "/v2/apps/")
    assert r.status_code == 201, r.text
    generated = r.json()["id"]
    r = await go.request("POST", "/v2/apps/", {"id": "go-app"})
    assert r.status_code == 201
    r = await go.request("POST", "/v2/apps/", {"id": "go-app"})
    assert r.status_code == 400
    assert r.json() == {"id": ["Application with this id already exists."]}

    apps, count = await go.limited("/v2/apps/")
    assert count == 2 and {a["id"] for a in apps} == {generated, "go-app"}
    no_null_times(apps)
    r = await go.request("GET", "/v2/apps/go-app/")
    assert r.status_code == 200
    no_null_times(r.json())
    r = await go.request("GET", "/v2/apps/go-app/build/")  # no build yet
    assert r.status_code == 404
    assert r.json() == {"detail": "No Build matches the given query."}

    # config:set, config:unset, and the 409 / 422 the client shows as detail.
    r = await go.request("POST", "/v2/apps/go-app/config/", {"values": {"A": "1"}})
    assert r.status_code == 201
    assert r.headers["X-Drycc-Release"] == r.headers["X-Deis-Release"] == "2"
    no_null_times(r.json())
    r = await go.request("POST", "/v2/apps/go-app/config/", {"values": {"A": "1"}})
    assert r.status_code == 409
    assert r.json() == {"detail": "alice changed nothing - release stopped"}
    r = await go.request("POST", "/v2/apps/go-app/config/", {"values": {"B": None}})
    assert r.status_code == 422
    assert r.json() == {"detail": "B does not exist under values"}

    # Releases: list, info (v<N> with a slash), rollback to the initial release refused.
    releases, count = await go.limited("/v2/apps/go-app/releases/")
    assert [rel["version"] for rel in releases] == [2, 1]
    no_null_times(releases)
    r = await go.request("GET", "/v2/apps/go-app/releases/v1/")
    assert r.status_code == 200 and r.json()["build"] is None
    r = await go.request("POST", "/v2/apps/go-app/releases/rollback/", {"version": 1})
    assert r.status_code == 400
    assert r.json() == {"detail": "Cannot roll back to initial release."}
    r = await go.request("POST", "/v2/apps/go-app/releases/rollback/", {"version": -1})
    assert r.json() == {"detail": "version cannot be below 0"}  # ErrInvalidVersion

    # Transfer, then the old owner is a stranger.
    await accounts.make("bob")
    r = await go.request("POST", "/v2/apps/go-app/", {"owner": "bob"})
    assert r.status_code == 200
    assert r.json()["owner"] == "bob"
    r = await go.request("GET", "/v2/apps/go-app/")
    assert r.status_code == 403
    assert r.json() == {"detail": "You do not have permission to perform this action."}

    # Method and route errors.
    r = await go.request("PUT", "/v2/apps/")
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "PUT" not allowed.'}
    r = await go.request("GET", "/v2/apps/nope/")
    assert r.status_code == 404
    assert r.json() == {"detail": "No App matches the given query."}


async def test_builds_pods_run(client: httpx.AsyncClient, user: Account, tmp_path: Path) -> None:
    go = GoClient(client, user.token)
    await go.request("POST", "/v2/apps/", {"id": "go-run"})
    marker = "go-client-" + tmp_path.name[-8:]
    source = write_app(tmp_path / "src", marker)
    try:
        r = await go.request("POST", "/v2/apps/go-run/builds/", {"image": str(source)})
        assert r.status_code == 201, r.text
        assert r.headers["X-Drycc-Release"] == "2"
        no_null_times(r.json())
        builds, count = await go.limited("/v2/apps/go-run/builds/")
        assert count == 1
        # The v2.0 references' singular path: the newest build, and a build made there.
        r = await go.request("GET", "/v2/apps/go-run/build/")
        assert r.status_code == 200 and r.json()["uuid"] == builds[0]["uuid"]

        pods, count = await go.limited("/v2/apps/go-run/pods/", 1000)
        assert count == 1 and pods[0]["type"] == "web"
        no_null_times(pods)
        # The CLI parses the type out of the pod name.
        assert re.match(r"^go-run-web-\d+-[a-z0-9]{5}$", pods[0]["name"])
        r = await go.request("POST", "/v2/apps/go-run/scale/", {"web": 1, "worker": 1})
        assert r.status_code == 204
        r = await go.request("POST", "/v2/apps/go-run/scale/", {"clock": 1})
        assert r.status_code == 404
        assert "does not exist in application" in r.json()["detail"]  # ErrPodNotFound

        r = await go.request("POST", "/v2/apps/go-run/pods/worker/restart/")
        assert r.status_code == 200
        (worker,) = r.json()
        assert worker["type"] == "worker"
        no_null_times(r.json())
        name = worker["name"]
        r = await go.request("POST", f"/v2/apps/go-run/pods/worker/{name}/restart/")
        assert r.status_code == 200 and len(r.json()) == 1
        r = await go.request("POST", "/v2/apps/go-run/pods/restart/")
        assert r.status_code == 200 and len(r.json()) == 2

        r = await go.request("POST", "/v2/apps/go-run/run/", {"command": "echo hi"})
        assert r.status_code == 200
        assert r.json() == {"exit_code": 0, "output": "hi\n"}

        r = await go.request("GET", "/v2/apps/go-run/logs?log_lines=10")
        assert r.status_code == 200 and "go-run[dockyard]" in r.text

        r = await go.request("POST", "/v2/apps/go-run/build/", {"image": str(source)})
        assert r.status_code == 201
        assert r.headers["X-Drycc-Release"] == "3"
    finally:
        await go.request("DELETE", "/v2/apps/go-run/")


async def test_keys_domains_perms_certs_users(
    client: httpx.AsyncClient, admin: Account, user: Account, accounts: Accounts
) -> None:
    go = GoClient(client, user.token)
    await go.request("POST", "/v2/apps/", {"id": "go-misc"})

    public = ssh_key()
    r = await go.request("POST", "/v2/keys/", {"id": "me@laptop", "public": public})
    assert r.status_code == 201
    r = await go.request("POST", "/v2/keys/", {"id": "other", "public": public})
    assert r.status_code == 400
    assert r.json() == {"public": ["Public Key is already in use"]}
    keys, _ = await go.limited("/v2/keys/")
    assert [k["id"] for k in keys] == ["me@laptop"]
    assert re.match(r"^([0-9a-f]{2}:){15}[0-9a-f]{2}$", keys[0]["fingerprint"])
    r = await go.request("DELETE", "/v2/keys/me@laptop")  # no trailing slash
    assert r.status_code == 204

    r = await go.request("POST", "/v2/apps/go-misc/domains/", {"domain": "go.example.com"})
    assert r.status_code == 201
    r = await go.request("POST", "/v2/apps/go-misc/domains/", {"domain": "bad..com"})
    assert r.json() == {"domain": ["Hostname does not look valid."]}  # ErrInvalidDomain
    domains, _ = await go.limited("/v2/apps/go-misc/domains/")
    assert [d["domain"] for d in domains] == ["go.example.com"]
    no_null_times(domains)

    cert, key = pki.pair("go.example.com")
    r = await go.request("POST", "/v2/certs/", {"name": "go-cert", "certificate": cert, "key": key})
    assert r.status_code == 201, r.text
    no_null_times(r.json())
    r = await go.request(
        "POST", "/v2/certs/", {"name": "Bad Name", "certificate": cert, "key": key}
    )
    assert r.json() == {"name": ["Can only contain a-z (lowercase), 0-9 and hyphens"]}
    r = await go.request("POST", "/v2/certs/", {"name": "x", "certificate": "junk", "key": key})
    assert "Could not load certificate" in r.json()["certificate"][0]  # ErrInvalidCertificate
    r = await go.request("POST", "/v2/certs/go-cert/domain/", {"domain": "go.example.com"})
    assert r.status_code == 201
    r = await go.request("POST", "/v2/certs/go-cert/domain/", {"domain": "go.example.com"})
    assert r.status_code == 409
    assert r.json() == {"detail": "Domain already has a certificate attached to it"}
    certs, _ = await go.limited("/v2/certs")
    assert certs[0]["domains"] == ["go.example.com"]
    no_null_times(certs)
    r = await go.request("DELETE", "/v2/certs/go-cert/domain/go.example.com/")
    assert r.status_code == 204
    r = await go.request("DELETE", "/v2/apps/go-misc/domains/go.example.com")  # no slash
    assert r.status_code == 204
    r = await go.request("DELETE", "/v2/certs/go-cert")
    assert r.status_code == 204

    r = await go.request("GET", "/v2/apps/go-misc/tls/")
    assert r.status_code == 200 and r.json()["https_enforced"] is False
    no_null_times(r.json())
    r = await go.request("POST", "/v2/apps/go-misc/tls/", {"https_enforced": True})
    assert r.status_code == 201

    await accounts.make("bob")
    r = await go.request("POST", "/v2/apps/go-misc/perms/", {"username": "bob"})
    assert r.status_code == 201
    r = await go.request("GET", "/v2/apps/go-misc/perms/")
    assert r.json() == {"users": ["bob"]}
    r = await go.request("DELETE", "/v2/apps/go-misc/perms/bob/")
    assert r.status_code == 204

    staff = GoClient(client, admin.token)
    users, count = await staff.limited("/v2/users")
    assert count == 3
    no_null_times([{k: v for k, v in u.items() if k != "last_login"} for u in users])
    r = await go.request("GET", "/v2/users?limit=100")
    assert r.status_code == 403
    r = await staff.request("POST", "/v2/admin/perms", {"username": "bob"})
    assert r.status_code == 201
    admins, _ = await staff.limited("/v2/admin/perms/")
    assert {a["username"] for a in admins} == {"admin-user", "bob"}
    r = await staff.request("DELETE", "/v2/admin/perms/bob")
    assert r.status_code == 204


async def test_account_lifecycle(
    client: httpx.AsyncClient, admin: Account, user: Account, accounts: Accounts
) -> None:
    go = GoClient(client, user.token)
    r = await go.request("POST", "/v2/auth/passwd/", {"password": "bad", "new_password": "x"})
    assert r.status_code == 401
    assert r.json() == {"detail": "Current password does not match"}
    body = {"password": user.password, "new_password": "n3w"}
    assert (await go.request("POST", "/v2/auth/passwd/", body)).status_code == 200

    # Regenerate: {"username": ...} needs a superuser; {"all": true} answers no token.
    r = await go.request("POST", "/v2/auth/tokens/", {"username": "admin-user"})
    assert r.status_code == 403
    r = await go.request("POST", "/v2/auth/tokens/")
    assert r.status_code == 200
    go.token = r.json()["token"]

    # auth:cancel as a superuser for another user: DELETE with a {"username"} body.
    bob = await accounts.make("bob")
    await GoClient(client, bob.token).request("POST", "/v2/apps/", {"id": "bobs"})
    staff = GoClient(client, admin.token)
    r = await staff.request("DELETE", "/v2/auth/cancel/", {"username": "bob"})
    assert r.status_code == 409
    assert r.json() == {
        "detail": "bob still has applications assigned. Delete or transfer ownership"
    }
    await staff.request("DELETE", "/v2/apps/bobs/")
    r = await staff.request("DELETE", "/v2/auth/cancel/", {"username": "bob"})
    assert r.status_code == 204
    r = await go.request("DELETE", "/v2/auth/cancel/")
    assert r.status_code == 204
    assert (await go.request("GET", "/v2/apps/")).status_code == 401
    r = await staff.request("POST", "/v2/auth/tokens/", {"all": True})
    assert r.status_code == 200
    assert (await staff.request("GET", "/v2/apps/")).status_code == 401
