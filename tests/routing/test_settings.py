"""App settings (``/v2/apps/<id>/settings``) and the whitelist (``/v2/apps/<id>/whitelist``)
through the HTTP API. Both views show the same stored whitelist."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests.conftest import Account, Accounts, create_app_for

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DENIED = {"detail": "You do not have permission to perform this action."}
FIELDS = {
    "app",
    "owner",
    "created",
    "updated",
    "uuid",
    "maintenance",
    "routable",
    "whitelist",
    "autoscale",
    "label",
}
WEB = {"min": 1, "max": 3, "cpu_percent": 50}


async def post_settings(
    client: httpx.AsyncClient, app_id: str, by: Account, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/v2/apps/{app_id}/settings/", json=body, headers=by.headers)


async def whitelist(client: httpx.AsyncClient, app_id: str, by: Account) -> list[str]:
    r = await client.get(f"/v2/apps/{app_id}/whitelist", headers=by.headers)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"addresses"}
    return r.json()["addresses"]


async def wl(
    client: httpx.AsyncClient, method: str, app_id: str, by: Account, addresses: Any
) -> httpx.Response:
    return await client.request(
        method, f"/v2/apps/{app_id}/whitelist/", json={"addresses": addresses}, headers=by.headers
    )


async def test_defaults(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "fresh")
    r = await client.get("/v2/apps/fresh/settings", headers=user.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == FIELDS
    assert body["app"] == "fresh"
    assert body["owner"] == "alice"
    assert (body["maintenance"], body["routable"]) == (False, True)
    assert (body["whitelist"], body["autoscale"], body["label"]) == ([], {}, {})
    assert TIMESTAMP.match(body["created"]) and TIMESTAMP.match(body["updated"])
    assert (await client.get("/v2/apps/fresh/settings/", headers=user.headers)).json() == body


async def test_change_each_field(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "knobs")
    r = await post_settings(client, "knobs", user, {"maintenance": True})
    assert r.status_code == 201, r.text
    assert r.json()["maintenance"] is True
    assert set(r.json()) == FIELDS
    r = await post_settings(client, "knobs", user, {"routable": False})
    assert (r.json()["maintenance"], r.json()["routable"]) == (True, False)
    r = await post_settings(client, "knobs", user, {"autoscale": {"web": WEB}})
    assert r.status_code == 201
    assert r.json()["autoscale"] == {"web": WEB}
    r = await post_settings(client, "knobs", user, {"label": {"team": "core", "tier": 1}})
    assert r.json()["label"] == {"team": "core", "tier": 1}
    r = await post_settings(client, "knobs", user, {"whitelist": ["10.0.0.1", "10.1.0.0/16"]})
    assert r.json()["whitelist"] == ["10.0.0.1", "10.1.0.0/16"]

    body = (await client.get("/v2/apps/knobs/settings", headers=user.headers)).json()
    assert body["maintenance"] is True and body["routable"] is False
    assert body["autoscale"] == {"web": WEB}
    assert body["label"] == {"team": "core", "tier": 1}
    assert await whitelist(client, "knobs", user) == ["10.0.0.1", "10.1.0.0/16"]

    # null removes an autoscale type or a label key; absent ones are 422.
    r = await post_settings(client, "knobs", user, {"autoscale": {"web": None}})
    assert r.status_code == 201
    assert r.json()["autoscale"] == {}
    r = await post_settings(client, "knobs", user, {"autoscale": {"web": None}})
    assert (r.status_code, r.json()) == (422, {"detail": "web does not exist under autoscale"})
    r = await post_settings(client, "knobs", user, {"label": {"tier": None}})
    assert r.json()["label"] == {"team": "core"}
    r = await post_settings(client, "knobs", user, {"label": {"tier": None}})
    assert (r.status_code, r.json()) == (422, {"detail": "tier does not exist under label"})


async def test_no_change_is_409(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "steady")
    nothing = {"detail": "alice changed nothing - the settings already have these values"}
    for body in (
        {},
        {"maintenance": False},
        {"routable": True},
        {"whitelist": []},
        {"autoscale": {}},
        {"maintenance": None, "label": {}},
    ):
        r = await post_settings(client, "steady", user, body)
        assert (r.status_code, r.json()) == (409, nothing), body
    r = await post_settings(client, "steady", user, {"autoscale": {"w": WEB}})
    assert r.status_code == 201
    r = await post_settings(client, "steady", user, {"autoscale": {"w": dict(WEB)}})
    assert r.status_code == 409


async def test_invalid_settings(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "strict")
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"whitelist": ["10.0.0.1", "nope"]}, {"whitelist": ["The address nope is not valid"]}),
        (
            {"autoscale": {"web": {"min": 4, "max": 2, "cpu_percent": 50}}},
            {"autoscale": ["web: min cannot be larger than max"]},
        ),
        (
            {"autoscale": {"web": {"min": 0, "max": 2, "cpu_percent": 50}}},
            {"autoscale": ["web: min must be an integer of at least 1"]},
        ),
        (
            {"autoscale": {"web": {"min": 1, "max": 2, "cpu_percent": 101}}},
            {"autoscale": ["web: cpu_percent must be an integer between 1 and 100"]},
        ),
        (
            {"autoscale": {"web": {"min": 1, "max": 2}}},
            {"autoscale": ["web: min, max and cpu_percent are required"]},
        ),
        ({"label": {"bad key": "x"}}, None),
        ({"label": {"k": {"deep": 1}}}, None),
        ({"maintenance": "sometimes"}, {"maintenance": ["Must be a valid boolean."]}),
        ({"autoscale": ["web"]}, None),
        ({"whitelist": "10.0.0.1"}, None),
    ]
    for body, expected in cases:
        r = await post_settings(client, "strict", user, body)
        assert r.status_code == 400, (body, r.text)
        if expected is not None:
            assert r.json() == expected, body
        else:
            assert list(r.json()) == list(body), body
    # Nothing was stored by the failed requests.
    body = (await client.get("/v2/apps/strict/settings", headers=user.headers)).json()
    assert (body["whitelist"], body["autoscale"], body["label"]) == ([], {}, {})


async def test_whitelist_add_list_remove(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "walled")
    assert await whitelist(client, "walled", user) == []
    r = await wl(client, "POST", "walled", user, ["10.0.0.1", "192.168.1.5/24", "2001:DB8::1"])
    assert r.status_code == 201, r.text
    assert r.json() == {"addresses": ["10.0.0.1", "192.168.1.0/24", "2001:db8::1"]}
    r = await wl(client, "POST", "walled", user, ["10.0.0.1", "10.0.0.2"])
    assert r.status_code == 201
    assert r.json()["addresses"] == ["10.0.0.1", "192.168.1.0/24", "2001:db8::1", "10.0.0.2"]
    r = await wl(client, "POST", "walled", user, ["10.0.0.2"])
    assert r.status_code == 409
    assert r.json() == {"detail": "alice changed nothing - the addresses are already whitelisted"}

    r = await wl(client, "DELETE", "walled", user, ["10.0.0.1", "192.168.1.0/24"])
    assert r.status_code == 204, r.text
    assert await whitelist(client, "walled", user) == ["2001:db8::1", "10.0.0.2"]

    # The settings view shows the same list, and replacing it there replaces it here.
    settings = (await client.get("/v2/apps/walled/settings", headers=user.headers)).json()
    assert settings["whitelist"] == ["2001:db8::1", "10.0.0.2"]
    r = await post_settings(client, "walled", user, {"whitelist": ["172.16.0.0/12"]})
    assert r.status_code == 201
    assert await whitelist(client, "walled", user) == ["172.16.0.0/12"]


async def test_whitelist_errors(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "fenced")
    assert (await wl(client, "POST", "fenced", user, ["10.0.0.1"])).status_code == 201
    r = await wl(client, "DELETE", "fenced", user, ["10.9.9.9"])
    assert r.status_code == 422
    assert r.json() == {"detail": "10.9.9.9 does not exist in the whitelist"}
    r = await wl(client, "DELETE", "fenced", user, ["10.0.0.1", "10.9.9.9"])
    assert r.status_code == 422
    assert await whitelist(client, "fenced", user) == ["10.0.0.1"]  # all or nothing

    for method in ("POST", "DELETE"):
        r = await wl(client, method, "fenced", user, ["10.0.0.300"])
        assert (r.status_code, r.json()) == (
            400,
            {"addresses": ["The address 10.0.0.300 is not valid"]},
        )
        r = await wl(client, method, "fenced", user, [])
        assert r.status_code == 400
        assert list(r.json()) == ["addresses"]
        r = await client.request(method, "/v2/apps/fenced/whitelist", json={}, headers=user.headers)
        assert (r.status_code, r.json()) == (400, {"addresses": ["This field is required."]})
    assert await whitelist(client, "fenced", user) == ["10.0.0.1"]


async def test_permissions(client: httpx.AsyncClient, user: Account, accounts: Accounts) -> None:
    bob = await accounts.make("bob")
    mallory = await accounts.make("mallory")
    await create_app_for(client, user, "shared-settings")
    r = await client.post(
        "/v2/apps/shared-settings/perms", json={"username": "bob"}, headers=user.headers
    )
    assert r.status_code == 201
    r = await post_settings(client, "shared-settings", bob, {"maintenance": True})
    assert r.status_code == 201
    assert r.json()["owner"] == "bob"
    assert (await wl(client, "POST", "shared-settings", bob, ["10.0.0.1"])).status_code == 201

    for r in (
        await client.get("/v2/apps/shared-settings/settings", headers=mallory.headers),
        await post_settings(client, "shared-settings", mallory, {"maintenance": False}),
        await client.get("/v2/apps/shared-settings/whitelist", headers=mallory.headers),
        await wl(client, "POST", "shared-settings", mallory, ["10.0.0.2"]),
        await wl(client, "DELETE", "shared-settings", mallory, ["10.0.0.1"]),
    ):
        assert (r.status_code, r.json()) == (403, DENIED)
    assert await whitelist(client, "shared-settings", user) == ["10.0.0.1"]


async def test_superuser_may_change(
    client: httpx.AsyncClient, admin: Account, user: Account
) -> None:
    await create_app_for(client, user, "ruled")
    r = await post_settings(client, "ruled", admin, {"routable": False})
    assert r.status_code == 201
    assert (await wl(client, "POST", "ruled", admin, ["::1"])).status_code == 201


async def test_destroying_the_app_removes_settings(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "reborn")
    body = {"maintenance": True, "whitelist": ["10.0.0.1"], "autoscale": {"web": WEB}}
    assert (await post_settings(client, "reborn", user, body)).status_code == 201
    assert (await client.delete("/v2/apps/reborn", headers=user.headers)).status_code == 204
    await create_app_for(client, user, "reborn")
    fresh = (await client.get("/v2/apps/reborn/settings", headers=user.headers)).json()
    assert (fresh["maintenance"], fresh["whitelist"], fresh["autoscale"]) == (False, [], {})


async def test_changes_are_logged(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "chatty")
    assert (await post_settings(client, "chatty", user, {"maintenance": True})).status_code == 201
    r = await client.post(
        "/v2/apps/chatty/domains", json={"domain": "chatty.example.com"}, headers=user.headers
    )
    assert r.status_code == 201
    r = await client.get("/v2/apps/chatty/logs", headers=user.headers)
    assert r.status_code == 200, r.text
    assert "alice changed settings" in r.text
    assert "alice added domain chatty.example.com" in r.text


async def test_concurrent_whitelist_adds_all_land(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "busy")
    addresses = [f"10.0.0.{i}" for i in range(1, 11)]
    answers = await asyncio.gather(*(wl(client, "POST", "busy", user, [a]) for a in addresses))
    assert [r.status_code for r in answers] == [201] * len(addresses), [r.text for r in answers]
    assert sorted(await whitelist(client, "busy", user)) == sorted(addresses)


async def test_concurrent_first_reads_agree(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "crowd")
    answers = await asyncio.gather(
        *(client.get("/v2/apps/crowd/settings", headers=user.headers) for _ in range(8)),
        *(client.get("/v2/apps/crowd/tls", headers=user.headers) for _ in range(8)),
    )
    assert [r.status_code for r in answers] == [200] * 16
    assert len({r.json()["uuid"] for r in answers[:8]}) == 1
    assert len({r.json()["uuid"] for r in answers[8:]}) == 1
