"""The healthcheck requests of the Deis v2 Workflow CLI, replayed through the HTTP API: the
``web/cmd`` key (set, echoed, unset one kind), the flat form of older clients, the legacy
``HEALTHCHECK_*`` values, and ``web/cmd`` probes really applied to the web pods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Account, create_app_for
from tests.releases.helpers import (
    built,
    configured,
    eventually,
    logs,
    message,
    pods,
    releases,
    scale,
    set_config,
)

READINESS = {
    "httpGet": {"path": "/healthz", "port": 5000},
    "initialDelaySeconds": 1,
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
LIVENESS = {"tcpSocket": {"port": 5000}, "initialDelaySeconds": 2}


async def _config(client: httpx.AsyncClient, user: Account, app: str) -> dict[str, Any]:
    r = await client.get(f"/v2/apps/{app}/config/", headers=user.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _summary(client: httpx.AsyncClient, user: Account, app: str) -> str:
    return str((await releases(client, user, app))[0]["summary"])


async def _post(client: httpx.AsyncClient, user: Account, app: str, body: Any) -> httpx.Response:
    """As the Go client sends it: the trailing slash and a raw JSON body."""
    return await client.post(f"/v2/apps/{app}/config/", json=body, headers=user.headers)


# --- the requests of the Deis CLI (no build: nothing deploys) -------------------------------


async def test_web_cmd_set_echoed_and_one_kind_unset(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "hc-webcmd")
    # deis healthchecks:set readiness httpGet 5000 --path /healthz (no --type)
    r = await _post(
        client, user, "hc-webcmd", {"healthcheck": {"web/cmd": {"readinessProbe": READINESS}}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["healthcheck"] == {"web/cmd": {"readinessProbe": READINESS}}
    assert r.headers["Deis-Release"] == "2"
    assert await _summary(client, user, "hc-webcmd") == (
        "alice added healthcheck info for proc type web/cmd"
    )
    assert (await _config(client, user, "hc-webcmd"))["healthcheck"] == r.json()["healthcheck"]

    # Setting the other kind keeps the first: the merge is per kind.
    r = await _post(
        client, user, "hc-webcmd", {"healthcheck": {"web/cmd": {"livenessProbe": LIVENESS}}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["healthcheck"] == {
        "web/cmd": {"readinessProbe": READINESS, "livenessProbe": LIVENESS}
    }
    assert await _summary(client, user, "hc-webcmd") == (
        "alice changed healthcheck info for proc type web/cmd"
    )

    # deis healthchecks:unset readiness: only that kind goes.
    r = await _post(
        client, user, "hc-webcmd", {"healthcheck": {"web/cmd": {"readinessProbe": None}}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["healthcheck"] == {"web/cmd": {"livenessProbe": LIVENESS}}

    # Unsetting it again, or a kind of a type with none: 422, and no release.
    r = await _post(
        client, user, "hc-webcmd", {"healthcheck": {"web/cmd": {"readinessProbe": None}}}
    )
    assert r.status_code == 422, r.text
    assert r.json() == {"detail": "web/cmd readinessProbe does not exist under healthcheck"}
    r = await _post(client, user, "hc-webcmd", {"healthcheck": {"web": {"livenessProbe": None}}})
    assert r.status_code == 422
    assert r.json() == {"detail": "web livenessProbe does not exist under healthcheck"}
    assert len(await releases(client, user, "hc-webcmd")) == 4

    # The last kind gone, the key goes.
    r = await _post(
        client, user, "hc-webcmd", {"healthcheck": {"web/cmd": {"livenessProbe": None}}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["healthcheck"] == {}
    assert await _summary(client, user, "hc-webcmd") == (
        "alice deleted healthcheck info for proc type web/cmd"
    )
    r = await _post(client, user, "hc-webcmd", {"healthcheck": {"web/cmd": None}})
    assert r.status_code == 422
    assert r.json() == {"detail": "web/cmd does not exist under healthcheck"}


async def test_web_cmd_and_process_types_side_by_side(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "hc-side")
    body = {
        "healthcheck": {
            "web/cmd": {"readinessProbe": READINESS},
            "web": {"livenessProbe": LIVENESS},
            "worker": {"livenessProbe": {"exec": {"command": ["true"]}}},
        }
    }
    r = await _post(client, user, "hc-side", body)
    assert r.status_code == 201, r.text
    assert r.json()["healthcheck"] == body["healthcheck"]
    assert await _summary(client, user, "hc-side") == (
        "alice added healthcheck info for proc type web and "
        "added healthcheck info for proc type web/cmd and "
        "added healthcheck info for proc type worker"
    )
    # A type's whole entry still goes with null; the others stay.
    r = await _post(client, user, "hc-side", {"healthcheck": {"web": None}})
    assert r.status_code == 201, r.text
    assert set(r.json()["healthcheck"]) == {"web/cmd", "worker"}


async def test_flat_probes_are_stored_under_web_cmd(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "hc-flat")
    flat = {"livenessProbe": LIVENESS, "readinessProbe": READINESS}
    r = await _post(client, user, "hc-flat", {"healthcheck": flat})
    assert r.status_code == 201, r.text
    assert r.json()["healthcheck"] == {"web/cmd": flat}
    assert await _summary(client, user, "hc-flat") == (
        "alice added healthcheck info for proc type web/cmd"
    )
    # The flat unset removes that kind of web/cmd.
    r = await _post(client, user, "hc-flat", {"healthcheck": {"livenessProbe": None}})
    assert r.status_code == 201, r.text
    assert r.json()["healthcheck"] == {"web/cmd": {"readinessProbe": READINESS}}
    r = await _post(client, user, "hc-flat", {"healthcheck": {"livenessProbe": None}})
    assert r.status_code == 422
    assert r.json() == {"detail": "web/cmd livenessProbe does not exist under healthcheck"}
    # Posting what is stored changes nothing.
    r = await _post(client, user, "hc-flat", {"healthcheck": {"readinessProbe": READINESS}})
    assert r.status_code == 409
    assert r.json() == {"detail": "alice changed nothing - release stopped"}


async def test_legacy_healthcheck_values_become_probes(
    client: httpx.AsyncClient, user: Account
) -> None:
    await create_app_for(client, user, "hc-legacy")
    await configured(client, user, "hc-legacy", values={"PORT": "8000", "KEEP": "x"})
    # deis config:set HEALTHCHECK_URL=/health HEALTHCHECK_TIMEOUT=5 ... (numbers as strings,
    # or JSON numbers from other clients)
    r = await _post(
        client,
        user,
        "hc-legacy",
        {
            "values": {
                "HEALTHCHECK_URL": "/health",
                "HEALTHCHECK_TIMEOUT": "5",
                "HEALTHCHECK_INITIAL_DELAY": 2,
                "HEALTHCHECK_PERIOD_SECONDS": "15",
                "HEALTHCHECK_SUCCESS_THRESHOLD": "2",
                "HEALTHCHECK_FAILURE_THRESHOLD": "4",
                "OTHER": "y",
            }
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["values"] == {"PORT": "8000", "KEEP": "x", "OTHER": "y"}
    timings = {
        "timeoutSeconds": 5,
        "initialDelaySeconds": 2,
        "periodSeconds": 15,
        "failureThreshold": 4,
    }
    http = {"httpGet": {"path": "/health", "port": 8000}}
    assert body["healthcheck"] == {
        "web/cmd": {
            "livenessProbe": {**http, **timings},
            "readinessProbe": {**http, **timings, "successThreshold": 2},
        }
    }
    assert await _summary(client, user, "hc-legacy") == (
        "alice added OTHER and added healthcheck info for proc type web/cmd"
    )
    assert (await _config(client, user, "hc-legacy"))["values"] == body["values"]

    # The URL alone: both probes with the defaults, replacing the previous ones.
    r = await _post(client, user, "hc-legacy", {"values": {"HEALTHCHECK_URL": "/"}})
    assert r.status_code == 201, r.text
    probe = {"httpGet": {"path": "/", "port": 8000}}
    assert r.json()["healthcheck"] == {"web/cmd": {"livenessProbe": probe, "readinessProbe": probe}}
    assert r.json()["values"] == {"PORT": "8000", "KEEP": "x", "OTHER": "y"}
    r = await _post(client, user, "hc-legacy", {"values": {"HEALTHCHECK_URL": "/"}})
    assert r.status_code == 409

    # Without the URL, the others are ordinary values.
    r = await _post(client, user, "hc-legacy", {"values": {"HEALTHCHECK_TIMEOUT": "5"}})
    assert r.status_code == 201, r.text
    assert r.json()["values"]["HEALTHCHECK_TIMEOUT"] == "5"
    assert r.json()["healthcheck"] == {"web/cmd": {"livenessProbe": probe, "readinessProbe": probe}}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_TIMEOUT": "soon"},
            "HEALTHCHECK_TIMEOUT must be an integer of at least 1",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_PERIOD_SECONDS": "0"},
            "HEALTHCHECK_PERIOD_SECONDS must be an integer of at least 1",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_INITIAL_DELAY": -1},
            "HEALTHCHECK_INITIAL_DELAY must be an integer of at least 0",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_FAILURE_THRESHOLD": True},
            "HEALTHCHECK_FAILURE_THRESHOLD must be an integer of at least 1",
        ),
        ({"HEALTHCHECK_URL": "health"}, "HEALTHCHECK_URL must be a path starting with /"),
    ],
)
async def test_invalid_legacy_values_are_400(
    client: httpx.AsyncClient, user: Account, values: dict[str, Any], expected: str
) -> None:
    await create_app_for(client, user, "hc-legacy-400")
    r = await _post(client, user, "hc-legacy-400", {"values": values})
    assert r.status_code == 400, r.text
    assert r.json() == {"values": [expected]}
    assert len(await releases(client, user, "hc-legacy-400")) == 1


async def test_normal_keys_keep_their_rules(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "hc-normal")
    r = await _post(client, user, "hc-normal", {"healthcheck": {"web/worker": {}}})
    assert r.status_code == 400
    assert message(r).startswith("Process types can only contain lowercase alphanumeric")
    r = await _post(
        client, user, "hc-normal", {"healthcheck": {"web/cmd": {"startupProbe": LIVENESS}}}
    )
    assert r.status_code == 400
    assert r.json() == {
        "healthcheck": ["Healthcheck keys must be either livenessProbe or readinessProbe"]
    }
    r = await _post(client, user, "hc-normal", {"healthcheck": {"web": None}})
    assert r.status_code == 422
    assert r.json() == {"detail": "web does not exist under healthcheck"}


# --- probes under web/cmd reach the web pods (local scheduler) ------------------------------


async def test_web_cmd_readiness_probe_runs_on_the_web_pods(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    """An exec readiness probe under ``web/cmd`` that fails while a file exists: the web pod
    leaves rotation (``starting``) when the file appears, the worker (not covered by
    ``web/cmd``) stays up, and a probe set for ``web`` itself wins."""
    app = "hc-pods"
    await create_app_for(client, user, app)
    await built(client, user, app, source)
    assert (await scale(client, user, app, worker=1)).status_code == 204
    flag = source.parent / "unready"
    probe = {
        "exec": {"command": ["test", "!", "-e", str(flag)]},
        "periodSeconds": 1,
        "failureThreshold": 1,
    }
    r = await _post(client, user, app, {"healthcheck": {"web/cmd": {"readinessProbe": probe}}})
    assert r.status_code == 201, r.text

    async def states() -> dict[str, str]:
        return {p["type"]: p["state"] for p in await pods(client, user, app)}

    assert await states() == {"web": "up", "worker": "up"}
    flag.touch()

    async def web_unready() -> bool:
        return await states() == {"web": "starting", "worker": "up"}

    await eventually(web_unready, within=10)
    text = await logs(client, user, app)
    assert f"{app}[dockyard]: web.1 readiness probe failed, out of rotation" in text
    assert "worker.1 readiness probe" not in text

    # The type's own probe wins over web/cmd: the new web pods are ready with the file there.
    own = {"tcpSocket": {"port": 5000}, "periodSeconds": 1}
    r = await set_config(client, user, app, healthcheck={"web": {"readinessProbe": own}})
    assert r.status_code == 201, r.text
    assert await states() == {"web": "up", "worker": "up"}
    # Without it, web/cmd applies again.
    flag.unlink()
    r = await set_config(client, user, app, healthcheck={"web": None})
    assert r.status_code == 201, r.text
    assert r.json()["healthcheck"] == {"web/cmd": {"readinessProbe": probe}}
    assert await states() == {"web": "up", "worker": "up"}
    flag.touch()
    await eventually(web_unready, within=10)


async def test_legacy_healthcheck_url_gates_the_deploy(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    """``HEALTHCHECK_URL=/fail`` (the sample app answers 500 there) is a readiness probe of
    the web pods: the deploy fails with the scheduler's message and the previous release
    keeps serving. The probe's port (5000, no PORT is set) means the pod's own PORT."""
    app = "hc-legacy-run"
    await create_app_for(client, user, app)
    await built(client, user, app, source)
    r = await set_config(client, user, app, values={"HEALTHCHECK_URL": "/"})
    assert r.status_code == 201, r.text
    (web,) = await pods(client, user, app)
    assert web["state"] == "up" and web["release"] == "v3"

    r = await set_config(
        client, user, app, values={"HEALTHCHECK_URL": "/fail", "HEALTHCHECK_PERIOD_SECONDS": 1}
    )
    assert r.status_code == 400, r.text
    assert "did not become ready within" in message(r)
    listed = await releases(client, user, app)
    assert listed[0]["version"] == 4 and listed[0]["failed"] is True
    (web,) = await pods(client, user, app)
    assert web["state"] == "up" and web["release"] == "v3"
