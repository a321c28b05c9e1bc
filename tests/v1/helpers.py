"""Helpers of the v1 tests: requests shaped as the Deis v1 clients send them, and the checks
every v1 answer must pass.

The v1 Python client (``deis.py``) sends paths without a trailing slash, JSON bodies made
with ``json.dumps`` (maps inside them as JSON strings) with ``X-Deis-Version: 1``, and
register/login form-encoded. The v1 Go client sends paths with a trailing slash and lists
with ``?page_size=``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from dockyard import __version__
from tests.conftest import Account

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_v1_headers(r: httpx.Response) -> None:
    assert r.headers.get("deis_api_version") == "1.6", (r.status_code, dict(r.headers))
    assert r.headers.get("x_deis_api_version") == "1.6", (r.status_code, dict(r.headers))
    assert r.headers.get("deis_platform_version") == __version__
    assert "drycc_api_version" not in r.headers  # not the v2 headers
    assert len(r.headers.get_list("deis_api_version")) == 1


async def py(
    client: httpx.AsyncClient,
    who: Account | None,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    **headers: str,
) -> httpx.Response:
    """A request as the v1 Python client's ``_dispatch`` makes it."""
    sent = {"content-type": "application/json", "X-Deis-Version": "1", **headers}
    if who is not None:
        sent["Authorization"] = f"token {who.token}"
    content = json.dumps(body) if body is not None else None
    r = await client.request(method, path, content=content, headers=sent)
    assert_v1_headers(r)
    return r


def js(value: dict[str, Any]) -> str:
    """A map as the v1 Python client nests it: a JSON string inside the JSON body."""
    return json.dumps(value)


def message(r: httpx.Response) -> str:
    """The error message of ``{"detail": m}`` or ``{"<field>": [m]}``."""
    body = r.json()
    assert isinstance(body, dict) and len(body) == 1, body
    (value,) = body.values()
    if isinstance(value, list):
        assert len(value) == 1, body
        value = value[0]
    assert isinstance(value, str), body
    return value
