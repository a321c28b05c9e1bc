"""What the v1 routes share: serving a v2 handler as is, JSON maps posted as JSON strings,
CPU limits as shares, the 1.2 form of a ``run`` answer, and how pods become numbered
containers.

Deis v1 clients differ from v2 ones only in shapes, never in rules. Where v1 asks and answers
exactly what v2 does, ``serve`` registers the v2 handler itself; everything else here is
presentation or parsing, pure and tested without a server.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request

from dockyard.api.body import _checked
from dockyard.core import cpu_shares
from dockyard.core.errors import Invalid
from dockyard.core.timefmt import iso
from dockyard.scheduler.base import PodStatus
from dockyard.scheduler.parse import parse_cpu

# Containers get a stable uuid derived from their pod name (v1 shows one; pods have none).
CONTAINER_NAMESPACE = uuid.UUID("5d0f8a4e-7c55-4b8e-9a53-7f2a1b3c9d10")
# The header a client may send to ask for an older API's shapes, as the v1 Python client
# sends ``X-Deis-Version: 1`` (major only).
VERSION_HEADER = "x-deis-version"
NOT_JSON = "Value must be valid JSON."
NOT_AN_OBJECT = "Value must be a JSON object."
# A v1 CPU limit written as a bare number, or a string of one, is Docker CPU shares.
SHARES_RE = re.compile(r"^\s*[0-9]{1,15}(?:\.[0-9]{1,15})?\s*$")


def route_of(source: APIRouter, endpoint: Callable[..., Any]) -> APIRoute:
    """The route ``source`` registers ``endpoint`` under by its own name (not under an alias
    such as ``create_build_singular``)."""
    name = getattr(endpoint, "__name__", None)
    for route in source.routes:
        if isinstance(route, APIRoute) and route.endpoint is endpoint and route.name == name:
            return route
    raise LookupError(f"{endpoint!r} is not a route of {source!r}")


def serve(
    router: APIRouter, source: APIRouter, *endpoints: Callable[..., Any], **overrides: Any
) -> None:
    """Serve each of ``endpoints``, a v2 handler of ``source``, on the v1 ``router`` as v2
    registers it: same path, methods, status, documented answers and body, under the v1
    router's tags. The operation keeps the handler's name, so its OpenAPI ``operationId``
    (name, path and method) stays unique under ``/v1``. ``overrides`` replace a setting (a
    second method under another name, say)."""
    for endpoint in endpoints:
        route = route_of(source, endpoint)
        settings: dict[str, Any] = {
            "methods": route.methods,
            "status_code": route.status_code,
            "responses": route.responses,
            "openapi_extra": route.openapi_extra,
            "response_class": route.response_class,
            "summary": route.summary,
            "description": route.description,
            "response_description": route.response_description,
            "name": route.name,
        }
        router.add_api_route(route.path, endpoint, **(settings | overrides))


def decode_maps(data: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """``data`` with each of ``fields`` that holds a string decoded as JSON: the v1 Python
    client posts ``{"values": "{\\"A\\": \\"1\\"}"}``. The decoded value must be an object
    (``null`` values inside it still unset keys); other fields pass through unchanged."""
    decoded = dict(data)
    for field in fields:
        value = decoded.get(field)
        if not isinstance(value, str):
            continue
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise Invalid(NOT_JSON, field=field) from None
        if not isinstance(parsed, dict):
            raise Invalid(NOT_AN_OBJECT, field=field)
        # The body's checks saw only a string: apply them to what it held (no NUL, depth).
        decoded[field] = _checked({field: parsed})[field]
    return decoded


def _is_shares(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    if isinstance(value, float):
        return math.isfinite(value) and value >= 0
    return isinstance(value, str) and SHARES_RE.match(value) is not None


def cpu_limits_in(cpu: Any) -> Any:
    """v1 CPU limits as v2 stores them. Deis 1.x sends CPU shares (``{"web": 512}``): a bare
    number, or a string of one, becomes millicores (``"500m"``, by ``core.cpu_shares``).
    Anything else passes through for v2 to validate: millicores (``"500m"``), a
    request/limit pair, ``null`` (unset), or a value v2 refuses with its own message."""
    if not isinstance(cpu, Mapping):
        return cpu
    return {
        ptype: f"{cpu_shares.millicores(Fraction(str(value).strip()))}m"
        if _is_shares(value)
        else value
        for ptype, value in cpu.items()
    }


def cpu_limits_out(cpu: Mapping[str, Any]) -> dict[str, Any]:
    """Stored CPU limits as v1 shows them: CPU shares, as JSON numbers (the Deis 1.x Go
    client decodes a map of numbers and fails on strings). ``"500m"`` and ``"0.5"`` show as
    512; a request/limit pair (``"250m/500m"``) shows the shares of its limit, the figure
    a v1 client has a word for. A value that does not parse is shown as stored."""
    out: dict[str, Any] = {}
    for ptype, value in cpu.items():
        try:
            out[ptype] = cpu_shares.shares(parse_cpu(value).limit)
        except Invalid:
            out[ptype] = value
    return out


def wants_v12(request: Request) -> bool:
    """Whether the client asked for the API 1.2 shapes (``X-Deis-Version: 1.2`` or older).
    The shipped v1 clients send ``1`` or nothing and decode the 1.6 shapes."""
    raw = request.headers.get(VERSION_HEADER, "").strip()
    major, _, rest = raw.partition(".")
    minor = rest.partition(".")[0]
    return major == "1" and minor.isdigit() and len(minor) <= 3 and int(minor) <= 2


def run_answer(exit_code: int, output: str, *, v12: bool) -> Any:
    """1.6 (and every shipped v1 client) decodes ``[exit_code, output]``; the 1.2 reference
    documents ``{"rc", "output"}``."""
    return {"rc": exit_code, "output": output} if v12 else [exit_code, output]


def numbers(pods: Iterable[PodStatus]) -> dict[str, int]:
    """Pod name -> container number, 1..n per type. Oldest first, so scaling up keeps the
    numbers of the containers already running and new ones get the next numbers."""
    by_type: dict[str, list[PodStatus]] = {}
    for pod in pods:
        by_type.setdefault(pod.type, []).append(pod)
    found: dict[str, int] = {}
    for group in by_type.values():
        group.sort(key=lambda p: (p.started, p.name))
        for index, pod in enumerate(group, start=1):
            found[pod.name] = index
    return found


def container_out(pod: PodStatus, num: int, *, app_id: str, owner: str) -> dict[str, Any]:
    started = iso(pod.started)
    return {
        "owner": owner,
        "app": app_id,
        "release": pod.release,
        "created": started,
        "updated": started,
        "uuid": str(uuid.uuid5(CONTAINER_NAMESPACE, pod.name)),
        "type": pod.type,
        "num": num,
        "state": str(pod.state),
    }


def containers(
    pods: Sequence[PodStatus], *, app_id: str, owner: str, numbered_by: Iterable[PodStatus]
) -> list[dict[str, Any]]:
    """``pods`` as v1 containers, numbered within ``numbered_by`` (all of the app's pods,
    so a restarted pod shows the number ``ps:list`` will show); type then number order."""
    nums = numbers(numbered_by)
    shown = [container_out(p, nums.get(p.name, 0), app_id=app_id, owner=owner) for p in pods]
    fallback = numbers(p for p in pods if p.name not in nums)
    for pod, item in zip(pods, shown, strict=True):
        if not item["num"]:  # not among numbered_by (it came and went): its own order
            item["num"] = fallback[pod.name]
    return sorted(shown, key=lambda c: (c["type"], c["num"]))


def pod_named(pods: Iterable[PodStatus], ptype: str, num: int) -> PodStatus | None:
    """The pod that is container ``<ptype>.<num>``."""
    of_type = [p for p in pods if p.type == ptype]
    nums = numbers(of_type)
    return next((p for p in of_type if nums[p.name] == num), None)
