"""The app log on Kubernetes: the controller's events, kept in a ConfigMap of the app's
namespace, merged with the pods' own logs.

Why a ConfigMap and not Kubernetes Events: the API server drops Events after ``--event-ttl``
(one hour by default) and several controllers write them, so "alice deployed v3" would vanish
from ``dockyard logs`` within the hour. A ConfigMap lives exactly as long as the app's
namespace (``destroy`` removes both), is read with one GET, and is appended to with an
optimistic-concurrency PUT (retried on 409). It keeps the last :data:`MAX_EVENTS` events and
stays well under the 1 MiB object limit (:data:`MAX_BYTES`).

The ConfigMap also carries the scheduler's notes about the app, as annotations: small facts
that must live exactly as long as the app's namespace, such as the release up to which old
env Secrets have been pruned (:data:`names.ENV_PRUNED`, see ``rollout.tidy``). Appending
keeps them.

Lines look like the local backend's: ``2026-01-01T00:00:00Z <app>[<source>]: <message>``; the
pods' lines use ``<type>.<n>`` as their source, ``n`` counting the type's pods from 1 in the
order they started.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from dockyard.scheduler.kubernetes import manifests, names, states
from dockyard.scheduler.kubernetes.cluster import Cluster, ConflictError, Object

MAX_EVENTS = 1000
MAX_BYTES = 512 * 1024
MAX_LINE = 16 * 1024
KEY = "events.json"

Entry = tuple[datetime, str, str]  # when (naive UTC), source, message


def precise(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_line(app: str, entry: Entry) -> str:
    when, source, message = entry
    return f"{when:%Y-%m-%dT%H:%M:%SZ} {app}[{source}]: {message}"


def _entries(configmap: Object | None) -> list[list[str]]:
    if not configmap:
        return []
    try:
        data = json.loads((configmap.get("data") or {}).get(KEY) or "[]")
    except ValueError:
        return []
    return [e for e in data if isinstance(e, list) and len(e) == 3]


def _bounded(events: list[list[str]]) -> list[list[str]]:
    events = events[-MAX_EVENTS:]
    while len(events) > 1 and len(json.dumps(events)) > MAX_BYTES:
        events = events[len(events) // 10 or 1 :]
    return events


async def append(cluster: Cluster, app: str, source: str, message: str) -> None:
    """Add an event (one per line of ``message``) to the app's ConfigMap. The namespace must
    exist."""
    now = datetime.now(UTC).replace(tzinfo=None)
    text = message.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") or ""
    new = [[precise(now), source, line[:MAX_LINE]] for line in text.split("\n")]
    namespace = names.namespace(app)
    for _ in range(10):
        current = await cluster.get("configmaps", names.EVENTS_CONFIGMAP, namespace=namespace)
        body = manifests.events_configmap(app, _bounded(_entries(current) + new))
        try:
            if current is None:
                await cluster.create("configmaps", body, namespace=namespace)
            else:
                body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                notes = current["metadata"].get("annotations")
                if notes:
                    body["metadata"]["annotations"] = notes
                await cluster.replace("configmaps", body, namespace=namespace)
            return
        except ConflictError:
            continue  # another writer got there first: read again
    raise ConflictError(409, "Conflict", "the event log kept changing under us")


async def read_note(cluster: Cluster, app: str, key: str) -> str | None:
    """A note (annotation) on the app's ConfigMap; None when it or the note is missing."""
    current = await cluster.get(
        "configmaps", names.EVENTS_CONFIGMAP, namespace=names.namespace(app)
    )
    notes = (current or {}).get("metadata", {}).get("annotations") or {}
    value = notes.get(key)
    return None if value is None else str(value)


async def write_note(cluster: Cluster, app: str, key: str, value: str) -> None:
    """Set a note on the app's ConfigMap (made, with no events, when missing). The namespace
    must exist. A PUT like ``append``, so it needs no ``patch`` right."""
    namespace = names.namespace(app)
    for _ in range(10):
        current = await cluster.get("configmaps", names.EVENTS_CONFIGMAP, namespace=namespace)
        try:
            if current is None:
                body = manifests.events_configmap(app, [])
                body["metadata"]["annotations"] = {key: value}
                await cluster.create("configmaps", body, namespace=namespace)
            else:
                body = copy.deepcopy(current)
                body["metadata"]["annotations"] = {
                    **(current["metadata"].get("annotations") or {}),
                    key: value,
                }
                await cluster.replace("configmaps", body, namespace=namespace)
            return
        except ConflictError:
            continue
    raise ConflictError(409, "Conflict", "the event log kept changing under us")


async def events(cluster: Cluster, app: str) -> list[Entry]:
    current = await cluster.get(
        "configmaps", names.EVENTS_CONFIGMAP, namespace=names.namespace(app)
    )
    result: list[Entry] = []
    for when, source, message in _entries(current):
        parsed = states.parse_time(when)
        if parsed is not None:
            result.append((parsed, str(source), str(message)))
    return result


def pod_entries(text: str, source: str) -> list[Entry]:
    """Lines of ``kubectl logs --timestamps`` (``<RFC 3339 nano> <line>``) as entries."""
    result: list[Entry] = []
    for line in text.splitlines():
        stamp, _, message = line.partition(" ")
        try:
            when = states.parse_time(stamp)
        except ValueError:
            when = None
        if when is None:
            continue
        result.append((when, source, message[:MAX_LINE]))
    return result


def sources(pods: list[Object]) -> dict[str, str]:
    """Pod name -> ``<type>.<n>``, numbering each type's pods in the order they started."""
    by_type: dict[str, list[Object]] = {}
    for pod in pods:
        ptype = (pod["metadata"].get("labels") or {}).get(names.TYPE, "")
        by_type.setdefault(ptype, []).append(pod)
    result: dict[str, str] = {}
    for ptype, group in by_type.items():
        group.sort(key=lambda p: (states.pod_status(p).started, p["metadata"]["name"]))
        for n, pod in enumerate(group, 1):
            result[pod["metadata"]["name"]] = f"{ptype}.{n}"
    return result


def merge(app: str, groups: list[list[Entry]], lines: int) -> str:
    """The last ``lines`` lines of all entries in time order (stable within a group)."""
    merged = sorted((e for group in groups for e in group), key=lambda e: e[0])
    if lines <= 0:
        return ""
    tail = merged[-lines:]
    return "".join(format_line(app, e) + "\n" for e in tail)
