"""v1 certificates, addressed by common name, as ``deis certs:add|list|remove`` use them,
and the rules of ``routing.common_names`` that make that work over v2's named certificates."""

from __future__ import annotations

import re

import httpx

from dockyard.routing import x509
from dockyard.routing.certs import NAME_RE
from dockyard.routing.common_names import covers, name_for
from tests.conftest import Account, Accounts, create_app_for
from tests.routing import pki
from tests.v1.helpers import TIMESTAMP, message, py

# --- the pure rules -----------------------------------------------------------------------


def test_name_for_is_a_valid_distinct_cert_name() -> None:
    names = [
        name_for(cn)
        for cn in ("test.example.com", "*.example.com", "wildcard.example.com", "Test.Example.Com")
    ]
    assert len(set(names)) == 4
    for name in names:
        assert NAME_RE.match(name), name
    assert names[0].startswith("test-example-com-")
    assert names[1].startswith("wildcard-example-com-")
    assert name_for("test.example.com") == names[0]  # stable
    assert NAME_RE.match(name_for("..."))
    assert NAME_RE.match(name_for("x" * 300)) and len(name_for("x" * 300)) <= 253


def test_covers() -> None:
    names = ("example.com", "*.example.org", "WWW.Example.net")
    assert covers(names, "example.com")
    assert covers(names, "EXAMPLE.com.")
    assert covers(names, "www.example.net")
    assert covers(names, "a.example.org")
    assert covers(names, "*.example.org")
    assert not covers(names, "a.b.example.org")  # a wildcard covers one label
    assert not covers(names, "example.org")
    assert not covers(names, "other.com")
    assert not covers(("*.com",), "example.com")


# --- through the API ----------------------------------------------------------------------


async def add(
    client: httpx.AsyncClient, by: Account, cn: str = "test.example.com", **extra: object
) -> httpx.Response:
    cert, key = pki.pair(cn, sans=extra.pop("sans", ()))  # type: ignore[arg-type]
    return await py(client, by, "POST", "/v1/certs", {"certificate": cert, "key": key, **extra})


async def test_add_list_show_remove(client: httpx.AsyncClient, user: Account) -> None:
    # deis certs:add cert key: the controller reads the common name from the certificate.
    r = await add(client, user)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["common_name"] == "test.example.com"
    assert {"updated", "created", "expires", "common_name", "owner", "id"} <= set(body)
    assert body["owner"] == "alice"
    assert all(TIMESTAMP.match(body[k]) for k in ("created", "updated", "expires", "starts"))

    # deis certs:list keeps common_name and expires.
    r = await py(client, user, "GET", "/v1/certs")
    assert r.status_code == 200
    (listed,) = r.json()["results"]
    assert (listed["common_name"], listed["expires"]) == ("test.example.com", body["expires"])

    for path in ("/v1/certs/test.example.com", "/v1/certs/test.example.com/"):
        r = await py(client, user, "GET", path)
        assert r.status_code == 200, path
        assert r.json()["id"] == body["id"]
    # The same certificate is a named certificate in v2.
    r = await client.get(f"/v2/certs/{body['name']}", headers=user.headers)
    assert r.status_code == 200
    assert r.json()["common_name"] == "test.example.com"

    # deis certs:remove test.example.com
    r = await py(client, user, "DELETE", "/v1/certs/test.example.com")
    assert r.status_code == 204
    assert r.content == b""
    r = await py(client, user, "GET", "/v1/certs/test.example.com")
    assert r.status_code == 404
    assert r.json() == {"detail": "No Certificate matches the given query."}
    assert (await client.get("/v2/certs", headers=user.headers)).json()["count"] == 0


async def test_subject_alt_names_as_common_names(client: httpx.AsyncClient, user: Account) -> None:
    """``certs:add --subject-alt-names`` uploads the pair again per SAN with common_name."""
    cert, key = pki.pair(
        "example.com", sans=("example.com", "www.example.com", "*.api.example.com")
    )
    for cn in (None, "www.example.com", "v1.api.example.com"):
        body = {"certificate": cert, "key": key, **({"common_name": cn} if cn else {})}
        r = await py(client, user, "POST", "/v1/certs", body)
        assert r.status_code == 201, (cn, r.text)
        assert r.json()["common_name"] == (cn or "example.com")
    names = [
        c["common_name"] for c in (await py(client, user, "GET", "/v1/certs")).json()["results"]
    ]
    assert sorted(names) == ["example.com", "v1.api.example.com", "www.example.com"]
    r = await py(client, user, "GET", "/v1/certs/www.example.com")
    assert r.json()["common_name"] == "www.example.com"
    assert (await py(client, user, "DELETE", "/v1/certs/www.example.com")).status_code == 204
    assert (await py(client, user, "GET", "/v1/certs/example.com")).status_code == 200

    r = await py(
        client,
        user,
        "POST",
        "/v1/certs",
        {"certificate": cert, "key": key, "common_name": "evil.com"},
    )
    assert r.status_code == 400
    assert r.json() == {"common_name": ["The certificate is not valid for evil.com."]}


async def test_add_errors(client: httpx.AsyncClient, user: Account, accounts: Accounts) -> None:
    assert (await add(client, user)).status_code == 201
    r = await add(client, user)
    assert r.status_code == 400
    assert r.json() == {"common_name": ["Certificate with this common name already exists."]}
    # Another user cannot take the same common name either: v1 names are global.
    bob = await accounts.make("bob")
    assert (await add(client, bob)).status_code == 400
    assert (await py(client, bob, "GET", "/v1/certs/test.example.com")).status_code == 404
    assert (await py(client, bob, "DELETE", "/v1/certs/test.example.com")).status_code == 404

    r = await py(client, user, "POST", "/v1/certs", {"certificate": "junk", "key": "junk"})
    assert r.status_code == 400
    assert "Could not load certificate" in message(r)
    cert, _ = pki.pair("a.com")
    _, other_key = pki.pair("a.com")
    r = await py(client, user, "POST", "/v1/certs", {"certificate": cert, "key": other_key})
    assert r.status_code == 400
    assert r.json() == {"key": [x509.MISMATCH]}
    cert, key = pki.pair(None)  # no common name, and none given
    r = await py(client, user, "POST", "/v1/certs", {"certificate": cert, "key": key})
    assert r.status_code == 400
    assert r.json() == {"common_name": ["The certificate has no common name; pass common_name."]}


async def test_named_v2_certificate_found_by_common_name(
    client: httpx.AsyncClient, user: Account
) -> None:
    cert, key = pki.pair("shop.example.com")
    r = await client.post(
        "/v2/certs", json={"name": "shop", "certificate": cert, "key": key}, headers=user.headers
    )
    assert r.status_code == 201
    r = await py(client, user, "GET", "/v1/certs/shop.example.com")
    assert r.status_code == 200
    assert r.json()["name"] == "shop"


async def test_attached_to_the_domain_of_its_common_name(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    """As the v1 router did, a certificate serves the domain equal to its common name."""
    await create_app_for(client, user, "tls-app")
    await py(client, user, "POST", "/v1/apps/tls-app/domains", {"domain": "secure.example.com"})
    r = await add(client, user, "secure.example.com")
    assert r.status_code == 201, r.text
    assert r.json()["domains"] == ["secure.example.com"]
    # Not another user's domain.
    bob = await accounts.make("bob")
    await create_app_for(client, bob, "bobs-app")
    await client.post(
        "/v2/apps/bobs-app/domains", json={"domain": "bob.example.com"}, headers=bob.headers
    )
    r = await add(client, user, "bob.example.com")
    assert r.status_code == 201
    assert r.json()["domains"] == []
    domains = (await client.get("/v2/apps/bobs-app/domains", headers=bob.headers)).json()
    assert [d["domain"] for d in domains["results"]] == ["bob.example.com"]
    assert re.match(r"^[a-z0-9-]+$", r.json()["name"])
