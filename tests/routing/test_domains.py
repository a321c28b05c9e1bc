"""App domains (``/v2/apps/<id>/domains``) through the HTTP API."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.conftest import Account, Accounts, create_app_for

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DENIED = {"detail": "You do not have permission to perform this action."}
TAKEN = {"domain": ["Domain is already in use by another application"]}


async def add(client: httpx.AsyncClient, app_id: str, by: Account, domain: str) -> httpx.Response:
    return await client.post(
        f"/v2/apps/{app_id}/domains/", json={"domain": domain}, headers=by.headers
    )


async def domains_of(client: httpx.AsyncClient, app_id: str, by: Account) -> list[str]:
    r = await client.get(f"/v2/apps/{app_id}/domains", headers=by.headers)
    assert r.status_code == 200, r.text
    return [d["domain"] for d in r.json()["results"]]


async def test_add_list_remove(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "web-site")
    r = await add(client, "web-site", user, "www.example.com")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"app", "owner", "created", "updated", "domain", "uuid"}
    assert body["app"] == "web-site"
    assert body["owner"] == "alice"
    assert body["domain"] == "www.example.com"
    assert TIMESTAMP.match(body["created"]) and TIMESTAMP.match(body["updated"])

    r = await client.get("/v2/apps/web-site/domains/", headers=user.headers)
    assert r.status_code == 200
    listing = r.json()
    assert set(listing) == {"count", "next", "previous", "results"}
    assert listing["count"] == 1
    assert listing["results"] == [body]

    r = await client.delete("/v2/apps/web-site/domains/www.example.com", headers=user.headers)
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert await domains_of(client, "web-site", user) == []


async def test_normalised_on_the_way_in(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "norm")
    cases = {
        "Bücher.DE.": "xn--bcher-kva.de",
        "*.Example.COM": "*.example.com",
        "API.example.com.": "api.example.com",
    }
    for given, stored in cases.items():
        r = await add(client, "norm", user, given)
        assert r.status_code == 201, (given, r.text)
        assert r.json()["domain"] == stored
    assert await domains_of(client, "norm", user) == sorted(cases.values())
    # The same name in another spelling is the same domain.
    assert (await add(client, "norm", user, "xn--bcher-kva.de")).json() == TAKEN
    # Removing works by any spelling, with or without a trailing slash.
    r = await client.delete("/v2/apps/norm/domains/bücher.de/", headers=user.headers)
    assert r.status_code == 204
    r = await client.delete("/v2/apps/norm/domains/*.example.com", headers=user.headers)
    assert r.status_code == 204
    assert await domains_of(client, "norm", user) == ["api.example.com"]


async def test_invalid_domains(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "bad-names")
    cases = {
        "*": "Hostname can't only be a wildcard",
        "1.2.3.4": "Hostname does not look valid.",
        "example.123": "Hostname does not look valid.",
        "under_score.com": "Hostname does not look valid.",
        "-lead.com": "Hostname does not look valid.",
        "a..b": "Hostname does not look valid.",
        ".".join(["a" * 63] * 4) + ".com": "Hostname must be 253 characters or less.",
        "": "This field may not be blank.",
    }
    for given, message in cases.items():
        r = await add(client, "bad-names", user, given)
        assert r.status_code == 400, (given, r.text)
        assert r.json() == {"domain": [message]}, given
    r = await client.post("/v2/apps/bad-names/domains", json={}, headers=user.headers)
    assert r.status_code == 400
    assert r.json() == {"domain": ["This field is required."]}
    assert await domains_of(client, "bad-names", user) == []


async def test_platform_domain_is_reserved(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "squatter")
    for domain in ("example.test", "victim.example.test", "*.example.test"):
        r = await add(client, "squatter", user, domain)
        assert r.status_code == 400, domain
        assert r.json() == {
            "domain": ["example.test and its subdomains are reserved for the platform's app URLs."]
        }


async def test_unique_across_apps(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    await create_app_for(client, user, "first")
    await create_app_for(client, bob, "second")
    assert (await add(client, "first", user, "shop.example.com")).status_code == 201

    r = await add(client, "second", bob, "SHOP.example.com.")
    assert r.status_code == 400
    assert r.json() == TAKEN
    r = await add(client, "first", user, "shop.example.com")
    assert r.status_code == 400
    assert r.json() == TAKEN
    # A wildcard is a different name from the hosts under it.
    assert (await add(client, "second", bob, "*.example.com")).status_code == 201


async def test_delete_unknown_is_404(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "empty")
    await create_app_for(client, user, "other")
    assert (await add(client, "other", user, "other.example.com")).status_code == 201
    for name in ("nope.example.com", "other.example.com", "*", "bad_name"):
        r = await client.delete(f"/v2/apps/empty/domains/{name}", headers=user.headers)
        assert r.status_code == 404, name
        assert r.json() == {"detail": "No Domain matches the given query."}
    assert await domains_of(client, "other", user) == ["other.example.com"]


async def test_permissions(client: httpx.AsyncClient, user: Account, accounts: Accounts) -> None:
    bob = await accounts.make("bob")
    mallory = await accounts.make("mallory")
    admin_like = await accounts.make("carol")
    await create_app_for(client, user, "team")
    r = await client.post("/v2/apps/team/perms", json={"username": "bob"}, headers=user.headers)
    assert r.status_code == 201

    # A collaborator may add and remove.
    assert (await add(client, "team", bob, "bob.example.com")).status_code == 201
    assert (await add(client, "team", user, "alice.example.com")).status_code == 201
    r = await client.delete("/v2/apps/team/domains/alice.example.com", headers=bob.headers)
    assert r.status_code == 204

    # Anyone else may do nothing.
    for who in (mallory, admin_like):
        r = await client.get("/v2/apps/team/domains", headers=who.headers)
        assert (r.status_code, r.json()) == (403, DENIED)
        r = await add(client, "team", who, "evil.example.com")
        assert (r.status_code, r.json()) == (403, DENIED)
        r = await client.delete("/v2/apps/team/domains/bob.example.com", headers=who.headers)
        assert (r.status_code, r.json()) == (403, DENIED)
    assert await domains_of(client, "team", user) == ["bob.example.com"]

    assert (await client.get("/v2/apps/team/domains")).status_code == 401
    assert (await client.get("/v2/apps/nope/domains", headers=user.headers)).status_code == 404


async def test_superuser_may_manage(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    await create_app_for(client, user, "managed")
    r = await add(client, "managed", admin, "managed.example.com")
    assert r.status_code == 201
    assert r.json()["owner"] == "admin-user"
    assert await domains_of(client, "managed", admin) == ["managed.example.com"]
    r = await client.delete("/v2/apps/managed/domains/managed.example.com", headers=admin.headers)
    assert r.status_code == 204


async def test_destroying_the_app_frees_its_domains(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "doomed")
    assert (await add(client, "doomed", user, "doomed.example.com")).status_code == 201
    assert (await client.delete("/v2/apps/doomed", headers=user.headers)).status_code == 204
    await create_app_for(client, user, "heir")
    assert (await add(client, "heir", user, "doomed.example.com")).status_code == 201
    await create_app_for(client, user, "doomed")
    assert await domains_of(client, "doomed", user) == []


async def test_pagination(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "many")
    for i in range(5):
        assert (await add(client, "many", user, f"d{i}.example.com")).status_code == 201
    r = await client.get("/v2/apps/many/domains?limit=2&offset=2", headers=user.headers)
    page = r.json()
    assert page["count"] == 5
    assert [d["domain"] for d in page["results"]] == ["d2.example.com", "d3.example.com"]
    assert page["next"] and page["previous"]


async def test_form_encoded_body(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "formy")
    r = await client.post(
        "/v2/apps/formy/domains", data={"domain": "form.example.com"}, headers=user.headers
    )
    assert r.status_code == 201, r.text


async def test_concurrent_claims_one_winner(client: httpx.AsyncClient, user: Account) -> None:
    for i in range(6):
        await create_app_for(client, user, f"rival-{i}")
    answers = await asyncio.gather(
        *(add(client, f"rival-{i}", user, "prize.example.com") for i in range(6))
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [400] * 5, [r.text for r in answers]
    assert all(r.json() == TAKEN for r in answers if r.status_code == 400)
