"""Schemathesis hooks for the token-destroying pass of ``run_schemathesis.py``.

Loaded by schemathesis itself (``SCHEMATHESIS_HOOKS=<this file>``), never by pytest. It
registers a dynamic auth provider that logs in with a password, so when the fuzzer revokes
its own token (``POST /v2/auth/tokens``) the next 401 makes schemathesis log in again and
replay the request instead of answering 401 for the rest of the pass.

Configured by the runner through ``DOCKYARD_FUZZ_BASE_URL``, ``DOCKYARD_FUZZ_USERNAME`` and
``DOCKYARD_FUZZ_PASSWORD``.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import schemathesis


def _login() -> str:
    request = urllib.request.Request(
        os.environ["DOCKYARD_FUZZ_BASE_URL"] + "/v2/auth/login",
        data=json.dumps(
            {
                "username": os.environ["DOCKYARD_FUZZ_USERNAME"],
                "password": os.environ["DOCKYARD_FUZZ_PASSWORD"],
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        token: str = json.load(response)["token"]
    return token


@schemathesis.auth(retry_on=[401])
class PasswordLogin:
    def get(self, case: Any, context: Any) -> str:
        return _login()

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"token {data}"
