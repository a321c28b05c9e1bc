"""``DockyardClient`` itself: readable error messages, pagination through ``next``, URLs."""

from __future__ import annotations

import json

import httpx
import pytest

from dockyard.client import ClientError, DockyardClient, normalize_url
from dockyard.client import base as client_api
from dockyard.client.errors import error_message
from tests.cli.conftest import PASSWORD, Server, app_name


def _response(status: int, body: object = None, text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text)
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"detail": "Invalid token."}, "Invalid token."),
        (
            400,
            {"username": ["A user with that username already exists."]},
            "username: A user with that username already exists.",
        ),
        (
            400,
            {"non_field_errors": ["Unable to log in with provided credentials."]},
            "Unable to log in with provided credentials.",
        ),
        (400, {"id": ["a", "b"], "public": ["c"]}, "id: a b\npublic: c"),
        (400, {"healthcheck": {"web": ["bad probe"]}}, "healthcheck: web: bad probe"),
        (400, ["one", "two"], "one\ntwo"),
    ],
)
def test_error_messages(status: int, body: object, expected: str) -> None:
    assert error_message(_response(status, body)) == expected


def test_error_message_without_json() -> None:
    assert error_message(_response(502, text="Bad gateway from proxy")) == "Bad gateway from proxy"
    assert error_message(_response(502, text="<html>...</html>")) == "502 Bad Gateway"


def test_normalize_url() -> None:
    assert normalize_url("example.com:8000/") == "http://example.com:8000"
    assert normalize_url("https://h.example") == "https://h.example"
    with pytest.raises(ClientError):
        normalize_url("ftp://x")
    with pytest.raises(ClientError):
        normalize_url("  ")


def test_pagination_follows_next_on_our_host_only() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        offset = int(request.url.params.get("offset", "0"))
        # The server names itself differently (a proxy): only path and query are used.
        nxt = f"http://internal:9/v2/apps/?limit=2&offset={offset + 2}" if offset < 4 else None
        results = [{"id": f"a{i}"} for i in range(offset, min(offset + 2, 5))]
        return httpx.Response(
            200, json={"count": 5, "next": nxt, "previous": None, "results": results}
        )

    with DockyardClient("http://ctl.example", "tok", transport=httpx.MockTransport(handler)) as c:
        assert [a["id"] for a in c.apps()] == ["a0", "a1", "a2", "a3", "a4"]
        assert [a["id"] for a in c.apps(limit=3)] == ["a0", "a1", "a2"]
    assert all(r.url.host == "ctl.example" for r in seen)
    assert all(r.headers["Authorization"] == "token tok" for r in seen)


def test_unexpected_list_shape() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"count": "x"}))
    with DockyardClient("http://ctl", "t", transport=transport) as c, pytest.raises(ClientError):
        c.apps()


def test_real_pagination(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_api, "PAGE_SIZE", 2)
    with DockyardClient(server.url) as client:
        name = f"pager{app_name()[4:]}"
        client.register(name, PASSWORD)
        client.login(name, PASSWORD)
        made = {client.create_app(app_name())["id"] for _ in range(5)}
        assert {a["id"] for a in client.apps()} == made
        client.regenerate_token()
        assert client.whoami()["username"] == name


def test_connection_error_is_a_client_error() -> None:
    with DockyardClient("http://127.0.0.1:9", timeout=2) as c, pytest.raises(ClientError) as info:
        c.whoami()
    assert info.value.status == 0
    assert "Cannot reach the controller" in info.value.message


def test_endpoint_shapes() -> None:
    """What the deploy and routing methods send, checked without a server."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path.endswith("/logs"):
            return httpx.Response(204)
        if path.endswith("/config"):
            return httpx.Response(201, json={"values": {}}, headers={"Deis-Release": "7"})
        if path.endswith("/restart"):
            return httpx.Response(200, json=[])
        return httpx.Response(204)

    transport = httpx.MockTransport(handler)
    with DockyardClient("http://ctl", "t", transport=transport, deploy_timeout=123) as c:
        assert c.logs("a b", 5) == ""
        c.set_config("a", values={"K": "v", "GONE": None})
        assert c.last_release == 7
        c.restart("a")
        c.restart("a", "web")
        c.remove_whitelist("a", ["1.2.3.4"])
        c.remove_domain("a", "*.x.test")
        c.scale("a", {"web": 2})
    logs, config, restart_all, restart_web, whitelist, domain, scale = seen
    assert logs.url.raw_path == b"/v2/apps/a%20b/logs?log_lines=5"
    assert json.loads(config.content) == {"values": {"K": "v", "GONE": None}}
    assert config.extensions["timeout"]["read"] == 123  # a deploy waits for the processes
    assert logs.extensions["timeout"]["read"] == 30
    assert restart_all.url.path == "/v2/apps/a/pods/restart"
    assert restart_web.url.path == "/v2/apps/a/pods/web/restart"
    assert whitelist.method == "DELETE" and json.loads(whitelist.content) == {
        "addresses": ["1.2.3.4"]
    }
    assert domain.url.raw_path == b"/v2/apps/a/domains/%2A.x.test"
    assert json.loads(scale.content) == {"web": 2}
