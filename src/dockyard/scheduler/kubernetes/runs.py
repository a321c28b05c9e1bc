"""One-off commands on Kubernetes: a Pod with ``restartPolicy: Never`` running the release's
image and env, watched until it terminates, its log read (stdout and stderr interleaved, at
most :data:`OUTPUT_LIMIT` bytes) and the pod deleted, whatever happened.

The kubelet kills the pod after ``activeDeadlineSeconds`` (the run timeout); the result then
says ``timed_out`` with exit code 124, like the local backend and ``timeout(1)``. A pod whose
container cannot be created (image pull errors, invalid image) is a ``RunError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from dockyard.scheduler.base import RunError, RunResult, RunSpec, SchedulerUnavailable
from dockyard.scheduler.kubernetes import manifests, names, states
from dockyard.scheduler.kubernetes.cluster import Cluster, ClusterError, Object

OUTPUT_LIMIT = 1024 * 1024
TIMEOUT_EXIT = 124
# Beyond the deadline, time for the kubelet to kill the pod and report it.
SLACK = 15.0


def _terminated(pod: Object) -> Object:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    state = (statuses[0].get("state") or {}) if statuses else {}
    return dict(state.get("terminated") or {})


def _started(pod: Object) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    state = (statuses[0].get("state") or {}) if statuses else {}
    return bool(state.get("running") or state.get("terminated"))


async def _wait(
    cluster: Cluster, name: str, namespace: str, limit: float, poll: float
) -> tuple[Object, bool]:
    """The pod once it terminated, and whether the deadline passed first."""
    deadline = time.monotonic() + limit + SLACK
    while True:
        pod = await cluster.get("pods", name, namespace=namespace)
        if pod is None:
            raise RunError("The one-off pod was deleted before it finished")
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return pod, status.get("reason") == "DeadlineExceeded"
        waiting = states.fatal(pod)
        if waiting and not _started(pod):
            raise RunError(f"The command could not be started: {waiting}")
        if time.monotonic() > deadline:
            if not _started(pod):
                reason = states.problem(pod) or "the pod did not start"
                raise RunError(f"The command could not be started: {reason}")
            return pod, True
        await asyncio.sleep(poll)


async def run_pod(
    cluster: Cluster, spec: RunSpec, *, limit: float, pull_secret: bool, poll: float
) -> RunResult:
    namespace = names.namespace(spec.release.app)
    name = names.run_pod(spec.release.app)
    body = manifests.run_pod(spec, name, timeout=limit, pull_secret=pull_secret)
    await cluster.create("pods", body, namespace=namespace)
    try:
        pod, timed_out = await _wait(cluster, name, namespace, limit, poll)
        try:
            output = await cluster.logs(name, namespace=namespace, limit_bytes=OUTPUT_LIMIT)
        except (ClusterError, SchedulerUnavailable):
            output = ""
        code = _terminated(pod).get("exitCode")
        exit_code = TIMEOUT_EXIT if timed_out else int(code if code is not None else 1)
        truncated = len(output.encode()) >= OUTPUT_LIMIT
        return RunResult(exit_code, output, truncated=truncated, timed_out=timed_out)
    finally:
        with contextlib.suppress(ClusterError, SchedulerUnavailable):
            await asyncio.shield(cluster.delete("pods", name, namespace=namespace, grace_period=0))
