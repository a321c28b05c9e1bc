"""Concurrent changes to one app are serialised: every request succeeds or fails cleanly,
release versions stay contiguous (none lost, none duplicated) and the final state holds
every change that was answered with success."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Account, create_app_for
from tests.releases.helpers import (
    built,
    configured,
    pods,
    releases,
    run_output,
    scale,
    set_config,
    structure,
)


async def current_values(client: httpx.AsyncClient, user: Account, app: str) -> dict[str, str]:
    r = await client.get(f"/v2/apps/{app}/config", headers=user.headers)
    assert r.status_code == 200
    return dict(r.json()["values"])


def check_contiguous(listed: list[dict[str, Any]], newest: int) -> None:
    versions = [x["version"] for x in listed]
    assert versions == list(range(newest, 0, -1)), versions


async def test_twenty_concurrent_config_posts(client: httpx.AsyncClient, user: Account) -> None:
    await create_app_for(client, user, "conc-cfg")
    keys = [f"KEY_{n}" for n in range(20)]
    responses = await asyncio.gather(
        *(set_config(client, user, "conc-cfg", values={k: k.lower()}) for k in keys)
    )
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    given = sorted(int(r.headers["Deis-Release"]) for r in responses)
    assert given == list(range(2, 22))
    # Each answer shows its own key merged into everything before it.
    for key, r in zip(keys, responses, strict=True):
        values = r.json()["values"]
        assert values[key] == key.lower()
        assert len(values) == int(r.headers["Deis-Release"]) - 1
    listed = await releases(client, user, "conc-cfg")
    check_contiguous(listed, 21)
    assert len({x["config"] for x in listed}) == 21
    assert {x["summary"] for x in listed[:-1]} == {f"alice added {k}" for k in keys}
    assert await current_values(client, user, "conc-cfg") == {k: k.lower() for k in keys}


async def test_concurrent_identical_posts_fail_cleanly(
    client: httpx.AsyncClient, user: Account
) -> None:
    """The same change ten times at once: one release, nine clean 409s."""
    await create_app_for(client, user, "conc-same")
    responses = await asyncio.gather(
        *(set_config(client, user, "conc-same", values={"A": "1"}) for _ in range(10))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 9
    for r in responses:
        if r.status_code == 409:
            assert r.json() == {"detail": "alice changed nothing - release stopped"}
    check_contiguous(await releases(client, user, "conc-same"), 2)


async def test_concurrent_sets_and_unsets(client: httpx.AsyncClient, user: Account) -> None:
    """Unsetting keys while others are added: each unset of an existing key succeeds once;
    the final config is exactly what the successful requests say."""
    await create_app_for(client, user, "conc-mix")
    await configured(client, user, "conc-mix", values={f"OLD_{n}": "x" for n in range(5)})
    requests = [{"values": {f"OLD_{n}": None}} for n in range(5)]
    requests += [{"values": {f"OLD_{n}": None}} for n in range(5)]  # each unset twice
    requests += [{"values": {f"NEW_{n}": "y"}} for n in range(5)]
    responses = await asyncio.gather(*(set_config(client, user, "conc-mix", **b) for b in requests))
    codes = [r.status_code for r in responses]
    assert all(c in (201, 422) for c in codes), [r.text for r in responses]
    assert codes.count(201) == 10 and codes.count(422) == 5
    for r in responses:
        if r.status_code == 422:
            assert r.json()["detail"].endswith("does not exist under values")
    check_contiguous(await releases(client, user, "conc-mix"), 12)
    assert await current_values(client, user, "conc-mix") == {f"NEW_{n}": "y" for n in range(5)}


async def test_concurrent_config_posts_on_a_running_app(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    await create_app_for(client, user, "conc-run")
    await built(client, user, "conc-run", source)  # v2
    keys = [f"RUN_{n}" for n in range(5)]
    responses = await asyncio.gather(
        *(set_config(client, user, "conc-run", values={k: "on"}) for k in keys)
    )
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert sorted(int(r.headers["Deis-Release"]) for r in responses) == [3, 4, 5, 6, 7]
    listed = await releases(client, user, "conc-run")
    check_contiguous(listed, 7)
    assert not any(x["failed"] for x in listed)
    # What runs is the last release, with every key.
    (web,) = await pods(client, user, "conc-run")
    assert (web["release"], web["state"]) == ("v7", "up")
    out = await run_output(client, user, "conc-run", "env | grep ^RUN_ | sort")
    assert out.split() == [f"{k}=on" for k in keys]


async def test_concurrent_scale_and_config(
    client: httpx.AsyncClient, user: Account, source: Path
) -> None:
    await create_app_for(client, user, "conc-scale")
    await built(client, user, "conc-scale", source)  # v2, web 1
    results = await asyncio.gather(
        scale(client, user, "conc-scale", web=2),
        set_config(client, user, "conc-scale", values={"A": "1"}),
        scale(client, user, "conc-scale", worker=1),
        set_config(client, user, "conc-scale", values={"B": "2"}),
    )
    assert [r.status_code for r in results] == [204, 201, 204, 201], [r.text for r in results]
    check_contiguous(await releases(client, user, "conc-scale"), 4)
    assert await structure(client, user, "conc-scale") == {"web": 2, "worker": 1}
    listed = await pods(client, user, "conc-scale")
    assert sorted((p["type"], p["release"], p["state"]) for p in listed) == [
        ("web", "v4", "up"),
        ("web", "v4", "up"),
        ("worker", "v4", "up"),
    ]
    assert await run_output(client, user, "conc-scale", "echo $A$B") == "12\n"


async def test_concurrent_builds(
    client: httpx.AsyncClient, user: Account, source: Path, tmp_path: Path, marker: str
) -> None:
    """Three builds at once: three releases in some order, the newest one runs."""
    await create_app_for(client, user, "conc-build")
    procfile = {"web": f"python3 web.py {marker}"}
    responses = await asyncio.gather(
        *(
            client.post(
                "/v2/apps/conc-build/builds",
                json={"image": str(source), "procfile": procfile, "sha": f"{n}" * 40},
                headers=user.headers,
            )
            for n in range(3)
        )
    )
    assert [r.status_code for r in responses] == [201] * 3, [r.text for r in responses]
    by_version = {int(r.headers["Deis-Release"]): r.json() for r in responses}
    assert sorted(by_version) == [2, 3, 4]
    listed = await releases(client, user, "conc-build")
    check_contiguous(listed, 4)
    assert listed[0]["build"] == by_version[4]["uuid"]
    (web,) = await pods(client, user, "conc-build")
    assert web["release"] == "v4"
    sha = by_version[4]["sha"]
    assert await run_output(client, user, "conc-build", "echo $SOURCE_VERSION") == f"{sha}\n"
