"""v1 domains as the Deis v1 clients use them: ``deis domains:add``, ``domains:list``,
``domains:remove`` (``DELETE domains/<d>`` with no trailing slash), and the reference's
messages."""

from __future__ import annotations

import httpx

from tests.conftest import Account, Accounts, create_app_for
from tests.v1.helpers import TIMESTAMP, py


async def test_add_list_remove(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "dom")
    r = await py(client, user, "POST", "/v1/apps/dom/domains", {"domain": "Example.COM."})
    assert r.status_code == 201, r.text
    body = r.json()
    assert {"app", "created", "domain", "owner", "updated"} <= set(body)
    assert (body["app"], body["domain"], body["owner"]) == ("dom", "example.com", "alice")
    assert TIMESTAMP.match(body["created"])
    r = await py(client, user, "POST", "/v1/apps/dom/domains/", {"domain": "*.example.org"})
    assert r.status_code == 201

    r = await py(client, user, "GET", "/v1/apps/dom/domains")
    assert r.status_code == 200
    assert [d["domain"] for d in r.json()["results"]] == ["*.example.org", "example.com"]
    r = await py(client, user, "GET", "/v1/apps/dom/domains/?page_size=1")
    assert (r.json()["count"], len(r.json()["results"])) == (2, 1)

    r = await py(client, user, "DELETE", "/v1/apps/dom/domains/example.com")
    assert r.status_code == 204
    assert r.content == b""
    r = await py(client, user, "DELETE", "/v1/apps/dom/domains/example.com")
    assert r.status_code == 404
    assert r.json() == {"detail": "No Domain matches the given query."}
    # v2 sees what v1 did.
    v2 = (await client.get("/v2/apps/dom/domains", headers=user.headers)).json()
    assert [d["domain"] for d in v2["results"]] == ["*.example.org"]


async def test_domain_errors(client: httpx.AsyncClient, user: Account, accounts: Accounts) -> None:
    await create_app_for(client, user, "dom-a")
    await create_app_for(client, user, "dom-b")
    await py(client, user, "POST", "/v1/apps/dom-a/domains", {"domain": "taken.com"})
    for domain, text in (
        ("taken.com", "Domain is already in use by another application"),
        ("*", "Hostname can't only be a wildcard"),
        ("example.123", "Hostname does not look valid."),
    ):
        r = await py(client, user, "POST", "/v1/apps/dom-b/domains", {"domain": domain})
        assert r.status_code == 400, domain
        assert r.json() == {"domain": [text]}
    bob = await accounts.make("bob")
    r = await py(client, bob, "POST", "/v1/apps/dom-a/domains", {"domain": "bob.com"})
    assert r.status_code == 403
    r = await py(client, bob, "DELETE", "/v1/apps/dom-a/domains/taken.com")
    assert r.status_code == 403
