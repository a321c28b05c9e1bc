"""v1 apps as the Deis v1 clients use them: create (named, generated, empty body), list with
``?page_size=``, info, destroy, and logs as a JSON string; v1 and v2 see the same apps."""

from __future__ import annotations

import json
import re

import httpx
import orjson

from dockyard.api.app import create_app
from dockyard.core.settings import Settings
from dockyard.db.session import Database
from tests.conftest import Account, Accounts, create_app_for
from tests.v1.helpers import TIMESTAMP, UUID, assert_v1_headers, py

APP_FIELDS = {"uuid", "id", "owner", "structure", "url", "created", "updated"}
GENERATED = re.compile(r"^[a-z]+-[a-z]+(-\d{4})?$")


async def test_create_list_info_destroy(client: httpx.AsyncClient, user: Account) -> None:
    # deis apps:create example-go (Python client: no slash, JSON body)
    r = await py(client, user, "POST", "/v1/apps", {"id": "example-go"})
    assert r.status_code == 201, r.text
    app = r.json()
    assert set(app) == APP_FIELDS
    assert (app["id"], app["owner"], app["structure"]) == ("example-go", "alice", {})
    assert app["url"].startswith("example-go.example.test")
    assert UUID.match(app["uuid"])
    assert TIMESTAMP.match(app["created"]) and TIMESTAMP.match(app["updated"])

    # The Go v1 client: slashed path, empty body.
    r = await client.post("/v1/apps/", content=b"", headers=user.headers)
    assert r.status_code == 201, r.text
    assert_v1_headers(r)
    generated = r.json()["id"]
    assert GENERATED.match(generated)
    # The Python client with no id posts "{}".
    r = await py(client, user, "POST", "/v1/apps", {})
    assert r.status_code == 201

    r = await py(client, user, "GET", "/v1/apps")
    assert r.status_code == 200
    listed = r.json()
    assert set(listed) == {"count", "next", "previous", "results"}
    assert listed["count"] == 3
    assert "example-go" in [a["id"] for a in listed["results"]]

    r = await py(client, user, "GET", "/v1/apps/example-go")
    assert r.status_code == 200
    assert r.json() == app

    r = await py(client, user, "DELETE", "/v1/apps/example-go")
    assert r.status_code == 204
    assert r.content == b""
    r = await py(client, user, "GET", "/v1/apps/example-go/")
    assert r.status_code == 404
    assert r.json() == {"detail": "No App matches the given query."}


async def test_page_size(client: httpx.AsyncClient, user: Account) -> None:
    for name in ("pg-a", "pg-b", "pg-c"):
        await create_app_for(client, user, name)
    # The Go v1 client's LimitedRequest: GET /v1/apps/?page_size=N
    r = await py(client, user, "GET", "/v1/apps/?page_size=2")
    body = r.json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["previous"] is None
    assert body["next"].startswith("http://testserver/v1/apps")
    rest = (await py(client, user, "GET", body["next"])).json()
    assert len(rest["results"]) == 1
    assert {a["id"] for a in body["results"] + rest["results"]} == {"pg-a", "pg-b", "pg-c"}


async def test_create_errors(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "taken")
    r = await py(client, user, "POST", "/v1/apps", {"id": "taken"})
    assert r.status_code == 400
    assert r.json() == {"id": ["Application with this id already exists."]}
    r = await py(client, user, "POST", "/v1/apps", {"id": "Bad_Name"})
    assert r.status_code == 400
    assert r.json() == {
        "id": [
            "App name must start with an alphabetic character, cannot end with a hyphen and "
            "can only contain a-z (lowercase), 0-9 and hyphens."
        ]
    }
    r = await py(client, user, "POST", "/v1/apps", {"id": "reserved-app"})
    assert r.status_code == 400
    assert r.json() == {"id": ["reserved-app is a reserved name."]}
    # Route and method errors, in DRF's shape and with the v1 headers (py checks those).
    r = await py(client, user, "GET", "/v1/no/such/route")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not found."}
    r = await py(client, user, "PUT", "/v1/apps/taken")
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "PUT" not allowed.'}


async def test_v1_and_v2_see_the_same_apps(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    await create_app_for(client, user, "made-in-v2")
    r = await py(client, user, "POST", "/v1/apps", {"id": "made-in-v1"})
    assert r.status_code == 201
    v1 = (await py(client, user, "GET", "/v1/apps")).json()["results"]
    v2 = (await client.get("/v2/apps", headers=user.headers)).json()["results"]
    assert v1 == v2
    assert [a["id"] for a in v1] == ["made-in-v1", "made-in-v2"]
    # Release v1 of an app made through v1 is the usual initial release.
    rel = (await client.get("/v2/apps/made-in-v1/releases", headers=user.headers)).json()
    assert [r["summary"] for r in rel["results"]] == ["alice created initial release"]

    bob = await accounts.make("bob")
    r = await py(client, bob, "GET", "/v1/apps/made-in-v1")
    assert r.status_code == 403
    assert r.json() == {"detail": "You do not have permission to perform this action."}
    assert (await py(client, bob, "GET", "/v1/apps")).json()["count"] == 0


async def test_logs_are_a_json_string(client: httpx.AsyncClient, user: Account) -> None:
    await py(client, user, "POST", "/v1/apps", {"id": "logged"})
    r = await py(client, user, "GET", "/v1/apps/logged/logs")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    # deis apps:logs: response.json().split('\n')[:-1]
    text = r.json()
    assert isinstance(text, str)
    lines = text.split("\n")[:-1]
    assert any(line.endswith("alice created initial release (v1)") for line in lines), text
    # The Go v1 client strips the quotes instead.
    assert r.text.startswith('"') and r.text.endswith('"')
    assert orjson.loads(r.text) == text

    r = await py(client, user, "GET", "/v1/apps/logged/logs/?log_lines=1")
    assert r.status_code == 200
    assert len(json.loads(r.text).strip().split("\n")) == 1
    r = await py(client, user, "GET", "/v1/apps/logged/logs?log_lines=0")
    assert r.status_code == 400


async def test_server_error_under_v1(settings: Settings, clean_db: Database) -> None:
    """A 500 is answered outside the middleware: it still carries the v1 headers."""
    app = create_app(settings, database=clean_db)

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/v1/boom/")
    assert r.status_code == 500
    assert list(r.json()) == ["detail"] and "secret" not in r.text
    assert_v1_headers(r)
