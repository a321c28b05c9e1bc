"""v1 config, limits and tags as the Deis v1 clients send them: maps posted as JSON strings
inside the JSON body (``deis config:set``, ``limits:set``, ``tags:set``) or as plain objects
(the v1 docs), the new release number in ``X-Deis-Release`` and ``Deis-Release``, and the
release showing up in v2."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import Account, Accounts, create_app_for
from tests.releases.helpers import built, web_env
from tests.v1.helpers import js, message, py

CONFIG_FIELDS = {"uuid", "app", "owner", "values", "memory", "cpu", "tags", "created", "updated"}


def release_number(r: httpx.Response) -> int:
    assert r.headers["Deis-Release"] == r.headers["X-Deis-Release"]
    return int(r.headers["Deis-Release"])


async def test_config_set_and_unset_json_in_json(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "cfg")
    # deis config:set HELLO=world PORT=5000 (dictify makes 5000 an int)
    r = await py(
        client,
        user,
        "POST",
        "/v1/apps/cfg/config",
        {"values": js({"HELLO": "world", "PORT": 5000})},
    )
    assert r.status_code == 201, r.text
    assert release_number(r) == 2
    body = r.json()
    assert set(body) >= CONFIG_FIELDS
    assert body["values"] == {"HELLO": "world", "PORT": "5000"}
    assert (body["app"], body["owner"]) == ("cfg", "alice")

    # deis config:list
    r = await py(client, user, "GET", "/v1/apps/cfg/config")
    assert r.status_code == 200
    assert r.json()["values"] == {"HELLO": "world", "PORT": "5000"}

    # deis config:unset HELLO
    r = await py(client, user, "POST", "/v1/apps/cfg/config", {"values": js({"HELLO": None})})
    assert r.status_code == 201
    assert release_number(r) == 3
    assert r.json()["values"] == {"PORT": "5000"}

    # The documented form: plain objects, slashed path.
    r = await py(client, user, "POST", "/v1/apps/cfg/config/", {"values": {"A": "1", "B": None}})
    assert r.status_code == 422
    assert r.json() == {"detail": "B does not exist under values"}
    r = await py(client, user, "POST", "/v1/apps/cfg/config/", {"values": {"A": "1"}})
    assert r.status_code == 201
    assert release_number(r) == 4

    # Releases made through v1 are the releases v2 shows.
    v2 = (await client.get("/v2/apps/cfg/releases", headers=user.headers)).json()
    assert [rel["version"] for rel in v2["results"]] == [4, 3, 2, 1]
    assert v2["results"][0]["summary"] == "alice added A"
    assert v2["results"][1]["summary"] == "alice deleted HELLO"
    assert v2["results"][2]["summary"] == "alice added HELLO, PORT"


async def test_limits_and_tags(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "lim")
    # deis limits:set web=512M ; deis limits:set --cpu web=500m
    r = await py(client, user, "POST", "/v1/apps/lim/config", {"memory": js({"web": "512M"})})
    assert r.status_code == 201, r.text
    assert release_number(r) == 2
    assert r.json()["memory"] == {"web": "512M"}
    r = await py(client, user, "POST", "/v1/apps/lim/config", {"cpu": js({"web": "500m"})})
    assert r.status_code == 201
    assert r.json()["cpu"] == {"web": 512}  # v1 shows CPU shares (tests/v1/test_cpu_shares.py)
    # deis limits:list reads memory and cpu from the config.
    config = (await py(client, user, "GET", "/v1/apps/lim/config")).json()
    assert (config["memory"], config["cpu"]) == ({"web": "512M"}, {"web": 512})
    # deis limits:unset web
    r = await py(client, user, "POST", "/v1/apps/lim/config", {"memory": js({"web": None})})
    assert r.status_code == 201
    assert r.json()["memory"] == {}

    # deis tags:set environ=prod rack=1 ; tags:unset rack
    r = await py(
        client, user, "POST", "/v1/apps/lim/config", {"tags": js({"environ": "prod", "rack": 1})}
    )
    assert r.status_code == 201
    assert r.json()["tags"] == {"environ": "prod", "rack": "1"}
    r = await py(client, user, "POST", "/v1/apps/lim/config", {"tags": js({"rack": None})})
    assert r.status_code == 201
    assert release_number(r) == 6
    assert r.json()["tags"] == {"environ": "prod"}

    summaries = [
        rel["summary"]
        for rel in (await client.get("/v2/apps/lim/releases", headers=user.headers)).json()[
            "results"
        ]
    ]
    assert summaries == [
        "alice deleted tag rack",
        "alice added tag environ, rack",
        "alice changed limits for memory",
        "alice changed limits for cpu",
        "alice changed limits for memory",
        "alice created initial release",
    ]


async def test_config_errors(client: httpx.AsyncClient, user: Account, accounts: Accounts) -> None:
    await create_app_for(client, user, "cfg-err")
    cases = [
        ({"values": "{not json"}, "values", "Value must be valid JSON."),
        ({"values": js(["A"])}, "values", "Value must be a JSON object."),
        ({"memory": '"1G"'}, "memory", "Value must be a JSON object."),
        ({"values": js({"1BAD": "x"})}, "values", None),
        ({"memory": js({"web": "lots"})}, "memory", None),
        ({"cpu": js({"web": "fast"})}, "cpu", None),
    ]
    for body, field, text in cases:
        r = await py(client, user, "POST", "/v1/apps/cfg-err/config", body)
        assert r.status_code == 400, (body, r.text)
        assert list(r.json()) == [field], r.json()
        if text:
            assert message(r) == text
    assert message(await py(client, user, "POST", "/v1/apps/cfg-err/config", cases[3][0])) == (
        "Config keys must start with a letter or underscore and only contain [A-z0-9_]"
    )
    assert message(await py(client, user, "POST", "/v1/apps/cfg-err/config", cases[4][0])) == (
        "Memory limit format: <number><unit> or <number><unit>/<number><unit>, "
        "where unit = B, K, M or G"
    )
    assert message(await py(client, user, "POST", "/v1/apps/cfg-err/config", cases[5][0])) == (
        "CPU limit format: <value> or <value>/<value>, where value must be a numeric"
    )
    r = await py(client, user, "POST", "/v1/apps/cfg-err/config", {"values": js({"PORT": "0"})})
    assert message(r) == "PORT needs to be a numeric value between 1 and 65535"

    # Nothing changed: 409 with the reference's message (the Go client shows detail).
    await py(client, user, "POST", "/v1/apps/cfg-err/config", {"values": js({"A": "1"})})
    r = await py(client, user, "POST", "/v1/apps/cfg-err/config", {"values": js({"A": "1"})})
    assert r.status_code == 409
    assert r.json() == {"detail": "alice changed nothing - release stopped"}
    r = await py(client, user, "POST", "/v1/apps/cfg-err/config", {"tags": js({"nope": None})})
    assert r.status_code == 422
    assert r.json() == {"detail": "nope does not exist under tags"}

    bob = await accounts.make("bob")
    r = await py(client, bob, "POST", "/v1/apps/cfg-err/config", {"values": js({"B": "2"})})
    assert r.status_code == 403
    r = await py(client, bob, "GET", "/v1/apps/cfg-err/config")
    assert r.status_code == 403


async def test_config_reaches_the_running_app(
    client: httpx.AsyncClient, user: Account, source: Path, scheduler: object
) -> None:
    """A config change through v1 deploys a release the processes run with."""
    await create_app_for(client, user, "cfg-run")
    await built(client, user, "cfg-run", source)
    r = await py(
        client, user, "POST", "/v1/apps/cfg-run/config", {"values": js({"GREETING": "hi"})}
    )
    assert r.status_code == 201, r.text
    assert release_number(r) == 3
    (web,) = await web_env(scheduler, "cfg-run")
    assert web["env"]["GREETING"] == "hi"
    assert web["env"]["WORKFLOW_RELEASE"] == "v3"
