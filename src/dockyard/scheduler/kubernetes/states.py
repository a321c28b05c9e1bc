"""What a pod's status means to Dockyard: its documented state, whether it is ready, and why
it is failing, as pure functions of the API's pod and event JSON.

State mapping (``PodState``):

- ``terminating``: the pod has a deletion timestamp.
- ``initializing``: Pending and not yet scheduled on a node, or running init containers.
- ``creating``: Pending on a node while the container is pulled and created.
- ``error``: the container cannot be created (image pull errors, invalid image, missing
  config), or the pod phase is ``Unknown`` or ``Failed`` by eviction.
- ``crashed``: the container is in ``CrashLoopBackOff``, exited and is being restarted, or the
  pod is ``Failed``.
- ``starting``: Running, but not ready yet (readiness probe not passed).
- ``up``: Running and ready.
- ``down``: ``Succeeded`` (exited 0, for pods that do not restart).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dockyard.scheduler.base import PodState, PodStatus
from dockyard.scheduler.kubernetes import names

Object = dict[str, Any]

IMAGE_ERRORS = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
CREATE_ERRORS = frozenset(
    {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
)
# Waiting reasons that will not fix themselves: a deploy stops waiting at once. Errors in
# creating the container are left out: the kubelet retries them, and some clear up (a secret
# cache that had not synced yet).
FATAL_REASONS = frozenset(
    {"ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CrashLoopBackOff"}
)
MAX_REASONS = 5
MAX_REASON_CHARS = 300


def parse_time(value: str | None) -> datetime | None:
    """An API timestamp (``2024-01-01T00:00:00Z``, maybe with fractions) as naive UTC."""
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:  # fromisoformat takes at most microseconds
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def _container(pod: Object) -> Object:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return statuses[0] if statuses else {}


def _condition(pod: Object, kind: str) -> Object:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return {}


def is_ready(pod: Object) -> bool:
    return (
        not pod["metadata"].get("deletionTimestamp")
        and (pod.get("status") or {}).get("phase") == "Running"
        and _condition(pod, "Ready").get("status") == "True"
    )


def pod_state(pod: Object) -> PodState:
    if pod["metadata"].get("deletionTimestamp"):
        return PodState.terminating
    status = pod.get("status") or {}
    phase = status.get("phase", "Pending")
    container = _container(pod)
    waiting = (container.get("state") or {}).get("waiting") or {}
    reason = waiting.get("reason", "")
    if phase == "Succeeded":
        return PodState.down
    if phase == "Failed":
        return PodState.error if status.get("reason") == "Evicted" else PodState.crashed
    if phase == "Unknown":
        return PodState.error
    if reason in IMAGE_ERRORS or reason in CREATE_ERRORS:
        return PodState.error
    if reason == "CrashLoopBackOff" or (container.get("state") or {}).get("terminated"):
        return PodState.crashed
    if phase == "Pending":
        if not pod.get("spec", {}).get("nodeName") or reason == "PodInitializing":
            return PodState.initializing
        return PodState.creating
    return PodState.up if is_ready(pod) else PodState.starting


def pod_status(pod: Object) -> PodStatus:
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    status = pod.get("status") or {}
    started = parse_time(status.get("startTime")) or parse_time(meta.get("creationTimestamp"))
    return PodStatus(
        name=meta["name"],
        type=labels.get(names.TYPE, ""),
        release=labels.get(names.VERSION, ""),
        state=pod_state(pod),
        started=started or datetime(1970, 1, 1),
        restarts=int(_container(pod).get("restartCount") or 0),
        message=problem(pod) or "",
    )


def problem(pod: Object) -> str | None:
    """Why the pod's container is not running well, from its own status; None if it is."""
    container = _container(pod)
    state = container.get("state") or {}
    waiting = state.get("waiting") or {}
    reason = waiting.get("reason", "")
    if reason and reason not in ("ContainerCreating", "PodInitializing"):
        text = f"{reason}: {waiting['message']}" if waiting.get("message") else reason
        last = (container.get("lastState") or {}).get("terminated") or {}
        if reason == "CrashLoopBackOff" and last:
            text = f"exited with code {last.get('exitCode')} ({text})"
        return text
    terminated = state.get("terminated")
    if terminated and terminated.get("exitCode"):
        return f"exited with code {terminated['exitCode']} ({terminated.get('reason', '')})"
    scheduled = _condition(pod, "PodScheduled")
    if scheduled.get("status") == "False" and scheduled.get("message"):
        return f"{scheduled.get('reason', 'Unschedulable')}: {scheduled['message']}"
    return None


def fatal(pod: Object) -> str | None:
    """The reason a pod will not become ready by waiting longer, or None."""
    container = _container(pod)
    reason = ((container.get("state") or {}).get("waiting") or {}).get("reason", "")
    if reason in FATAL_REASONS:
        return problem(pod)
    if (pod.get("status") or {}).get("phase") == "Failed":
        return problem(pod) or "the pod failed"
    if int(container.get("restartCount") or 0) > 0 and not container.get("ready"):
        return problem(pod) or "the container exited and is being restarted"
    return None


def warnings(events: Iterable[Object], pods: set[str]) -> list[str]:
    """``reason: message`` of the Warning events about ``pods``, newest last, deduplicated
    (probe failures, pull errors, back-offs, scheduling failures)."""
    found: list[tuple[str, str]] = []
    for event in events:
        involved = event.get("involvedObject") or {}
        if involved.get("name") not in pods or event.get("type") != "Warning":
            continue
        when = event.get("lastTimestamp") or event.get("eventTime") or ""
        text = f"{event.get('reason', '')}: {event.get('message', '')}".strip()
        found.append((when or "", text))
    result: list[str] = []
    for _, text in sorted(found, key=lambda item: item[0]):
        if text in result:
            result.remove(text)
        result.append(text)
    return result


def explain(pods: Iterable[Object], events: Iterable[Object]) -> str:
    """A short, readable account of why ``pods`` are not ready, for an error message."""
    pods = list(pods)
    reasons: list[str] = []
    for pod in pods:
        text = problem(pod)
        if text and text not in reasons:
            reasons.append(text)
    for text in warnings(events, {p["metadata"]["name"] for p in pods}):
        if text not in reasons:
            reasons.append(text)
    cut = [r if len(r) <= MAX_REASON_CHARS else r[: MAX_REASON_CHARS - 3] + "..." for r in reasons]
    return "; ".join(cut[-MAX_REASONS:])
