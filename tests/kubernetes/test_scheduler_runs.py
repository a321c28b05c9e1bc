"""One-off runs and the app log on the kubernetes scheduler, on the fake and the real cluster.

The hollow node never completes a container and serves no logs, so a run there can only end
by its deadline, and the log holds only the controller's events; commands that finish, their
output and the pods' log lines are covered on the fake (here and by the contract).
"""

# The fixtures are imported from fixtures_scheduler; tests naming them as parameters is the
# point, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import json
import re

import pytest

from dockyard.scheduler.base import RunError, RunSpec
from dockyard.scheduler.kubernetes import names
from tests.kubernetes.fixtures_scheduler import Kube, app, kube, kube_target  # noqa: F401


async def run_pods(kube: Kube, app: str) -> list[str]:
    return list(await kube.objects(app, "pods", names.RUN_LABEL))


async def test_a_run_past_its_deadline_is_killed(kube: Kube, app: str) -> None:
    release = kube.release(app, 1, {"web": ""}, image="fake/worker")
    result = await kube.scheduler.run(RunSpec(release, "echo start; sleep 30", timeout=2))
    assert result.timed_out and result.exit_code == 124
    if not kube.real:
        assert result.output == "start\n"
    assert await run_pods(kube, app) == []
    assert await kube.scheduler.pods(app) == []  # a run is no process of the app


async def test_a_run_whose_image_cannot_start_is_a_run_error(kube: Kube, app: str) -> None:
    release = kube.release(app, 1, {"web": ""}, image="Not An Image")
    with pytest.raises(RunError, match="InvalidImageName"):
        await kube.scheduler.run(RunSpec(release, "true", timeout=30))
    assert await run_pods(kube, app) == []


async def test_run_output_and_exit_code(kube: Kube, app: str) -> None:
    if kube.real:
        pytest.skip("hollow-node containers never complete")
    release = kube.release(app, 2, {"web": ""}, env={"A": "1"}, image="fake/worker")
    result = await kube.scheduler.run(RunSpec(release, 'echo "$A $WORKFLOW_RELEASE $DEIS_APP"'))
    assert (result.exit_code, result.output, result.timed_out) == (0, f"1 v2 {app}\n", False)
    result = await kube.scheduler.run(RunSpec(release, "echo no >&2; exit 7"))
    assert (result.exit_code, result.output) == (7, "no\n")


async def test_events_are_kept_in_a_configmap_and_merged_with_pod_logs(
    kube: Kube, app: str
) -> None:
    assert await kube.scheduler.logs(app) == ""
    await kube.scheduler.log_event(app, "dockyard", "alice created the app")
    await kube.deploy(kube.release(app, 1, {"worker": ""}, image="fake/worker"), worker=1)
    await kube.scheduler.log_event(app, "dockyard", "alice deployed v1\nsecond line")
    configmap = await kube.cluster.get("configmaps", names.EVENTS_CONFIGMAP, namespace=app)
    assert configmap is not None
    events = json.loads(configmap["data"]["events.json"])
    assert [e[1:] for e in events] == [
        ["dockyard", "alice created the app"],
        ["dockyard", "alice deployed v1"],
        ["dockyard", "second line"],
    ]
    text = await kube.scheduler.logs(app, lines=1000)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.search(rf"^{stamp} {app}\[dockyard\]: alice created the app$", text, re.M)
    assert re.search(rf"^{stamp} {app}\[dockyard\]: second line$", text, re.M)
    if not kube.real:  # the hollow kubelet serves no container logs
        assert re.search(rf"^{stamp} {app}\[worker\.1\]: tick 1$", text, re.M)
    tail = await kube.scheduler.logs(app, lines=2)
    assert len(tail.splitlines()) == 2
