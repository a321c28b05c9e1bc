"""Certificates (``/v2/certs``) through the HTTP API: upload, show, list, delete, attach to
and detach from domains, and what survives deleting apps, certificates and users."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from dockyard.core.settings import Settings
from dockyard.db.session import Database
from dockyard.routing import x509
from dockyard.routing.models import Certificate
from tests.conftest import Account, Accounts, create_app_for
from tests.routing import pki

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FINGERPRINT = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
NO_CERT = {"detail": "No Certificate matches the given query."}
NO_DOMAIN = {"detail": "No Domain matches the given query."}
DENIED = {"detail": "You do not have permission to perform this action."}
FIELDS = {
    "id",
    "uuid",
    "name",
    "owner",
    "common_name",
    "fingerprint",
    "san",
    "domains",
    "starts",
    "expires",
    "issuer",
    "subject",
    "created",
    "updated",
}


async def upload(
    client: httpx.AsyncClient, by: Account, name: str, cert: str, key: str
) -> httpx.Response:
    return await client.post(
        "/v2/certs/", json={"name": name, "certificate": cert, "key": key}, headers=by.headers
    )


async def upload_ok(client: httpx.AsyncClient, by: Account, name: str, cn: str = "x.com") -> dict:
    cert, key = pki.pair(cn)
    r = await upload(client, by, name, cert, key)
    assert r.status_code == 201, r.text
    return r.json()


async def add_domain(client: httpx.AsyncClient, app_id: str, by: Account, domain: str) -> None:
    r = await client.post(f"/v2/apps/{app_id}/domains", json={"domain": domain}, headers=by.headers)
    assert r.status_code == 201, r.text


async def attach(client: httpx.AsyncClient, name: str, by: Account, domain: str) -> httpx.Response:
    return await client.post(
        f"/v2/certs/{name}/domain/", json={"domain": domain}, headers=by.headers
    )


def assert_no_private_key(r: httpx.Response) -> None:
    assert "PRIVATE KEY" not in r.text
    assert "key" not in (r.json() if isinstance(r.json(), dict) else {})


async def test_upload_self_signed_full_subject(client: httpx.AsyncClient, user: Account) -> None:
    key = pki.rsa_key()
    starts = datetime(2024, 1, 15, 23, 57, 57, tzinfo=UTC)
    cert = pki.make_cert(key, subject=pki.name(*pki.FULL_SUBJECT), starts=starts, days=3650)
    r = await upload(client, user, "foo", pki.cert_pem(cert), pki.key_pem(key))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == FIELDS
    assert_no_private_key(r)
    assert isinstance(body["id"], int)
    assert body["name"] == "foo"
    assert body["owner"] == "alice"
    assert body["common_name"] == "bar.com"
    assert body["fingerprint"] == pki.sha256_colons(cert)
    assert FINGERPRINT.match(body["fingerprint"])
    assert body["san"] == []
    assert body["domains"] == []
    assert body["starts"] == "2024-01-15T23:57:57Z"
    assert body["expires"] == (starts + timedelta(days=3650)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["subject"] == pki.FULL_SUBJECT_TEXT
    assert body["issuer"] == pki.FULL_SUBJECT_TEXT
    for stamp in ("created", "updated", "starts", "expires"):
        assert TIMESTAMP.match(body[stamp]), stamp

    r = await client.get("/v2/certs/foo", headers=user.headers)
    assert r.status_code == 200
    assert r.json() == body
    assert_no_private_key(r)


async def test_wildcard_with_sans(client: httpx.AsyncClient, user: Account) -> None:
    cert, key = pki.pair("*.example.com", sans=["*.example.com", "example.com"])
    r = await upload(client, user, "wild-1", cert, key)
    assert r.status_code == 201, r.text
    assert r.json()["common_name"] == "*.example.com"
    assert r.json()["san"] == ["*.example.com", "example.com"]
    assert r.json()["subject"] == "/CN=*.example.com"


async def test_chain_accepted(client: httpx.AsyncClient, user: Account) -> None:
    ca_key, leaf_key = pki.ec_key(), pki.ec_key()
    ca = pki.make_cert(ca_key, cn="Dockyard Test CA")
    leaf = pki.make_cert(leaf_key, cn="shop.example.com", issuer=(ca.subject, ca_key))
    r = await upload(client, user, "chained", pki.cert_pem(leaf, ca), pki.key_pem(leaf_key))
    assert r.status_code == 201, r.text
    assert r.json()["issuer"] == "/CN=Dockyard Test CA"
    assert r.json()["subject"] == "/CN=shop.example.com"


async def test_rejected_uploads(client: httpx.AsyncClient, user: Account) -> None:
    cert, key = pki.pair()
    other_cert, other_key = pki.pair()
    expired_key = pki.ec_key()
    expired = pki.cert_pem(
        pki.make_cert(expired_key, starts=datetime.now(UTC) - timedelta(days=400), days=30)
    )
    encrypted = pki.key_pem(pki.ec_key(), serialization.PrivateFormat.PKCS8, password=b"passphrase")
    cases = [
        ("mismatch", cert, other_key, {"key": [x509.MISMATCH]}),
        ("garbage-cert", "-----BEGIN CERTIFICATE-----\nnope\n", key, None),
        ("garbage-cert2", "hello", key, {"certificate": [x509.BAD_CERT]}),
        ("garbage-key", cert, "-----BEGIN RSA PRIVATE KEY-----\nnope\n", {"key": [x509.BAD_KEY]}),
        ("swapped", key, cert, {"certificate": [x509.BAD_CERT]}),
        ("encrypted", cert, encrypted, {"key": [x509.ENCRYPTED_KEY]}),
        ("Upper", cert, key, {"name": ["Can only contain a-z (lowercase), 0-9 and hyphens"]}),
        ("a_b", cert, key, {"name": ["Can only contain a-z (lowercase), 0-9 and hyphens"]}),
        ("", cert, key, {"name": ["This field may not be blank."]}),
    ]
    for name, c, k, expected in cases:
        r = await upload(client, user, name, c, k)
        assert r.status_code == 400, (name, r.text)
        if expected is not None:
            assert r.json() == expected, name
        assert "PRIVATE KEY" not in r.text
    r = await upload(client, user, "expired", expired, pki.key_pem(expired_key))
    assert r.status_code == 400
    assert r.json()["certificate"][0].startswith("The certificate expired on ")
    r = await client.post("/v2/certs", json={"name": "x"}, headers=user.headers)
    assert r.status_code == 400
    assert r.json() == {
        "certificate": ["This field is required."],
        "key": ["This field is required."],
    }
    listing = (await client.get("/v2/certs", headers=user.headers)).json()
    assert listing["count"] == 0
    # A matching pair under a good name works.
    assert (await upload(client, user, "good", other_cert, other_key)).status_code == 201


async def test_names_unique_across_users(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    await upload_ok(client, user, "shared-name")
    cert, key = pki.pair()
    for who in (user, bob):
        r = await upload(client, who, "shared-name", cert, key)
        assert r.status_code == 400
        assert r.json() == {"name": ["Certificate with this name already exists."]}


async def test_visibility_owner_and_superuser_only(
    client: httpx.AsyncClient, admin: Account, user: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    await upload_ok(client, user, "alice-cert")
    await upload_ok(client, bob, "bob-cert")

    def names(r: httpx.Response) -> list[str]:
        assert r.status_code == 200
        return [c["name"] for c in r.json()["results"]]

    assert names(await client.get("/v2/certs", headers=user.headers)) == ["alice-cert"]
    assert names(await client.get("/v2/certs/", headers=bob.headers)) == ["bob-cert"]
    assert names(await client.get("/v2/certs", headers=admin.headers)) == [
        "alice-cert",
        "bob-cert",
    ]

    r = await client.get("/v2/certs/alice-cert", headers=bob.headers)
    assert (r.status_code, r.json()) == (404, NO_CERT)
    r = await client.delete("/v2/certs/alice-cert", headers=bob.headers)
    assert (r.status_code, r.json()) == (404, NO_CERT)
    r = await client.get("/v2/certs/alice-cert", headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["owner"] == "alice"
    assert_no_private_key(r)

    r = await client.delete("/v2/certs/bob-cert/", headers=admin.headers)
    assert r.status_code == 204
    assert names(await client.get("/v2/certs", headers=bob.headers)) == []
    assert (await client.get("/v2/certs")).status_code == 401


async def test_delete_unknown(client: httpx.AsyncClient, user: Account) -> None:
    r = await client.delete("/v2/certs/ghost", headers=user.headers)
    assert (r.status_code, r.json()) == (404, NO_CERT)
    await upload_ok(client, user, "real")
    assert (await client.delete("/v2/certs/real", headers=user.headers)).status_code == 204
    assert (await client.get("/v2/certs/real", headers=user.headers)).status_code == 404


async def test_attach_and_detach(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "shop")
    await add_domain(client, "shop", user, "shop.example.com")
    await add_domain(client, "shop", user, "www.example.com")
    await upload_ok(client, user, "shop-cert", "*.example.com")

    r = await attach(client, "shop-cert", user, "shop.example.com")
    assert r.status_code == 201, r.text
    assert r.json()["domains"] == ["shop.example.com"]
    # The v1-style path without the trailing slash and an un-normalised name work too.
    r = await client.post(
        "/v2/certs/shop-cert/domain", json={"domain": "WWW.example.com."}, headers=user.headers
    )
    assert r.status_code == 201, r.text
    detail = (await client.get("/v2/certs/shop-cert", headers=user.headers)).json()
    assert detail["domains"] == ["shop.example.com", "www.example.com"]

    r = await client.delete("/v2/certs/shop-cert/domain/shop.example.com/", headers=user.headers)
    assert r.status_code == 204
    r = await client.delete("/v2/certs/shop-cert/domain/shop.example.com", headers=user.headers)
    assert (r.status_code, r.json()) == (404, NO_DOMAIN)
    detail = (await client.get("/v2/certs/shop-cert", headers=user.headers)).json()
    assert detail["domains"] == ["www.example.com"]


async def test_one_certificate_per_domain(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "single")
    await add_domain(client, "single", user, "single.example.com")
    await upload_ok(client, user, "first")
    await upload_ok(client, user, "second")
    assert (await attach(client, "first", user, "single.example.com")).status_code == 201
    for name in ("second", "first"):
        r = await attach(client, name, user, "single.example.com")
        assert r.status_code == 409
        assert r.json() == {"detail": "Domain already has a certificate attached to it"}
    r = await client.delete("/v2/certs/first/domain/single.example.com", headers=user.headers)
    assert r.status_code == 204
    assert (await attach(client, "second", user, "single.example.com")).status_code == 201


async def test_attach_errors_and_permissions(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    await create_app_for(client, user, "alices")
    await add_domain(client, "alices", user, "alice.example.com")
    await upload_ok(client, user, "alice-cert")
    await upload_ok(client, bob, "bob-cert")

    r = await attach(client, "alice-cert", user, "nowhere.example.com")
    assert (r.status_code, r.json()) == (404, NO_DOMAIN)
    r = await attach(client, "alice-cert", user, "*")
    assert (r.status_code, r.json()) == (404, NO_DOMAIN)
    r = await attach(client, "ghost", user, "alice.example.com")
    assert (r.status_code, r.json()) == (404, NO_CERT)
    r = await client.post("/v2/certs/alice-cert/domain", json={}, headers=user.headers)
    assert r.status_code == 400
    # Bob cannot use Alice's certificate, nor put his on Alice's app.
    r = await attach(client, "alice-cert", bob, "alice.example.com")
    assert (r.status_code, r.json()) == (404, NO_CERT)
    r = await attach(client, "bob-cert", bob, "alice.example.com")
    assert (r.status_code, r.json()) == (403, DENIED)
    # Once he collaborates on the app he may.
    r = await client.post("/v2/apps/alices/perms", json={"username": "bob"}, headers=user.headers)
    assert r.status_code == 201
    assert (await attach(client, "bob-cert", bob, "alice.example.com")).status_code == 201
    # Alice cannot detach Bob's certificate through it (she can delete the domain instead).
    r = await client.delete("/v2/certs/bob-cert/domain/alice.example.com", headers=user.headers)
    assert (r.status_code, r.json()) == (404, NO_CERT)


async def test_superuser_attaches_anywhere(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    await create_app_for(client, user, "users-app")
    await add_domain(client, "users-app", user, "u.example.com")
    await upload_ok(client, user, "users-cert")
    r = await attach(client, "users-cert", admin, "u.example.com")
    assert r.status_code == 201
    r = await client.delete("/v2/certs/users-cert/domain/u.example.com", headers=admin.headers)
    assert r.status_code == 204


async def test_deleting_the_app_detaches_the_certificate(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "short-lived")
    await add_domain(client, "short-lived", user, "brief.example.com")
    await upload_ok(client, user, "survivor")
    assert (await attach(client, "survivor", user, "brief.example.com")).status_code == 201
    assert (await client.delete("/v2/apps/short-lived", headers=user.headers)).status_code == 204
    r = await client.get("/v2/certs/survivor", headers=user.headers)
    assert r.status_code == 200
    assert r.json()["domains"] == []


async def test_deleting_the_certificate_detaches_it(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "keeps-domain")
    await add_domain(client, "keeps-domain", user, "keep.example.com")
    await upload_ok(client, user, "old-cert")
    await upload_ok(client, user, "new-cert")
    assert (await attach(client, "old-cert", user, "keep.example.com")).status_code == 201
    assert (await client.delete("/v2/certs/old-cert", headers=user.headers)).status_code == 204
    r = await client.get("/v2/apps/keeps-domain/domains", headers=user.headers)
    assert [d["domain"] for d in r.json()["results"]] == ["keep.example.com"]
    assert (await attach(client, "new-cert", user, "keep.example.com")).status_code == 201


async def test_deleting_the_domain_keeps_the_certificate(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "drops-domain")
    await add_domain(client, "drops-domain", user, "drop.example.com")
    await upload_ok(client, user, "kept")
    assert (await attach(client, "kept", user, "drop.example.com")).status_code == 201
    r = await client.delete("/v2/apps/drops-domain/domains/drop.example.com", headers=user.headers)
    assert r.status_code == 204
    assert (await client.get("/v2/certs/kept", headers=user.headers)).json()["domains"] == []


async def test_cancelled_account_takes_its_certificates(
    client: httpx.AsyncClient, admin: Account, accounts: Accounts
) -> None:
    bob = await accounts.make("bob")
    await upload_ok(client, bob, "bobs")
    r = await client.delete("/v2/auth/cancel", headers=bob.headers)
    assert r.status_code == 204, r.text
    assert (await client.get("/v2/certs", headers=admin.headers)).json()["count"] == 0


async def test_key_stored_only_in_the_database(
    client: httpx.AsyncClient, user: Account, clean_db: Database, settings: Settings
) -> None:
    key = pki.ec_key()
    cert = pki.cert_pem(pki.make_cert(key))
    r = await upload(client, user, "stored", cert, pki.key_pem(key))
    assert r.status_code == 201
    async with clean_db.session() as session:
        row = await session.scalar(select(Certificate).where(Certificate.name == "stored"))
    assert row is not None
    assert row.key.startswith("-----BEGIN PRIVATE KEY-----")  # normalised PKCS#8
    assert x509.parse_private_key(row.key).public_key == x509.parse_certificate(cert).public_key
    assert row.certificate == cert
    # Nothing under the data dir (builds, logs, locks) holds the key.
    assert not _files_mentioning(settings.data_dir, b"PRIVATE KEY")


def _files_mentioning(root: Path, needle: bytes) -> list[Path]:
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_concurrent_attaches_one_winner(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "contested")
    await add_domain(client, "contested", user, "contested.example.com")
    for i in range(4):
        await upload_ok(client, user, f"rival-{i}")
    answers = await asyncio.gather(
        *(attach(client, f"rival-{i}", user, "contested.example.com") for i in range(4))
    )
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409], [r.text for r in answers]
