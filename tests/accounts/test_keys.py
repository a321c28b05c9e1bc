"""SSH keys through the API: add, list (own keys only), remove, and key validation."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Callable
from functools import cache

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from tests.conftest import Account, Accounts

KEY_FIELDS = {
    "uuid",
    "id",
    "owner",
    "public",
    "fingerprint",
    "fingerprint_sha256",
    "created",
    "updated",
}


PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


def openssh(public_key: PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def mpint(n: int) -> bytes:
    return ssh_string(n.to_bytes(n.bit_length() // 8 + 1, "big"))


def dsa_openssh() -> str:
    """A real ssh-dss line, encoded by hand (cryptography deprecates DSA serialization)."""
    numbers = dsa.generate_private_key(1024).public_key().public_numbers()
    p = numbers.parameter_numbers
    blob = ssh_string(b"ssh-dss") + b"".join(mpint(n) for n in (p.p, p.q, p.g, numbers.y))
    return f"ssh-dss {base64.b64encode(blob).decode()}"


@cache
def ssh_key(kind: str, n: int = 0) -> str:
    """A real OpenSSH public key line, generated once per (kind, n)."""
    del n  # only distinguishes cache entries
    if kind == "rsa":
        return openssh(rsa.generate_private_key(65537, 2048).public_key())
    if kind == "ed25519":
        return openssh(ed25519.Ed25519PrivateKey.generate().public_key())
    if kind == "p256":
        return openssh(ec.generate_private_key(ec.SECP256R1()).public_key())
    if kind == "p384":
        return openssh(ec.generate_private_key(ec.SECP384R1()).public_key())
    if kind == "dsa":
        return dsa_openssh()
    raise AssertionError(kind)


def md5_fingerprint(line: str) -> str:
    digest = hashlib.md5(base64.b64decode(line.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def sha256_fingerprint(line: str) -> str:
    digest = hashlib.sha256(base64.b64decode(line.split()[1])).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


async def add_key(
    client: httpx.AsyncClient, owner: Account, key_id: str, public: str
) -> httpx.Response:
    return await client.post(
        "/v2/keys/", json={"id": key_id, "public": public}, headers=owner.headers
    )


async def key_ids(client: httpx.AsyncClient, owner: Account) -> list[str]:
    r = await client.get("/v2/keys", headers=owner.headers)
    assert r.status_code == 200
    return [k["id"] for k in r.json()["results"]]


@pytest.fixture
async def alice(accounts: Accounts) -> Account:
    """A single user (the first, so also a superuser: irrelevant to keys), to save hashing."""
    return await accounts.make("alice")


KINDS = {
    "rsa": "ssh-rsa",
    "ed25519": "ssh-ed25519",
    "p256": "ecdsa-sha2-nistp256",
    "p384": "ecdsa-sha2-nistp384",
}


async def test_add_keys_of_every_type(client: httpx.AsyncClient, alice: Account) -> None:
    added = []
    for kind, type_word in KINDS.items():
        line = ssh_key(kind)
        assert line.startswith(type_word + " ")
        r = await add_key(client, alice, f"alice@{kind}", f"{line} alice@laptop")
        assert r.status_code == 201, (kind, r.text)
        key = r.json()
        assert set(key) == KEY_FIELDS
        assert key["id"] == f"alice@{kind}"
        assert key["owner"] == "alice"
        assert key["public"].split() == [*line.split(), "alice@laptop"]
        assert key["fingerprint"] == md5_fingerprint(line), kind
        assert re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){15}", key["fingerprint"])
        assert key["fingerprint_sha256"] == sha256_fingerprint(line), kind
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", key["created"])
        added.append(key)

    r = await client.get("/v2/keys/", headers=alice.headers)
    assert r.status_code == 200
    listed = r.json()
    assert listed["count"] == len(KINDS)
    assert listed["next"] is None and listed["previous"] is None
    assert sorted(listed["results"], key=lambda k: k["id"]) == sorted(added, key=lambda k: k["id"])


INVALID_KEYS: dict[str, Callable[[], str]] = {
    "dsa": lambda: ssh_key("dsa"),
    "garbage-base64": lambda: "ssh-rsa not*base64!!",
    "truncated": lambda: "ssh-rsa " + ssh_key("rsa").split()[1][:-12],
    "rsa-blob-ed25519-word": lambda: "ssh-ed25519 " + ssh_key("rsa").split()[1],
    "ed25519-blob-rsa-word": lambda: "ssh-rsa " + ssh_key("ed25519").split()[1],
    "p256-blob-p384-word": lambda: "ecdsa-sha2-nistp384 " + ssh_key("p256").split()[1],
    "unknown-type": lambda: "ssh-foo " + ssh_key("ed25519").split()[1],
    "no-type-word": lambda: ssh_key("ed25519").split()[1],
    "empty": lambda: "",
    "not-a-key": lambda: "ssh-rsa " + base64.b64encode(b"hello world").decode(),
}


async def test_invalid_keys_are_400(client: httpx.AsyncClient, alice: Account) -> None:
    for case, public in INVALID_KEYS.items():
        r = await add_key(client, alice, "bad", public())
        assert r.status_code == 400, (case, r.text)
        body = r.json()
        assert list(body) == ["public"], case
        assert isinstance(body["public"], list) and body["public"][0], case
    assert await key_ids(client, alice) == []


async def test_invalid_key_id_is_400(client: httpx.AsyncClient, alice: Account) -> None:
    for key_id in ("", "has space", "semi;colon", "slash/y", "k" * 129):
        r = await add_key(client, alice, key_id, ssh_key("ed25519"))
        assert r.status_code == 400, key_id
        assert list(r.json()) == ["id"]
    assert await key_ids(client, alice) == []


async def test_missing_fields_are_400(client: httpx.AsyncClient, alice: Account) -> None:
    r = await client.post("/v2/keys/", json={}, headers=alice.headers)
    assert r.status_code == 400
    assert r.json() == {"id": ["This field is required."], "public": ["This field is required."]}


async def test_duplicate_id_for_same_user(client: httpx.AsyncClient, alice: Account) -> None:
    assert (await add_key(client, alice, "home", ssh_key("ed25519"))).status_code == 201
    r = await add_key(client, alice, "home", ssh_key("p256"))
    assert r.status_code == 400
    assert r.json() == {"id": ["SSH Key with this id already exists."]}
    assert await key_ids(client, alice) == ["home"]


async def test_same_id_for_different_users(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    assert (await add_key(client, user, "laptop", ssh_key("ed25519"))).status_code == 201
    assert (await add_key(client, admin, "laptop", ssh_key("p256"))).status_code == 201
    assert await key_ids(client, user) == ["laptop"]
    assert await key_ids(client, admin) == ["laptop"]


async def test_same_public_key_is_refused(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    line = ssh_key("rsa")
    assert (await add_key(client, user, "one", f"{line} first-comment")).status_code == 201
    taken = {"public": ["Public Key is already in use"]}
    # Same user, another id.
    r = await add_key(client, user, "two", line)
    assert r.status_code == 400
    assert r.json() == taken
    # Another comment and surrounding whitespace do not make it another key.
    r = await add_key(client, user, "three", f"  {line}   other comment\n")
    assert r.status_code == 400
    assert r.json() == taken
    # Another user.
    r = await add_key(client, admin, "mine-now", f"{line} admin@host")
    assert r.status_code == 400
    assert r.json() == taken
    assert await key_ids(client, user) == ["one"]
    assert await key_ids(client, admin) == []


async def test_users_see_only_their_own_keys(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    assert (await add_key(client, user, "a1", ssh_key("ed25519"))).status_code == 201
    assert (await add_key(client, user, "a2", ssh_key("p256"))).status_code == 201
    assert (await add_key(client, admin, "b1", ssh_key("p384"))).status_code == 201
    r = await client.get("/v2/keys", headers=user.headers)
    assert r.json()["count"] == 2
    assert sorted(k["id"] for k in r.json()["results"]) == ["a1", "a2"]
    assert {k["owner"] for k in r.json()["results"]} == {"alice"}
    r = await client.get("/v2/keys", headers=admin.headers)
    assert r.json()["count"] == 1
    assert [(k["id"], k["owner"]) for k in r.json()["results"]] == [("b1", admin.username)]

    r = await client.get("/v2/keys?limit=1", headers=user.headers)
    assert r.json()["count"] == 2
    assert len(r.json()["results"]) == 1
    assert r.json()["next"] is not None


async def test_delete_key(client: httpx.AsyncClient, alice: Account) -> None:
    assert (
        await add_key(client, alice, "alice@example.com", ssh_key("ed25519"))
    ).status_code == 201
    assert (await add_key(client, alice, "other", ssh_key("p256"))).status_code == 201
    r = await client.delete("/v2/keys/alice@example.com", headers=alice.headers)
    assert r.status_code == 204
    assert r.content == b""
    assert await key_ids(client, alice) == ["other"]
    r = await client.delete("/v2/keys/alice@example.com/", headers=alice.headers)
    assert r.status_code == 404
    # The public key is free again once removed.
    assert (await add_key(client, alice, "again", ssh_key("ed25519"))).status_code == 201


async def test_delete_unknown_key_is_404(client: httpx.AsyncClient, alice: Account) -> None:
    r = await client.delete("/v2/keys/nope", headers=alice.headers)
    assert r.status_code == 404
    assert "detail" in r.json()


async def test_cannot_delete_another_users_key(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    assert (await add_key(client, admin, "admin-key", ssh_key("ed25519"))).status_code == 201
    r = await client.delete("/v2/keys/admin-key", headers=user.headers)
    assert r.status_code == 404
    assert await key_ids(client, admin) == ["admin-key"]


async def test_keys_need_auth(client: httpx.AsyncClient) -> None:
    r = await client.post("/v2/keys/", json={"id": "x", "public": ssh_key("ed25519")})
    assert r.status_code == 401
    assert (await client.delete("/v2/keys/x")).status_code == 401


async def test_cancelled_users_keys_are_freed(
    client: httpx.AsyncClient, accounts: Accounts, alice: Account
) -> None:
    line = ssh_key("ed25519", 1)
    assert (await add_key(client, alice, "k", line)).status_code == 201
    assert (await client.delete("/v2/auth/cancel", headers=alice.headers)).status_code == 204
    bob = await accounts.make("bob")
    r = await add_key(client, bob, "k", line)
    assert r.status_code == 201, r.text
    assert r.json()["owner"] == "bob"


async def test_multi_line_key_is_refused(client: httpx.AsyncClient, alice: Account) -> None:
    two = f"{ssh_key('ed25519')} one\n{ssh_key('p256')} two"
    r = await add_key(client, alice, "two-lines", two)
    assert r.status_code == 400
    assert list(r.json()) == ["public"]
    assert await key_ids(client, alice) == []
