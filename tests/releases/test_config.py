"""Config through the HTTP API: every change is a release that the processes run with, the
summaries, the merge rules (``null`` unsets) and the validation messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.scheduler.local.client import LocalScheduler
from tests.conftest import Account, Accounts, create_app_for
from tests.releases.helpers import (
    EVENT,
    built,
    configured,
    logs,
    message,
    pods,
    releases,
    run_output,
    scale,
    set_config,
    web_env,
)

KEY_MESSAGE = "Config keys must start with a letter or underscore and only contain [A-z0-9_]"
PORT_MESSAGE = "PORT needs to be a numeric value between 1 and 65535"
MEMORY_MESSAGE = (
    "Memory limit format: <number><unit> or <number><unit>/<number><unit>, "
    "where unit = B, K, M or G"
)
CPU_MESSAGE = "CPU limit format: <value> or <value>/<value>, where value must be a numeric"
HEALTHCHECK_KEYS = "Healthcheck keys must be either livenessProbe or readinessProbe"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


async def summaries(client: httpx.AsyncClient, user: Account, app: str) -> list[str]:
    return [r["summary"] for r in await releases(client, user, app)]


async def current_config(client: httpx.AsyncClient, user: Account, app: str) -> dict[str, Any]:
    r = await client.get(f"/v2/apps/{app}/config", headers=user.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- with running processes -----------------------------------------------------------------


async def test_config_changes_restart_processes_with_the_new_env(
    client: httpx.AsyncClient, user: Account, source: Path, scheduler: LocalScheduler
) -> None:
    await create_app_for(client, user, "cfg-run")
    await built(client, user, "cfg-run", source)
    assert (await scale(client, user, "cfg-run", worker=1)).status_code == 204
    before = {p["name"] for p in await pods(client, user, "cfg-run")}
    assert len(before) == 2

    # Add: a release v3 that every process runs, with new pods.
    r = await configured(client, user, "cfg-run", values={"GREETING": "hello"})
    assert r.headers["Deis-Release"] == r.headers["X-Deis-Release"] == "3"
    body = r.json()
    assert set(body) == {
        "uuid",
        "app",
        "owner",
        "values",
        "memory",
        "cpu",
        "tags",
        "registry",
        "healthcheck",
        "created",
        "updated",
    }
    assert body["app"] == "cfg-run" and body["owner"] == "alice"
    assert body["values"] == {"GREETING": "hello"}
    assert body["memory"] == body["cpu"] == body["tags"] == body["healthcheck"] == {}
    assert TIMESTAMP.match(body["created"])
    assert await current_config(client, user, "cfg-run") == body
    listed = await releases(client, user, "cfg-run")
    assert listed[0]["version"] == 3
    assert listed[0]["summary"] == "alice added GREETING"
    assert listed[0]["config"] == body["uuid"]
    assert listed[0]["build"] == listed[1]["build"]  # same build, new config

    running = await pods(client, user, "cfg-run")
    assert sorted((p["type"], p["release"], p["state"]) for p in running) == [
        ("web", "v3", "up"),
        ("worker", "v3", "up"),
    ]
    assert not before & {p["name"] for p in running}
    (answer,) = await web_env(scheduler, "cfg-run")
    assert answer["env"]["GREETING"] == "hello"
    assert answer["env"]["WORKFLOW_RELEASE"] == "v3"
    assert answer["env"]["WORKFLOW_RELEASE_SUMMARY"] == "alice added GREETING"
    assert await run_output(client, user, "cfg-run", "echo $GREETING") == "hello\n"
    text = await logs(client, user, "cfg-run")
    assert "cfg-run[worker.1]: worker greeting=hello release=v3" in text
    events = [m.group(2) for m in map(EVENT.match, text.splitlines()) if m]
    assert "alice added GREETING (v3)" in events

    # Change, together with a memory limit: one release, both parts in the summary, and the
    # limit reaches the processes.
    r = await configured(
        client, user, "cfg-run", values={"GREETING": "hi"}, memory={"worker": "256M"}
    )
    assert r.headers["Deis-Release"] == "4"
    assert r.json()["memory"] == {"worker": "256M"}
    assert (await summaries(client, user, "cfg-run"))[0] == (
        "alice changed GREETING and changed limits for memory"
    )
    assert await run_output(client, user, "cfg-run", "echo $GREETING") == "hi\n"
    text = await logs(client, user, "cfg-run")
    assert "cfg-run[worker.1]: worker greeting=hi release=v4" in text
    assert re.search(r"cfg-run\[dockyard\]: worker\.1 limits via .*memory 256M", text), text

    # Unset: the variable is gone from the processes.
    r = await configured(client, user, "cfg-run", values={"GREETING": None})
    assert r.headers["Deis-Release"] == "5"
    assert r.json()["values"] == {}
    assert (await summaries(client, user, "cfg-run"))[0] == "alice deleted GREETING"
    assert await run_output(client, user, "cfg-run", 'echo "[${GREETING-unset}]"') == "[unset]\n"
    (answer,) = await web_env(scheduler, "cfg-run")
    assert "GREETING" not in answer["env"]
    assert answer["env"]["WORKFLOW_RELEASE"] == "v5"
    assert sorted(p["release"] for p in await pods(client, user, "cfg-run")) == ["v5", "v5"]


async def test_config_before_the_first_build_is_what_it_runs_with(
    client: httpx.AsyncClient, user: Account, source: Path, scheduler: LocalScheduler
) -> None:
    """Config on an app without a build makes a release (nothing deploys); the first build
    runs with it. A config ``PORT`` does not move a local web pod off its own port, but other
    processes see it; user values win over injected ones."""
    await create_app_for(client, user, "cfg-early")
    r = await configured(
        client,
        user,
        "cfg-early",
        values={"GREETING": "early", "PORT": 5000, "DRYCC_APP": "mine"},
    )
    assert r.headers["Deis-Release"] == "2"
    assert r.json()["values"] == {"GREETING": "early", "PORT": "5000", "DRYCC_APP": "mine"}
    listed = await releases(client, user, "cfg-early")
    assert listed[0]["build"] is None
    assert listed[0]["summary"] == "alice added DRYCC_APP, GREETING, PORT"
    assert await pods(client, user, "cfg-early") == []
    assert "cfg-early[dockyard]: alice added DRYCC_APP, GREETING, PORT (v2)" in await logs(
        client, user, "cfg-early"
    )

    build = await built(client, user, "cfg-early", source)
    listed = await releases(client, user, "cfg-early")
    assert listed[0]["version"] == 3
    assert listed[0]["build"] == build["uuid"]
    assert listed[0]["config"] == listed[1]["config"]
    (answer,) = await web_env(scheduler, "cfg-early")
    assert answer["env"]["GREETING"] == "early"
    assert answer["env"]["PORT"] == str(answer["port"]) != "5000"
    assert answer["env"]["DRYCC_APP"] == "mine"
    assert answer["env"]["DEIS_APP"] == "cfg-early"
    out = await run_output(client, user, "cfg-early", "echo $GREETING $PORT $DRYCC_APP")
    assert out == "early 5000 mine\n"


async def test_healthcheck_probes_run_against_the_pod(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    """A readiness probe on port 8000 (Kubernetes' view) is sent to the pod's own PORT by the
    local backend: nothing listens on 8000, so the deploy would time out otherwise."""
    await create_app_for(client, user, "cfg-health")
    healthcheck = {
        "web": {
            "readinessProbe": {
                "httpGet": {"path": "/healthz", "port": 8000},
                "periodSeconds": 1,
                "timeoutSeconds": 1,
            },
            "livenessProbe": {
                "exec": {"command": ["test", "-f", "version.txt"]},
                "initialDelaySeconds": 1,
                "periodSeconds": 1,
                "failureThreshold": 3,
            },
        }
    }
    r = await configured(client, user, "cfg-health", healthcheck=healthcheck)
    assert r.json()["healthcheck"] == healthcheck
    assert (await summaries(client, user, "cfg-health"))[0] == (
        "alice added healthcheck info for proc type web"
    )
    await built(client, user, "cfg-health", source)
    (pod,) = await pods(client, user, "cfg-health")
    assert pod["state"] == "up" and pod["release"] == "v3"

    # Changing it is a release with its own summary; removing the type's probes too.
    changed = {"web": {"readinessProbe": {"tcpSocket": {"port": 8000}, "periodSeconds": 1}}}
    await configured(client, user, "cfg-health", healthcheck=changed)
    assert (await summaries(client, user, "cfg-health"))[0] == (
        "alice changed healthcheck info for proc type web"
    )
    (pod,) = await pods(client, user, "cfg-health")
    assert pod["state"] == "up" and pod["release"] == "v4"
    r = await configured(client, user, "cfg-health", healthcheck={"web": None})
    assert r.json()["healthcheck"] == {}
    assert (await summaries(client, user, "cfg-health"))[0] == (
        "alice deleted healthcheck info for proc type web"
    )


# --- rules and messages (no build: nothing deploys, so these are fast) ----------------------


async def test_summaries_and_merging(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "cfg-merge")
    await configured(client, user, "cfg-merge", values={"A": "1", "B": "2"})
    r = await configured(
        client, user, "cfg-merge", values={"C": "3", "A": "one", "B": None}, cpu={"web": "500m"}
    )
    assert r.json()["values"] == {"A": "one", "C": "3"}
    assert r.json()["cpu"] == {"web": "500m"}
    await configured(client, user, "cfg-merge", values={"D": "4"}, memory={"web": "512M"})
    await configured(client, user, "cfg-merge", tags={"env": "prod"})
    await configured(client, user, "cfg-merge", tags={"env": None}, registry={"username": "u"})
    assert await summaries(client, user, "cfg-merge") == [
        "alice deleted tag env and changed registry info",
        "alice added tag env",
        "alice added D and changed limits for memory",
        "alice added C, changed A, deleted B and changed limits for cpu",
        "alice added A, B",
        "alice created initial release",
    ]
    # The stored config is the merge of everything; values are strings.
    await configured(client, user, "cfg-merge", values={"N": 42, "T": True, "F": 1.5})
    config = await current_config(client, user, "cfg-merge")
    assert config["values"] == {"A": "one", "C": "3", "D": "4", "N": "42", "T": "true", "F": "1.5"}
    assert config["memory"] == {"web": "512M"}
    assert config["cpu"] == {"web": "500m"}
    assert config["tags"] == {}
    assert config["registry"] == {"username": "u"}


async def test_nothing_changed_is_409(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "cfg-409")
    await configured(client, user, "cfg-409", values={"A": "1"}, memory={"web": "1G"})
    for body in (
        {"values": {"A": "1"}},
        {"values": {"A": 1}},  # stored as "1" anyway
        {"memory": {"web": "1G"}},
        {"values": {}},
        {},
        {"unknown": {"X": "1"}},
    ):
        r = await set_config(client, user, "cfg-409", **body)
        assert r.status_code == 409, body
        assert r.json() == {"detail": "alice changed nothing - release stopped"}
    assert len(await releases(client, user, "cfg-409")) == 2


@pytest.mark.parametrize(
    ("field", "key"),
    [("values", "NOPE"), ("memory", "worker"), ("cpu", "web"), ("tags", "x"), ("healthcheck", "w")],
)
async def test_unsetting_a_missing_key_is_422(
    client: httpx.AsyncClient, user: Account, field: str, key: str
) -> None:
    await create_app_for(client, user, "cfg-422")
    r = await set_config(client, user, "cfg-422", **{field: {key: None}})
    assert r.status_code == 422
    assert r.json() == {"detail": f"{key} does not exist under {field}"}
    # Nothing of a failed request is kept, even the parts that were valid.
    r = await set_config(client, user, "cfg-422", values={"OK": "1", "GONE": None})
    assert r.status_code == 422
    assert message(r) == "GONE does not exist under values"
    assert len(await releases(client, user, "cfg-422")) == 1
    assert (await current_config(client, user, "cfg-422"))["values"] == {}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"values": {"1ABC": "x"}}, {"values": [KEY_MESSAGE]}),
        ({"values": {"A-B": "x"}}, {"values": [KEY_MESSAGE]}),
        ({"values": {"": "x"}}, {"values": [KEY_MESSAGE]}),
        ({"values": {"A B": "x"}}, {"values": [KEY_MESSAGE]}),
        ({"values": {"PORT": "abc"}}, {"values": [PORT_MESSAGE]}),
        ({"values": {"PORT": "0"}}, {"values": [PORT_MESSAGE]}),
        ({"values": {"PORT": 65536}}, {"values": [PORT_MESSAGE]}),
        ({"values": {"PORT": "-1"}}, {"values": [PORT_MESSAGE]}),
        ({"values": {"A": ["x"]}}, {"values": ["A: value must be a string or a number"]}),
        ({"values": {"A": {"b": 1}}}, {"values": ["A: value must be a string or a number"]}),
        ({"values": "A=1"}, {"values": ["values must be an object"]}),
        ({"memory": {"web": "12X"}}, {"memory": [MEMORY_MESSAGE]}),
        ({"memory": {"web": "512"}}, {"memory": [MEMORY_MESSAGE]}),
        ({"memory": {"web": "1G/2G/3G"}}, {"memory": [MEMORY_MESSAGE]}),
        ({"memory": {"web": True}}, {"memory": [MEMORY_MESSAGE]}),
        ({"cpu": {"web": "abc"}}, {"cpu": [CPU_MESSAGE]}),
        ({"cpu": {"web": "0"}}, {"cpu": [CPU_MESSAGE]}),
        ({"cpu": {"web": "-1"}}, {"cpu": [CPU_MESSAGE]}),
        ({"cpu": {"web": "5mm"}}, {"cpu": [CPU_MESSAGE]}),
        (
            {"memory": {"Web": "1G"}},
            {
                "memory": [
                    "Process types can only contain lowercase alphanumeric characters and "
                    "single hyphens between them"
                ]
            },
        ),
        ({"healthcheck": {"web": {"startupProbe": {}}}}, {"healthcheck": [HEALTHCHECK_KEYS]}),
        ({"healthcheck": {"web": "readinessProbe"}}, {"healthcheck": [HEALTHCHECK_KEYS]}),
        (
            {
                "healthcheck": {
                    "web": {
                        "livenessProbe": {"httpGet": {"port": 80}, "successThreshold": 2},
                    }
                }
            },
            {"healthcheck": ["livenessProbe successThreshold can only be 1"]},
        ),
        (
            {"healthcheck": {"web": {"readinessProbe": {"httpGet": {"path": "/"}}}}},
            {"healthcheck": ["httpGet port is required"]},
        ),
        (
            {"healthcheck": {"web": {"readinessProbe": {"periodSeconds": 1}}}},
            {"healthcheck": ["A probe needs exactly one of httpGet, tcpSocket or exec"]},
        ),
        (
            {"healthcheck": {"web": {"readinessProbe": {"exec": {"command": "ls"}}}}},
            {"healthcheck": ["exec command must be a non-empty list of strings"]},
        ),
        (
            {
                "healthcheck": {
                    "web": {"readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": "1"}}
                }
            },
            {"healthcheck": ["periodSeconds must be an integer of at least 1"]},
        ),
    ],
)
async def test_invalid_config_is_400(
    client: httpx.AsyncClient, user: Account, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    await create_app_for(client, user, "cfg-400")
    r = await set_config(client, user, "cfg-400", **body)
    assert r.status_code == 400, r.text
    assert r.json() == expected
    assert len(await releases(client, user, "cfg-400")) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("values", {"PORT": "8080"}),
        ("values", {"PORT": 1}),
        ("values", {"_lower_ok9": "x"}),
        ("memory", {"web": "512M"}),
        ("memory", {"web": "256m/1gb"}),
        ("memory", {"worker-2": "100K"}),
        ("cpu", {"web": "500m"}),
        ("cpu", {"web": "250m/1"}),
        ("cpu", {"web": 2}),
        ("cpu", {"web": "0.5"}),
        ("healthcheck", {"web": {"readinessProbe": {"httpGet": {"port": 8000}}}}),
        ("healthcheck", {"web": {"livenessProbe": {"tcpSocket": {"port": "http"}}}}),
    ],
)
async def test_valid_config_is_stored_as_given(
    client: httpx.AsyncClient, user: Account, field: str, value: dict[str, Any]
) -> None:
    await create_app_for(client, user, "cfg-ok")
    r = await set_config(client, user, "cfg-ok", **{field: value})
    assert r.status_code == 201, r.text
    stored = r.json()[field]
    expected = value if field == "healthcheck" else {k: str(v) for k, v in value.items()}
    assert stored == expected


async def test_registry_password_is_never_shown(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "cfg-registry")
    r = await configured(
        client, user, "cfg-registry", registry={"username": "bob", "password": "hunter2"}
    )
    assert r.json()["registry"] == {"username": "bob", "password": "********"}
    assert (await current_config(client, user, "cfg-registry"))["registry"]["password"] == (
        "********"
    )
    assert (
        "hunter2"
        not in (await client.get("/v2/apps/cfg-registry/config", headers=user.headers)).text
    )


async def test_config_permissions(
    client: httpx.AsyncClient, user: Account, accounts: Accounts
) -> None:
    other = await accounts.make("mallory")
    await create_app_for(client, user, "cfg-perm")
    r = await set_config(client, other, "cfg-perm", values={"A": "1"})
    assert r.status_code == 403
    r = await client.get("/v2/apps/cfg-perm/config", headers=other.headers)
    assert r.status_code == 403
    r = await set_config(client, user, "no-such-app", values={"A": "1"})
    assert r.status_code == 404
    # A collaborator may change config; the release names them.
    r = await client.post(
        "/v2/apps/cfg-perm/perms", json={"username": "mallory"}, headers=user.headers
    )
    assert r.status_code == 201
    await configured(client, other, "cfg-perm", values={"A": "1"})
    latest = (await releases(client, user, "cfg-perm"))[0]
    assert latest["summary"] == "mallory added A"
    assert latest["owner"] == "mallory"
    assert (await current_config(client, user, "cfg-perm"))["owner"] == "mallory"


async def test_malformed_bodies(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "cfg-body")
    r = await client.post(
        "/v2/apps/cfg-body/config",
        content=b"{not json",
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert message(r).startswith("JSON parse error")
    r = await client.post("/v2/apps/cfg-body/config", json=["values"], headers=user.headers)
    assert r.status_code == 400
    assert len(await releases(client, user, "cfg-body")) == 1
