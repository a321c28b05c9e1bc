"""The pure parts of the v1 adapter (``api.v1.common``): JSON maps inside JSON, the 1.2 run
shape, container numbering, and the version headers ``/v1`` paths get."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from starlette.requests import Request

from dockyard.api.body import FieldErrors
from dockyard.api.middleware import V1_HEADERS, V2_HEADERS, headers_for
from dockyard.api.responses import release_headers
from dockyard.api.v1.common import (
    containers,
    decode_maps,
    numbers,
    pod_named,
    run_answer,
    wants_v12,
)
from dockyard.core.errors import Invalid
from dockyard.scheduler.base import PodState, PodStatus

T0 = datetime(2024, 1, 1, 12, 0, 0)


def pod(name: str, ptype: str, seconds: int = 0) -> PodStatus:
    return PodStatus(
        name=name,
        type=ptype,
        release="v2",
        state=PodState.up,
        started=T0 + timedelta(seconds=seconds),
    )


def request(**headers: str) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/v1/x", "headers": raw})


def test_decode_maps() -> None:
    fields = ("values", "tags")
    data = {"values": '{"A": "1", "B": null}', "tags": {"x": "y"}, "other": "{}"}
    assert decode_maps(data, fields) == {
        "values": {"A": "1", "B": None},
        "tags": {"x": "y"},
        "other": "{}",  # not a map field: untouched
    }
    assert decode_maps({}, fields) == {}
    with pytest.raises(Invalid) as bad:
        decode_maps({"values": "{nope"}, fields)
    assert bad.value.body() == {"values": ["Value must be valid JSON."]}
    with pytest.raises(Invalid) as bad:
        decode_maps({"tags": "[1]"}, fields)
    assert bad.value.body() == {"tags": ["Value must be a JSON object."]}
    with pytest.raises(FieldErrors) as nul:  # a NUL escaped inside the string
        decode_maps({"values": '{"A": "\\u0000"}'}, fields)
    assert nul.value.body() == {"values": ["Null characters are not allowed."]}


@pytest.mark.parametrize(
    ("sent", "v12"),
    [
        (None, False),
        ("1", False),  # what the v1 Python client sends
        ("1.6", False),
        ("1.2", True),
        ("1.0", True),
        ("1.2.3", True),
        ("2.3", False),
        ("1.x", False),
        ("1.99999999", False),
    ],
)
def test_wants_v12(sent: str | None, v12: bool) -> None:
    req = request(**({"X-Deis-Version": sent} if sent is not None else {}))
    assert wants_v12(req) is v12


def test_run_answer_and_release_headers() -> None:
    assert run_answer(0, "hi\n", v12=False) == [0, "hi\n"]
    assert run_answer(3, "", v12=True) == {"rc": 3, "output": ""}
    assert release_headers(7) == {
        "X-Deis-Release": "7",
        "Deis-Release": "7",
        "X-Drycc-Release": "7",
    }


def test_numbers_are_per_type_oldest_first() -> None:
    pods = [
        pod("app-web-1-bbbbb", "web", 5),
        pod("app-web-1-aaaaa", "web", 9),
        pod("app-worker-1-ccccc", "worker", 1),
        pod("app-web-1-zzzzz", "web", 5),  # same start: by name
    ]
    assert numbers(pods) == {
        "app-web-1-bbbbb": 1,
        "app-web-1-zzzzz": 2,
        "app-web-1-aaaaa": 3,
        "app-worker-1-ccccc": 1,
    }
    assert pod_named(pods, "web", 3) == pods[1]
    assert pod_named(pods, "worker", 1) == pods[2]
    assert pod_named(pods, "worker", 2) is None
    assert pod_named(pods, "clock", 1) is None


def test_containers_shape_and_numbering() -> None:
    everything = [pod("a-web-1-bbbbb", "web", 1), pod("a-web-1-ccccc", "web", 2)]
    restarted = [everything[1]]
    (shown,) = containers(restarted, app_id="a", owner="alice", numbered_by=everything)
    assert shown["num"] == 2
    assert shown == {
        "owner": "alice",
        "app": "a",
        "release": "v2",
        "created": "2024-01-01T12:00:02Z",
        "updated": "2024-01-01T12:00:02Z",
        "uuid": shown["uuid"],
        "type": "web",
        "num": 2,
        "state": "up",
    }
    again = containers(restarted, app_id="a", owner="alice", numbered_by=everything)
    assert again[0]["uuid"] == shown["uuid"]  # stable per pod
    # A pod the full list no longer has is numbered among the shown ones.
    gone = [pod("a-web-1-ddddd", "web", 3)]
    assert containers(gone, app_id="a", owner="alice", numbered_by=everything)[0]["num"] == 1
    ordered = containers(list(reversed(everything)), app_id="a", owner="o", numbered_by=everything)
    assert [c["num"] for c in ordered] == [1, 2]


def test_version_headers_by_path() -> None:
    for path in ("/v1", "/v1/", "/v1/apps", "/v1/apps/x/run"):
        assert headers_for(path) is V1_HEADERS, path
    for path in ("/v2", "/v2/apps", "/healthz", "/v10/apps", "/v1x", "/"):
        assert headers_for(path) is V2_HEADERS, path
    assert (b"x_deis_api_version", b"1.6") in V1_HEADERS
