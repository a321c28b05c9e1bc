"""A field Dockyard does not know is ignored, never a 400 or 422: every v2 route that takes a
JSON body answers a body with ``"x_unknown_field": 1`` added exactly as it answers the body
without it (the same success status). Newer clients send optional fields older controllers
have never heard of.

One exception, as the reference defines it: ``POST apps/<id>/scale`` takes a map of process
types, so every key is a process type and an unknown one is 404 ``Container type <t> does not
exist in application``. Bodies that are not JSON (``sources``, ``buildpacks``, the git build
hook) are out of scope. A v2 JSON route added later and not listed in ``CASES`` is still
checked, generically: ``{}`` and ``{"x_unknown_field": 1}`` must get the same status.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dockyard.builder.access import HEADER as BUILDER_HEADER
from dockyard.core.builderkey import builder_key
from dockyard.core.settings import Settings
from tests.conftest import Account, Accounts, create_app_for
from tests.releases.conftest import marker, no_leaked_processes, source  # noqa: F401
from tests.routing import pki

UNKNOWN = {"x_unknown_field": 1}


@dataclass
class Ctx:
    client: httpx.AsyncClient
    accounts: Accounts
    admin: Account
    user: Account
    settings: Settings
    source: Path
    marker: str

    async def send(
        self, who: Account | None, method: str, path: str, body: dict[str, Any], **headers: str
    ) -> httpx.Response:
        sent = dict(headers)
        if who is not None:
            sent["Authorization"] = f"token {who.token}"
        return await self.client.request(method, path, json=body, headers=sent)

    async def both(
        self,
        who: Account | None,
        method: str,
        path: str,
        plain: dict[str, Any],
        second: dict[str, Any] | None = None,
        *,
        status: int,
        second_path: str | None = None,
        **headers: str,
    ) -> httpx.Response:
        """``plain`` answered ``status``; then ``second`` (a fresh body where a repeat
        would conflict; ``plain`` again otherwise) plus an unknown field, answered the same.
        Returns the second answer."""
        r = await self.send(who, method, path, plain, **headers)
        assert r.status_code == status, ("without the unknown field", path, r.text)
        body = {**(plain if second is None else second), **UNKNOWN}
        r = await self.send(who, method, second_path or path, body, **headers)
        assert r.status_code == status, ("with the unknown field", path, r.text)
        return r

    async def app(self, app_id: str) -> str:
        await create_app_for(self.client, self.user, app_id)
        return app_id

    async def built_app(self, app_id: str) -> str:
        """An app with a build whose only process type is ``worker`` (nothing runs yet)."""
        await self.app(app_id)
        r = await self.send(
            self.user,
            "POST",
            f"/v2/apps/{app_id}/builds",
            {"image": str(self.source), "procfile": {"worker": self.command()}},
        )
        assert r.status_code == 201, r.text
        return app_id

    def command(self) -> str:
        return f"python3 worker.py {self.marker}"


def public_key() -> str:
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    )
    return raw.decode() + " someone@example.test"


# --- the cases: one per route (or per use of a route) -------------------------------------


async def register(c: Ctx) -> None:
    def user(name: str) -> dict[str, Any]:
        return {"username": name, "password": "pw-12345", "email": f"{name}@example.test"}

    r = await c.both(None, "POST", "/v2/auth/register", user("reg-a"), user("reg-b"), status=201)
    assert r.json()["username"] == "reg-b" and "x_unknown_field" not in r.json()


async def register_and_login_form_encoded(c: Ctx) -> None:
    """The v1 Python client posts these two as forms."""
    form = {"username": "form-a", "password": "pw-12345", "x_unknown_field": "1"}
    r = await c.client.post("/v2/auth/register", data=form)
    assert r.status_code == 201, r.text
    r = await c.client.post("/v2/auth/login", data=form)
    assert r.status_code == 200, r.text


async def login(c: Ctx) -> None:
    body = {"username": c.user.username, "password": c.user.password}
    r = await c.both(None, "POST", "/v2/auth/login", body, status=200)
    assert set(r.json()) == {"token"}


async def passwd(c: Ctx) -> None:
    who = await c.accounts.make("pw-user", password="first-pw")
    await c.both(
        who,
        "POST",
        "/v2/auth/passwd",
        {"password": "first-pw", "new_password": "second-pw"},
        {"password": "second-pw", "new_password": "third-pw"},
        status=200,
    )
    r = await c.send(
        None, "POST", "/v2/auth/login", {"username": "pw-user", "password": "third-pw"}
    )
    assert r.status_code == 200


async def tokens_regenerate(c: Ctx) -> None:
    who = await c.accounts.make("tok-user")
    r = await c.send(who, "POST", "/v2/auth/tokens", {})
    assert r.status_code == 200, r.text
    who.token = r.json()["token"]  # the old one no longer works
    r = await c.send(who, "POST", "/v2/auth/tokens", UNKNOWN)
    assert r.status_code == 200, r.text
    # An administrator regenerating someone else's token.
    await c.both(c.admin, "POST", "/v2/auth/tokens", {"username": "tok-user"}, status=200)


async def cancel(c: Ctx) -> None:
    one, two = await c.accounts.make("gone-a"), await c.accounts.make("gone-b")
    r = await c.send(one, "DELETE", "/v2/auth/cancel", {})
    assert r.status_code == 204, r.text
    r = await c.send(two, "DELETE", "/v2/auth/cancel", UNKNOWN)
    assert r.status_code == 204, r.text
    await c.accounts.make("gone-c")
    await c.accounts.make("gone-d")
    await c.both(
        c.admin,
        "DELETE",
        "/v2/auth/cancel",
        {"username": "gone-c"},
        {"username": "gone-d"},
        status=204,
    )


async def admin_perms(c: Ctx) -> None:
    await c.accounts.make("boss-a")
    await c.accounts.make("boss-b")
    await c.both(
        c.admin,
        "POST",
        "/v2/admin/perms",
        {"username": "boss-a"},
        {"username": "boss-b"},
        status=201,
    )


async def keys(c: Ctx) -> None:
    await c.both(
        c.user,
        "POST",
        "/v2/keys",
        {"id": "key-a", "public": public_key()},
        {"id": "key-b", "public": public_key()},
        status=201,
    )


async def apps_create(c: Ctx) -> None:
    await c.both(c.user, "POST", "/v2/apps", {"id": "uf-a"}, {"id": "uf-b"}, status=201)
    r = await c.send(c.user, "POST", "/v2/apps", UNKNOWN)  # a generated name
    assert r.status_code == 201, r.text


async def app_transfer(c: Ctx) -> None:
    app = await c.app("uf-move")
    bob = await c.accounts.make("bob")
    r = await c.both(
        c.admin,
        "POST",
        f"/v2/apps/{app}",
        {"owner": "bob"},
        {"owner": c.user.username},
        status=200,
    )
    assert r.json()["owner"] == c.user.username
    assert bob.username == "bob"


async def perms(c: Ctx) -> None:
    app = await c.app("uf-perms")
    await c.accounts.make("bob")
    await c.accounts.make("carol")
    await c.both(
        c.user,
        "POST",
        f"/v2/apps/{app}/perms",
        {"username": "bob"},
        {"username": "carol"},
        status=201,
    )


async def config_values(c: Ctx) -> None:
    app = await c.app("uf-config")
    r = await c.both(
        c.user,
        "POST",
        f"/v2/apps/{app}/config",
        {"values": {"A": "1"}},
        {"values": {"B": "2"}},
        status=201,
    )
    assert r.json()["values"] == {"A": "1", "B": "2"}


async def config_limits(c: Ctx) -> None:
    app = await c.app("uf-limits")
    r = await c.both(
        c.user,
        "POST",
        f"/v2/apps/{app}/config",
        {"memory": {"web": "128M"}, "cpu": {"web": "250m"}},
        {"cpu": {"web": "500m"}},
        status=201,
    )
    assert (r.json()["memory"], r.json()["cpu"]) == ({"web": "128M"}, {"web": "500m"})


async def config_tags(c: Ctx) -> None:
    app = await c.app("uf-tags")
    await c.both(
        c.user,
        "POST",
        f"/v2/apps/{app}/config",
        {"tags": {"env": "a"}},
        {"tags": {"env": "b"}},
        status=201,
    )


async def builds(c: Ctx) -> None:
    app = await c.app("uf-builds")
    body = {"image": str(c.source), "procfile": {"worker": c.command()}}
    r = await c.both(
        c.user, "POST", f"/v2/apps/{app}/builds", body, {**body, "sha": "a" * 40}, status=201
    )
    assert r.json()["sha"] == "a" * 40
    await c.both(c.user, "POST", f"/v2/apps/{app}/build", body, status=201)  # v2.0's singular


async def scale(c: Ctx) -> None:
    app = await c.built_app("uf-scale")
    r = await c.send(c.user, "POST", f"/v2/apps/{app}/scale", {"worker": 0})
    assert r.status_code == 204, r.text
    # The exception the reference defines: the body's keys are process types.
    r = await c.send(c.user, "POST", f"/v2/apps/{app}/scale", {"worker": 0, **UNKNOWN})
    assert r.status_code == 404, r.text
    assert r.json() == {"detail": "Container type x_unknown_field does not exist in application"}


async def run(c: Ctx) -> None:
    app = await c.built_app("uf-run")
    r = await c.both(c.user, "POST", f"/v2/apps/{app}/run", {"command": "echo hi"}, status=200)
    assert r.json() == {"exit_code": 0, "output": "hi\n"}


async def rollback(c: Ctx) -> None:
    app = await c.app("uf-rollback")
    for n in range(3):
        r = await c.send(c.user, "POST", f"/v2/apps/{app}/config", {"values": {f"K{n}": "v"}})
        assert r.status_code == 201, r.text
    r = await c.both(
        c.user, "POST", f"/v2/apps/{app}/releases/rollback", {}, {"version": 2}, status=201
    )
    assert r.json() == {"version": 6}


async def domains(c: Ctx) -> None:
    app = await c.app("uf-domains")
    await c.both(
        c.user,
        "POST",
        f"/v2/apps/{app}/domains",
        {"domain": "a.uf.test"},
        {"domain": "b.uf.test"},
        status=201,
    )


async def certs_create_and_attach(c: Ctx) -> None:
    app = await c.app("uf-certs")
    for domain in ("a.uf.test", "b.uf.test"):
        r = await c.send(c.user, "POST", f"/v2/apps/{app}/domains", {"domain": domain})
        assert r.status_code == 201, r.text

    def cert(name: str, cn: str) -> dict[str, Any]:
        certificate, key = pki.pair(cn)
        return {"name": name, "certificate": certificate, "key": key}

    await c.both(
        c.user,
        "POST",
        "/v2/certs",
        cert("cert-a", "a.uf.test"),
        cert("cert-b", "b.uf.test"),
        status=201,
    )
    r = await c.both(
        c.user,
        "POST",
        "/v2/certs/cert-a/domain",
        {"domain": "a.uf.test"},
        {"domain": "b.uf.test"},
        second_path="/v2/certs/cert-b/domain",
        status=201,
    )
    assert r.json()["domains"] == ["b.uf.test"]


async def tls(c: Ctx) -> None:
    app = await c.app("uf-tls")
    await c.both(
        c.user,
        "POST",
        f"/v2/apps/{app}/tls",
        {"https_enforced": True},
        {"https_enforced": False},
        status=201,
    )


async def app_settings(c: Ctx) -> None:
    app = await c.app("uf-settings")
    await c.both(
        c.user,
        "POST",
        f"/v2/apps/{app}/settings",
        {"maintenance": True},
        {"maintenance": False},
        status=201,
    )


async def autoscale(c: Ctx) -> None:
    app = await c.app("uf-autoscale")

    def rule(top: int) -> dict[str, Any]:
        return {"autoscale": {"web": {"min": 1, "max": top, "cpu_percent": 50}}}

    await c.both(c.user, "POST", f"/v2/apps/{app}/settings", rule(3), rule(4), status=201)


async def whitelist(c: Ctx) -> None:
    app = await c.app("uf-allow")
    path = f"/v2/apps/{app}/whitelist"
    one, two = {"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.0/24"]}
    await c.both(c.user, "POST", path, one, two, status=201)
    await c.both(c.user, "DELETE", path, one, two, status=204)


async def git_access_hook(c: Ctx) -> None:
    """The git SSH endpoint's question to the API (builder key, not a user token)."""
    app = await c.app("uf-git")
    c.settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = builder_key(c.settings.data_dir, c.settings.builder_key)
    r = await c.both(
        None,
        "POST",
        "/v2/hooks/git/access",
        {"username": c.user.username, "app": app},
        status=200,
        **{BUILDER_HEADER: key},
    )
    assert r.json() == {"username": c.user.username, "app": app}


Case = Callable[[Ctx], Awaitable[None]]
CASES: dict[str, Case] = {
    case.__name__: case
    for case in (
        register,
        register_and_login_form_encoded,
        login,
        passwd,
        tokens_regenerate,
        cancel,
        admin_perms,
        keys,
        apps_create,
        app_transfer,
        perms,
        config_values,
        config_limits,
        config_tags,
        builds,
        scale,
        run,
        rollback,
        domains,
        certs_create_and_attach,
        tls,
        app_settings,
        autoscale,
        whitelist,
        git_access_hook,
    )
}
# The v2 routes with a JSON body the cases above cover.
COVERED = {
    ("POST", "/v2/auth/register"),
    ("POST", "/v2/auth/login"),
    ("POST", "/v2/auth/passwd"),
    ("DELETE", "/v2/auth/cancel"),
    ("POST", "/v2/auth/tokens"),
    ("POST", "/v2/admin/perms"),
    ("POST", "/v2/keys"),
    ("POST", "/v2/apps"),
    ("POST", "/v2/apps/{app_id}"),
    ("POST", "/v2/apps/{app_id}/perms"),
    ("POST", "/v2/apps/{app_id}/releases/rollback"),
    ("POST", "/v2/apps/{app_id}/config"),
    ("POST", "/v2/apps/{app_id}/builds"),
    ("POST", "/v2/apps/{app_id}/build"),
    ("POST", "/v2/apps/{app_id}/scale"),
    ("POST", "/v2/apps/{app_id}/run"),
    ("POST", "/v2/apps/{app_id}/domains"),
    ("POST", "/v2/apps/{app_id}/tls"),
    ("POST", "/v2/apps/{app_id}/settings"),
    ("POST", "/v2/apps/{app_id}/whitelist"),
    ("DELETE", "/v2/apps/{app_id}/whitelist"),
    ("POST", "/v2/certs"),
    ("POST", "/v2/certs/{name}/domain"),
    ("POST", "/v2/hooks/git/access"),
}


@pytest.fixture
def ctx(
    client: httpx.AsyncClient,
    accounts: Accounts,
    admin: Account,
    user: Account,
    settings: Settings,
    source: Path,  # noqa: F811
    marker: str,  # noqa: F811
) -> Ctx:
    return Ctx(client, accounts, admin, user, settings, source, marker)


@pytest.mark.parametrize("name", list(CASES))
async def test_unknown_field_is_ignored(ctx: Ctx, name: str) -> None:
    await CASES[name](ctx)


def json_routes(spec: dict[str, Any]) -> set[tuple[str, str]]:
    """The v2 operations whose request body may be JSON."""
    found = set()
    for path, operations in spec["paths"].items():
        if not path.startswith("/v2/"):
            continue
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.add((method.upper(), path))
    return found


async def test_every_json_route_is_covered_or_checked_generically(ctx: Ctx) -> None:
    spec = (await ctx.client.get("/openapi.json")).json()
    routes = json_routes(spec)
    assert not COVERED - routes, "a case for a route that no longer exists"
    # Routes added since: ``{}`` and ``{"x_unknown_field": 1}`` get the same status, as the
    # administrator, on an app of theirs.
    await create_app_for(ctx.client, ctx.admin, "uf-generic")
    for method, path in sorted(routes - COVERED):
        concrete = re.sub(r"\{app_id\}", "uf-generic", path)
        concrete = re.sub(r"\{[^}]+\}", "x", concrete)
        plain = await ctx.send(ctx.admin, method, concrete, {})
        extra = await ctx.send(ctx.admin, method, concrete, UNKNOWN)
        assert extra.status_code == plain.status_code, (method, path, plain.text, extra.text)
        if extra.status_code in (400, 422):
            assert extra.json() == plain.json(), (method, path)
