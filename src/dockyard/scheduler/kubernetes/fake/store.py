"""The fake API server's object store: what a real one does on create, get, list, replace,
merge-patch and delete, for the resources the scheduler uses.

It keeps the rules the scheduler depends on: names are unique per kind and namespace (409
AlreadyExists), a PUT carrying a stale ``resourceVersion`` is a 409 Conflict, objects cannot
be created in a missing (404) or terminating (403) namespace, ``generation`` counts spec
changes, ``status`` is left alone by PUT and PATCH, pods and namespaces are deleted gracefully
(a deletion timestamp first), and owned objects are garbage-collected with their owner.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from dockyard.scheduler.kubernetes.cluster import (
    RESOURCES,
    ClusterError,
    ConflictError,
    NotFoundError,
    Object,
)

Key = tuple[str, str, str]  # kind, namespace, name
GRACEFUL = frozenset({"pods", "namespaces"})
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def now_iso(precise: bool = False) -> str:
    now = datetime.now(UTC)
    if precise:
        return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(n: int = 5) -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(n))


def parse_selector(selector: str) -> list[tuple[str, str, str]]:
    """``a=b,c,!d,e!=f`` into (key, op, value) with op in ``= != exists !exists``."""
    result = []
    for part in filter(None, (p.strip() for p in selector.split(","))):
        if "!=" in part:
            key, value = part.split("!=", 1)
            result.append((key, "!=", value))
        elif "=" in part:
            key, value = part.replace("==", "=").split("=", 1)
            result.append((key, "=", value))
        elif part.startswith("!"):
            result.append((part[1:], "!exists", ""))
        else:
            result.append((part, "exists", ""))
    return result


def matches(labels: dict[str, str], selector: str) -> bool:
    for key, op, value in parse_selector(selector):
        present = key in labels
        if (
            (op == "=" and labels.get(key) != value)
            or (op == "!=" and labels.get(key) == value)
            or (op == "exists" and not present)
            or (op == "!exists" and present)
        ):
            return False
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class Store:
    def __init__(self) -> None:
        self.objects: dict[Key, Object] = {}
        self.version = 0

    # -- helpers for the API and the controllers ---------------------------------------

    def _stamp(self, obj: Object) -> None:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)

    def _check_namespace(self, kind: str, namespace: str) -> None:
        if not RESOURCES[kind].namespaced:
            return
        ns = self.objects.get(("namespaces", "", namespace))
        if ns is None:
            raise NotFoundError(404, "NotFound", f'namespaces "{namespace}" not found')
        if ns["metadata"].get("deletionTimestamp"):
            raise ClusterError(
                403,
                "Forbidden",
                f"{kind} is forbidden: unable to create new content in namespace {namespace} "
                "because it is being terminated",
            )

    def _key(self, kind: str, namespace: str, name: str) -> Key:
        return (kind, namespace if RESOURCES[kind].namespaced else "", name)

    def find(self, kind: str, namespace: str, name: str) -> Object | None:
        return self.objects.get(self._key(kind, namespace, name))

    def items(self, kind: str, namespace: str = "", selector: str = "") -> list[Object]:
        return [
            obj
            for (k, ns, _), obj in sorted(self.objects.items())
            if k == kind
            and (not namespace or ns == namespace)
            and matches(obj["metadata"].get("labels") or {}, selector)
        ]

    def set_status(self, obj: Object, status: Object) -> None:
        if obj.get("status") != status:
            obj["status"] = status
            self._stamp(obj)

    def remove(self, kind: str, namespace: str, name: str) -> None:
        if self.objects.pop(self._key(kind, namespace, name), None) is not None:
            self.version += 1

    # -- the API -----------------------------------------------------------------------

    def create(self, kind: str, namespace: str, body: Object) -> Object:
        self._check_namespace(kind, namespace)
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        key = self._key(kind, namespace, meta["name"])
        if key in self.objects:
            raise ConflictError(409, "AlreadyExists", f'{kind} "{meta["name"]}" already exists')
        if RESOURCES[kind].namespaced:
            meta["namespace"] = namespace
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_iso(), generation=1)
        meta.pop("resourceVersion", None)
        if kind == "secrets" and "stringData" in obj:
            import base64

            data = obj.setdefault("data", {})
            for k, v in obj.pop("stringData").items():
                data[k] = base64.b64encode(v.encode()).decode()
        obj["status"] = {"phase": "Active"} if kind == "namespaces" else {}
        if kind == "pods":
            obj["status"] = {"phase": "Pending"}
        self._stamp(obj)
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def _existing(self, kind: str, namespace: str, name: str) -> Object:
        obj = self.find(kind, namespace, name)
        if obj is None:
            raise NotFoundError(404, "NotFound", f'{kind} "{name}" not found')
        return obj

    def _update(self, kind: str, current: Object, new: Object) -> Object:
        new["status"] = current.get("status", {})
        meta = new["metadata"]
        for field in ("uid", "creationTimestamp", "namespace", "deletionTimestamp"):
            if field in current["metadata"]:
                meta[field] = current["metadata"][field]
        meta["generation"] = current["metadata"].get("generation", 1) + (
            1 if new.get("spec") != current.get("spec") else 0
        )
        self._stamp(new)
        self.objects[self._key(kind, meta.get("namespace", ""), meta["name"])] = new
        return copy.deepcopy(new)

    def replace(self, kind: str, namespace: str, body: Object) -> Object:
        current = self._existing(kind, namespace, body["metadata"]["name"])
        wanted = body["metadata"].get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise ConflictError(
                409, "Conflict", "the object has been modified; please apply your changes"
            )
        return self._update(kind, current, copy.deepcopy(body))

    def patch(self, kind: str, namespace: str, name: str, patch: Object) -> Object:
        current = self._existing(kind, namespace, name)
        new = merge_patch(copy.deepcopy(current), {k: v for k, v in patch.items() if k != "status"})
        return self._update(kind, current, new)

    def delete(self, kind: str, namespace: str, name: str, grace: float | None) -> bool:
        obj = self.find(kind, namespace, name)
        if obj is None:
            return False
        meta = obj["metadata"]
        if kind in GRACEFUL and grace != 0:
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = now_iso()
                if grace is not None:
                    meta["deletionGracePeriodSeconds"] = grace
                if kind == "namespaces":
                    obj["status"] = {"phase": "Terminating"}
                self._stamp(obj)
            return True
        self.remove(kind, namespace, name)
        return True

    def collect_garbage(self) -> bool:
        """Delete objects whose owner is gone (background propagation)."""
        uids = {o["metadata"]["uid"] for o in self.objects.values()}
        changed = False
        for (kind, ns, name), obj in list(self.objects.items()):
            owners = obj["metadata"].get("ownerReferences") or []
            if owners and not any(o.get("uid") in uids for o in owners):
                changed |= self.delete(kind, ns, name, None)
                if kind == "pods" and obj["metadata"].get("deletionTimestamp"):
                    obj["metadata"]["ownerReferences"] = []
        return changed
