"""An app's log answered as plain text, or as a JSON string (the v2.3 reference's example) to
a client whose ``Accept`` prefers ``application/json`` (the npm ``deis-api`` library); the rule
itself (``api.negotiation``) tested without a server."""

from __future__ import annotations

import json

import httpx
import pytest

from dockyard.api.negotiation import prefers_json
from dockyard.scheduler.local.client import LocalScheduler
from tests.conftest import Account, create_app_for


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/*", False),
        ("text/plain", False),
        ("application/json", True),
        ("Application/JSON", True),
        ("application/json; charset=utf-8", True),
        ("application/json, */*", True),  # same quality, listed first
        ("application/json, text/plain, */*", True),  # axios' default
        ("*/*, application/json", False),
        ("text/plain, application/json", False),
        ("application/json;q=0.9, */*;q=0.8", True),
        ("application/json;q=0.5, text/*;q=0.9", False),
        ("text/plain;q=0.1, application/json;q=0.2", True),
        ("application/json;q=0", False),
        ("application/json;q=abc", False),
        ("application/json;q=nan", False),
        ("text/html, application/json", True),  # text/html is not text/plain
        (",,;", False),
    ],
)
def test_prefers_json(accept: str | None, expected: bool) -> None:
    assert prefers_json(accept) is expected


async def _app_with_log(client: httpx.AsyncClient, user: Account, app: str) -> None:
    await create_app_for(client, user, app)
    for key, value in (("A", 'quote " and \\ back'), ("B", "ünïcode")):
        r = await client.post(
            f"/v2/apps/{app}/config", json={"values": {key: value}}, headers=user.headers
        )
        assert r.status_code == 201, r.text


async def test_logs_plain_and_json(client: httpx.AsyncClient, user: Account) -> None:
    await _app_with_log(client, user, "logs-accept")
    path = "/v2/apps/logs-accept/logs"
    # Go clients send no Accept: plain text, as today.
    plain = await client.get(path, headers=user.headers)
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/plain")
    assert plain.headers["vary"] == "Accept"
    lines = plain.text.splitlines()
    assert len(lines) == 3 and lines[-1].endswith("alice added B (v3)")
    for accept in ("*/*", "text/plain", "application/*", "text/plain, application/json"):
        r = await client.get(path, headers={**user.headers, "Accept": accept})
        assert r.headers["content-type"].startswith("text/plain"), accept
        assert r.text == plain.text
    # The npm deis-api library: Accept: application/json, and JSON.parse of the body.
    for accept in ("application/json", "application/json, text/plain, */*"):
        r = await client.get(path, headers={**user.headers, "Accept": accept})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json", accept
        assert r.headers["vary"] == "Accept"
        assert r.content.startswith(b'"') and b"\n" not in r.content
        assert json.loads(r.content) == plain.text
    # log_lines applies to both forms.
    r = await client.get(
        f"{path}?log_lines=1", headers={**user.headers, "Accept": "application/json"}
    )
    assert json.loads(r.content) == lines[-1] + "\n"


async def test_no_logs_is_204_in_both_forms(
    client: httpx.AsyncClient, user: Account, scheduler: LocalScheduler
) -> None:
    await create_app_for(client, user, "logs-none")
    await scheduler.destroy("logs-none")  # the scheduler lost the log
    for accept in (None, "application/json"):
        headers = dict(user.headers) | ({"Accept": accept} if accept else {})
        r = await client.get("/v2/apps/logs-none/logs", headers=headers)
        assert r.status_code == 204, accept
        assert r.content == b""
    r = await client.get(
        "/v2/apps/no-such-app/logs", headers={**user.headers, "Accept": "application/json"}
    )
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json" and "detail" in r.json()


async def test_v1_logs_are_a_json_string_either_way(
    client: httpx.AsyncClient, user: Account
) -> None:
    await _app_with_log(client, user, "logs-v1")
    plain = (await client.get("/v2/apps/logs-v1/logs", headers=user.headers)).text
    for accept in (None, "application/json"):
        headers = dict(user.headers) | ({"Accept": accept} if accept else {})
        r = await client.get("/v1/apps/logs-v1/logs/", headers=headers)
        assert r.status_code == 200
        assert json.loads(r.content) == plain


async def test_openapi_declares_both_forms(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    answer = spec["paths"]["/v2/apps/{app_id}/logs"]["get"]["responses"]["200"]
    assert set(answer["content"]) == {"text/plain", "application/json"}
