"""The fake cluster's controllers: namespace deletion, Deployments and ReplicaSets, each a
pure step over the store, run until nothing changes.

The Deployment controller does what the scheduler relies on: it adopts an orphan or owned
ReplicaSet whose template equals its own but for ``pod-template-hash`` and otherwise creates
one named ``<deployment>-<letters and digits>`` (as Kubernetes since 1.8 does); a paused
Deployment creates none. A rollout surges all new pods at once and scales the old ReplicaSets
down only as new pods become ready (maxUnavailable 0). Old ReplicaSets beyond
``revisionHistoryLimit`` are deleted.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from dockyard.scheduler.kubernetes.fake.store import Store, random_suffix
from dockyard.scheduler.kubernetes.states import is_ready, parse_time

Object = dict[str, Any]
HASH_LABEL = "pod-template-hash"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def _without_hash(template: Object) -> str:
    t = copy.deepcopy(template)
    (t.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return json.dumps(t, sort_keys=True)


def k8s_hash(template: Object) -> str:
    """Like Kubernetes: a number from the template, each decimal digit mapped onto the
    "safe" alphabet, so the hash usually has letters."""
    number = int.from_bytes(hashlib.sha256(_without_hash(template).encode()).digest()[:4], "big")
    return "".join(_SAFE[ord(c) % len(_SAFE)] for c in str(number))


def _available(pod: Object, min_ready: float) -> bool:
    """Ready for at least ``minReadySeconds``."""
    if not is_ready(pod):
        return False
    for cond in pod["status"].get("conditions") or []:
        if cond.get("type") == "Ready":
            since = parse_time(cond.get("lastTransitionTime"))
            now = datetime.now(UTC).replace(tzinfo=None)
            return since is None or (now - since).total_seconds() >= min_ready
    return False


def _owned_by(obj: Object, owner: Object) -> bool:
    return any(
        o.get("uid") == owner["metadata"]["uid"] and o.get("controller")
        for o in obj["metadata"].get("ownerReferences") or []
    )


def _selector(obj: Object) -> str:
    labels = obj["spec"]["selector"]["matchLabels"]
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _live(pods: list[Object]) -> list[Object]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def _owner_ref(owner: Object, kind: str) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def namespaces(store: Store) -> None:
    """A terminating namespace is emptied, then removed."""
    for ns in store.items("namespaces"):
        if not ns["metadata"].get("deletionTimestamp"):
            continue
        name = ns["metadata"]["name"]
        content = [k for k in store.objects if k[1] == name]
        for kind, _, obj_name in content:
            store.delete(kind, name, obj_name, None)
        if not [k for k in store.objects if k[1] == name]:
            store.remove("namespaces", "", name)


def replica_sets(store: Store) -> None:
    for rs in store.items("replicasets"):
        namespace = rs["metadata"]["namespace"]
        pods = [p for p in store.items("pods", namespace, _selector(rs)) if _owned_by(p, rs)]
        live = _live(pods)
        wanted = int(rs["spec"].get("replicas") or 0)
        for _ in range(wanted - len(live)):
            template = copy.deepcopy(rs["spec"]["template"])
            name = f"{rs['metadata']['name']}-{random_suffix()}"
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    **template.get("metadata", {}),
                    "name": name,
                    "ownerReferences": [_owner_ref(rs, "ReplicaSet")],
                },
                "spec": template["spec"],
            }
            store.create("pods", namespace, pod)
        if len(live) > wanted:
            # Not-ready pods go first, then the newest.
            newest = sorted(live, key=lambda p: p["metadata"]["creationTimestamp"], reverse=True)
            victims = sorted(newest, key=is_ready)
            for pod in victims[: len(live) - wanted]:
                store.delete("pods", namespace, pod["metadata"]["name"], None)
        live = _live([p for p in store.items("pods", namespace, _selector(rs)) if _owned_by(p, rs)])
        ready = sum(is_ready(p) for p in live)
        store.set_status(
            rs,
            {
                "replicas": len(live),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs["metadata"]["generation"],
            },
        )


def _new_replica_set(store: Store, deploy: Object, owned: list[Object]) -> Object | None:
    wanted = _without_hash(deploy["spec"]["template"])
    for rs in sorted(owned, key=lambda r: r["metadata"]["creationTimestamp"]):
        if _without_hash(rs["spec"]["template"]) == wanted:
            return rs
    return None


def deployments(store: Store) -> None:
    for deploy in store.items("deployments"):
        namespace = deploy["metadata"]["namespace"]
        selector = _selector(deploy)
        candidates = store.items("replicasets", namespace, selector)
        for rs in candidates:  # adopt orphans
            if not rs["metadata"].get("ownerReferences"):
                rs["metadata"]["ownerReferences"] = [_owner_ref(deploy, "Deployment")]
        owned = [rs for rs in candidates if _owned_by(rs, deploy)]
        spec = deploy["spec"]
        replicas = int(spec.get("replicas") or 0)
        new = _new_replica_set(store, deploy, owned)
        if new is None and not spec.get("paused"):
            digits = k8s_hash(spec["template"])
            template = copy.deepcopy(spec["template"])
            template["metadata"].setdefault("labels", {})[HASH_LABEL] = digits
            body = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{deploy['metadata']['name']}-{digits}",
                    "labels": template["metadata"]["labels"],
                    "ownerReferences": [_owner_ref(deploy, "Deployment")],
                },
                "spec": {
                    "replicas": 0,
                    "selector": {
                        "matchLabels": {**spec["selector"]["matchLabels"], HASH_LABEL: digits}
                    },
                    "template": template,
                },
            }
            new = store.create("replicasets", namespace, body)
            new = store.find("replicasets", namespace, new["metadata"]["name"])
            owned.append(new)  # type: ignore[arg-type]
        old = [rs for rs in owned if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
        if new is not None and not spec.get("paused"):
            new["spec"]["replicas"] = replicas
            pods = store.items("pods", namespace, _selector(new))
            min_ready = float(spec.get("minReadySeconds") or 0)
            available = sum(_available(p, min_ready) for p in _live(pods) if _owned_by(p, new))
            budget = max(0, replicas - available)
            for rs in sorted(old, key=lambda r: r["metadata"]["creationTimestamp"], reverse=True):
                keep = min(int(rs["spec"].get("replicas") or 0), budget)
                rs["spec"]["replicas"] = keep
                budget -= keep
            limit = int(spec.get("revisionHistoryLimit", 10))
            idle = [
                rs
                for rs in old
                if not rs["spec"].get("replicas") and not rs["status"].get("replicas")
            ]
            for rs in sorted(idle, key=lambda r: r["metadata"]["creationTimestamp"])[
                : max(0, len(idle) - limit)
            ]:
                store.remove("replicasets", namespace, rs["metadata"]["name"])
        all_pods = _live(
            [
                p
                for p in store.items("pods", namespace, selector)
                if any(_owned_by(p, rs) for rs in owned)
            ]
        )
        updated = [p for p in all_pods if new is not None and _owned_by(p, new)]
        ready = sum(is_ready(p) for p in all_pods)
        available = sum(_available(p, float(spec.get("minReadySeconds") or 0)) for p in all_pods)
        store.set_status(
            deploy,
            {
                "observedGeneration": deploy["metadata"]["generation"],
                "replicas": len(all_pods),
                "updatedReplicas": len(updated),
                "readyReplicas": ready,
                "availableReplicas": available,
                "conditions": [
                    {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}
                ],
            },
        )


def step(store: Store) -> None:
    namespaces(store)
    store.collect_garbage()
    deployments(store)
    replica_sets(store)
