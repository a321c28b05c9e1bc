"""Whole-API conventions: version headers, optional trailing slashes, pagination, error
shapes, body parsing and timestamps."""

from __future__ import annotations

import re

import httpx

from dockyard import __version__
from dockyard.api.app import create_app
from dockyard.core.settings import Settings
from dockyard.db.session import Database
from tests.conftest import Account, Accounts, create_app_for

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def assert_version_headers(r: httpx.Response) -> None:
    assert r.headers.get("deis_api_version") == "2.3", (r.status_code, r.headers)
    assert r.headers.get("drycc_api_version") == "2.3", (r.status_code, r.headers)
    assert r.headers.get("deis_platform_version") == __version__
    assert r.headers.get("drycc_platform_version") == __version__
    # Added once, not duplicated.
    assert len(r.headers.get_list("drycc_api_version")) == 1


# --- version headers ----------------------------------------------------------------------


async def test_version_headers_on_every_answer(client: httpx.AsyncClient, user: Account) -> None:
    answers = {
        200: await client.get("/v2/apps", headers=user.headers),
        201: await client.post("/v2/apps", json={"id": "hdr"}, headers=user.headers),
        204: await client.delete("/v2/apps/hdr", headers=user.headers),
        400: await client.post("/v2/apps", json={"id": "BAD"}, headers=user.headers),
        401: await client.get("/v2/apps"),
        404: await client.get("/v2/no/such/route", headers=user.headers),
        405: await client.put("/v2/apps", headers=user.headers),
    }
    for status, r in answers.items():
        assert r.status_code == status, (status, r.text)
        assert_version_headers(r)
    bad_token = await client.get("/v2/apps", headers={"Authorization": "token nope"})
    assert bad_token.status_code == 401
    assert bad_token.json() == {"detail": "Invalid token."}
    assert_version_headers(bad_token)
    assert_version_headers(await client.get("/healthz"))


# --- trailing slashes ---------------------------------------------------------------------


async def test_trailing_slash_optional(client: httpx.AsyncClient, user: Account) -> None:
    for path in ("/v2/apps", "/v2/apps/"):
        r = await client.post(path, json={"id": "slash" + str(len(path))}, headers=user.headers)
        assert r.status_code == 201, (path, r.text)
    for path in (
        "/v2/apps/slash8",
        "/v2/apps/slash8/",
        "/v2/apps/slash9/releases",
        "/v2/apps/slash9/releases/",
        "/v2/apps/slash9/releases/v1",
        "/v2/apps/slash9/releases/v1/",
        "/v2/apps/slash9/perms",
        "/v2/apps/slash9/perms/",
    ):
        r = await client.get(path, headers=user.headers)
        assert r.status_code == 200, (path, r.text)
    r = await client.delete("/v2/apps/slash8/", headers=user.headers)
    assert r.status_code == 204
    r = await client.delete("/v2/apps/slash9", headers=user.headers)
    assert r.status_code == 204
    assert (await client.get("/v2/apps/", headers=user.headers)).json()["count"] == 0


# --- pagination ---------------------------------------------------------------------------


async def _five_apps(client: httpx.AsyncClient, owner: Account) -> list[str]:
    ids = [f"page-{c}" for c in "abcde"]
    for app_id in ids:
        await create_app_for(client, owner, app_id)
    return ids


async def test_limit_offset_pagination(client: httpx.AsyncClient, user: Account) -> None:
    ids = await _five_apps(client, user)
    r = await client.get("/v2/apps/?limit=2&offset=0", headers=user.headers)
    assert r.status_code == 200
    first = r.json()
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert first["next"] is not None
    assert first["next"].startswith("http://testserver/")

    r = await client.get(first["next"], headers=user.headers)
    assert r.status_code == 200
    second = r.json()
    assert second["count"] == 5
    assert len(second["results"]) == 2
    assert second["previous"] is not None and second["previous"].startswith("http://testserver/")
    assert second["next"] is not None

    r = await client.get(second["next"], headers=user.headers)
    third = r.json()
    assert len(third["results"]) == 1
    assert third["next"] is None
    assert third["previous"] is not None

    seen = [a["id"] for page in (first, second, third) for a in page["results"]]
    assert sorted(seen) == ids  # every app exactly once

    back = (await client.get(second["previous"], headers=user.headers)).json()
    assert back["results"] == first["results"]


async def test_page_size_and_invalid_limits(client: httpx.AsyncClient, user: Account) -> None:
    await _five_apps(client, user)
    r = await client.get("/v2/apps?page_size=2", headers=user.headers)
    body = r.json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"] is not None

    for query in ("limit=abc", "limit=0", "limit=-2", "limit=", "page_size=x", "limit=1.5"):
        r = await client.get(f"/v2/apps?{query}", headers=user.headers)
        assert r.status_code == 200, query
        body = r.json()
        assert len(body["results"]) == 5, query
        assert body["next"] is None, query

    r = await client.get("/v2/apps?limit=2&offset=bogus", headers=user.headers)
    assert r.status_code == 200
    assert r.json()["previous"] is None
    assert len(r.json()["results"]) == 2

    r = await client.get("/v2/apps?limit=2&offset=10", headers=user.headers)
    assert r.status_code == 200
    assert r.json()["count"] == 5
    assert r.json()["results"] == []
    assert r.json()["next"] is None


async def test_release_list_is_paginated(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "paged-rel")
    r = await client.get("/v2/apps/paged-rel/releases?limit=1", headers=user.headers)
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert isinstance(body["results"], list) and len(body["results"]) == 1


# --- error shapes -------------------------------------------------------------------------


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient, user: Account) -> None:
    for path in ("/v2/nothing-here", "/v3/apps", "/v2/apps/x/y/z/w"):
        r = await client.get(path, headers=user.headers)
        assert r.status_code == 404, path
        assert r.json() == {"detail": "Not found."}
    r = await client.put("/v2/apps", headers=user.headers)
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "PUT" not allowed.'}
    r = await client.patch("/v2/apps/", headers=user.headers)
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "PATCH" not allowed.'}


async def test_malformed_bodies(client: httpx.AsyncClient, user: Account) -> None:
    json_type = {**user.headers, "Content-Type": "application/json"}
    r = await client.post("/v2/apps", content=b'{"id": ', headers=json_type)
    assert r.status_code == 400
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]

    r = await client.post("/v2/apps", content=b'["not", "a", "dict"]', headers=json_type)
    assert r.status_code == 400
    assert r.json()

    r = await client.post("/v2/apps", json={"id": 5}, headers=user.headers)
    assert r.status_code == 400
    body = r.json()
    assert list(body) == ["id"]
    assert isinstance(body["id"], list) and all(isinstance(m, str) for m in body["id"])

    r = await client.post("/v2/apps/x/perms", json={"username": ["bob"]}, headers=user.headers)
    assert r.status_code in (400, 404)

    # None of the bad requests created an app.
    assert (await client.get("/v2/apps", headers=user.headers)).json()["count"] == 0


async def test_form_encoded_create(client: httpx.AsyncClient, user: Account) -> None:
    r = await client.post("/v2/apps/", data={"id": "form-app"}, headers=user.headers)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "form-app"
    assert r.json()["owner"] == "alice"
    r = await client.post("/v2/apps/", data={"id": "Form_App"}, headers=user.headers)
    assert r.status_code == 400
    assert list(r.json()) == ["id"]


async def test_timestamps_never_null(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "stamped")
    apps = (await client.get("/v2/apps", headers=user.headers)).json()["results"]
    releases = (await client.get("/v2/apps/stamped/releases", headers=user.headers)).json()
    detail = (await client.get("/v2/apps/stamped/releases/v1", headers=user.headers)).json()
    for obj in [*apps, *releases["results"], detail]:
        for key in ("created", "updated"):
            assert obj[key] is not None
            assert TIMESTAMP.match(obj[key]), obj


# --- 500 ----------------------------------------------------------------------------------


async def test_server_error_never_leaks(settings: Settings, clean_db: Database) -> None:
    app = create_app(settings, database=clean_db)

    @app.get("/v2/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals at /etc/passwd")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        for path in ("/v2/boom", "/v2/boom/"):
            r = await c.get(path)
            assert r.status_code == 500
            body = r.json()
            assert list(body) == ["detail"]
            assert "Traceback" not in r.text
            assert "secret internals" not in r.text
            assert "RuntimeError" not in r.text
            assert_version_headers(r)


async def test_other_user_cannot_see_through_pagination(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await _five_apps(client, user)
    bob = await accounts.make("bob")
    r = await client.get("/v2/apps?limit=2", headers=bob.headers)
    assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}
