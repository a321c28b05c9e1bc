"""A JSON response rendered with orjson (fast, and the UTF-8 output clients expect), and the
headers shared by several answers."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse, Response


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def no_content() -> Response:
    return Response(status_code=204)


def release_headers(version: int) -> dict[str, str]:
    """The new release number a config or build POST made, under every name a client reads
    it by: ``X-Drycc-Release`` (the Drycc references), ``X-Deis-Release`` (the Deis ones) and
    ``Deis-Release`` (the v1 Python client, which fails without it)."""
    number = str(version)
    return {"X-Drycc-Release": number, "X-Deis-Release": number, "Deis-Release": number}
