"""v1 SSH keys as the Deis v1 clients use them: ``deis keys:add`` (``{"id", "public"}``),
``keys:list`` (own keys only) and ``keys:remove`` (``DELETE keys/<id>``)."""

from __future__ import annotations

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.conftest import Account, Accounts
from tests.v1.helpers import py


def public_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


async def test_add_list_remove(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    public = public_key()
    # keys:add sends "<type> <base64>" and the comment (or file name) as the id.
    r = await py(client, user, "POST", "/v1/keys", {"id": "alice@laptop", "public": public})
    assert r.status_code == 201, r.text
    key = r.json()
    assert {"created", "id", "owner", "public", "updated", "uuid"} <= set(key)
    assert (key["id"], key["owner"], key["public"]) == ("alice@laptop", "alice", public)

    r = await py(client, user, "GET", "/v1/keys")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1
    # keys:list prints "=== {owner} Keys" from the first result.
    assert body["results"][0]["owner"] == "alice"

    r = await py(client, user, "POST", "/v1/keys/", {"id": "alice@laptop", "public": public_key()})
    assert r.status_code == 400
    assert r.json() == {"id": ["SSH Key with this id already exists."]}
    r = await py(client, user, "POST", "/v1/keys", {"id": "other", "public": public})
    assert r.status_code == 400
    assert r.json() == {"public": ["Public Key is already in use"]}
    r = await py(client, user, "POST", "/v1/keys", {"id": "junk", "public": "ssh-rsa AAAAnotakey"})
    assert r.status_code == 400
    assert list(r.json()) == ["public"]

    bob = await accounts.make("bob")
    assert (await py(client, bob, "GET", "/v1/keys/")).json()["count"] == 0
    r = await py(client, bob, "DELETE", "/v1/keys/alice@laptop")
    assert r.status_code == 404

    r = await py(client, user, "DELETE", "/v1/keys/alice@laptop")
    assert r.status_code == 204
    assert r.content == b""
    assert (await client.get("/v2/keys", headers=user.headers)).json()["count"] == 0
