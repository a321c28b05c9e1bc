"""Rolling one process type's Deployment to a new template or count, waiting for the rollout,
and rolling it back to the spec it had before.

A new template goes in paused; the scheduler then creates the ReplicaSet for it itself, under
a digits-only name (``names.template_hash``), and unpauses. The Deployment controller adopts a
ReplicaSet whose template equals its own (it ignores the ``pod-template-hash`` label), so the
pods are named ``<app>-<type>-<digits>-<5 chars>``, the shape the Deis CLI parses. A paused
Deployment never creates a ReplicaSet, so there is no race with the controller. Should the
adoption fail anyway (a ReplicaSet of that name owned by a deleted Deployment), the controller
makes its own ReplicaSet and only the pod names differ.

Rollback re-applies the Deployment as it was read before the change: the controller finds
the previous ReplicaSet by its template and scales it back, or, for a Deployment that did not
exist, deletes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from dockyard.scheduler.base import DeployError, ReleaseSpec
from dockyard.scheduler.kubernetes import eventlog, manifests, names, states
from dockyard.scheduler.kubernetes.cluster import Cluster, ConflictError, Object
from dockyard.scheduler.kubernetes.cluster import apply as apply_object

log = logging.getLogger(__name__)


@dataclass
class Change:
    """What was done to one type's Deployment; enough to wait for it and to undo it."""

    ptype: str
    name: str
    previous: Object | None  # the Deployment before the change; None when it was created
    replicas: int
    version: str  # label of the pods it should end with


def _spec_replicas(deploy: Object) -> int:
    return int(deploy.get("spec", {}).get("replicas") or 0)


async def _ensure_replica_set(cluster: Cluster, deploy: Object, template: Object) -> None:
    body = manifests.replica_set(deploy, template)
    namespace = deploy["metadata"]["namespace"]
    for _ in range(3):
        try:
            await cluster.create("replicasets", body, namespace=namespace)
            return
        except ConflictError:
            current = await cluster.get(
                "replicasets", body["metadata"]["name"], namespace=namespace
            )
            if current is None:
                continue
            owners = current["metadata"].get("ownerReferences") or []
            if any(o.get("uid") == deploy["metadata"]["uid"] for o in owners):
                return  # ours already: the template ran before (rollback, scale)
            # Left by a deleted Deployment and not yet collected: make room.
            await cluster.delete("replicasets", body["metadata"]["name"], namespace=namespace)
            await asyncio.sleep(0.2)
    log.warning("could not create ReplicaSet %s", body["metadata"]["name"])


async def _write(
    cluster: Cluster, name: str, namespace: str, make: Any, *, create: bool = False
) -> Object:
    """Create, or replace with the current resourceVersion, retrying write conflicts."""
    for _ in range(5):
        current = None if create else await cluster.get("deployments", name, namespace=namespace)
        body = make(current)
        try:
            if current is None:
                return await cluster.create("deployments", body, namespace=namespace)
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return await cluster.replace("deployments", body, namespace=namespace)
        except ConflictError:
            create = False
    raise ConflictError(409, "Conflict", f"deployment {name} kept changing")


async def apply(
    cluster: Cluster,
    release: ReleaseSpec,
    ptype: str,
    replicas: int,
    *,
    existing: Object | None,
    pull_secret: bool,
    min_ready: int = 1,
) -> Change:
    """Roll the type's Deployment to ``release`` with ``replicas`` pods (not waiting)."""
    app = release.app
    namespace, name = names.namespace(app), names.deployment(app, ptype)
    template = manifests.pod_template(release, ptype, pull_secret=pull_secret)
    digits = names.template_hash(template)
    change = Change(ptype, name, existing, replicas, release.label)
    if existing is not None:
        annotations = existing["metadata"].get("annotations") or {}
        if annotations.get(names.TEMPLATE_HASH) == digits:
            await cluster.patch(
                "deployments",
                name,
                {"spec": {"replicas": replicas, "paused": False}},
                namespace=namespace,
            )
            return change
    keep = _spec_replicas(existing) if existing is not None else replicas

    def paused(_current: Object | None) -> Object:
        return manifests.deployment(
            release, ptype, template, replicas=keep, paused=True, min_ready=min_ready
        )

    written = await _write(cluster, name, namespace, paused, create=existing is None)
    await _ensure_replica_set(cluster, written, template)
    await cluster.patch(
        "deployments", name, {"spec": {"replicas": replicas, "paused": False}}, namespace=namespace
    )
    return change


async def scale_out(cluster: Cluster, deploy: Object) -> Change:
    """Scale a Deployment of a type the release no longer has to 0 (deleted after success)."""
    meta = deploy["metadata"]
    await cluster.patch(
        "deployments", meta["name"], {"spec": {"replicas": 0}}, namespace=meta["namespace"]
    )
    ptype = (meta.get("labels") or {}).get(names.TYPE, "")
    version = (deploy["spec"]["template"]["metadata"].get("labels") or {}).get(names.VERSION, "")
    return Change(ptype, meta["name"], deploy, 0, version)


def _progress_failed(deploy: Object | None) -> str | None:
    for cond in (deploy or {}).get("status", {}).get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return str(cond.get("message") or "progress deadline exceeded")
    return None


def _done(change: Change, deploy: Object | None, pods: list[Object]) -> bool:
    if deploy is not None:
        status = deploy.get("status") or {}
        if status.get("observedGeneration", 0) < deploy["metadata"].get("generation", 0):
            return False
        # Available: ready for minReadySeconds, as the controller counts it.
        if change.replicas and int(status.get("availableReplicas") or 0) < change.replicas:
            return False
    return len(pods) == change.replicas and all(
        (p["metadata"].get("labels") or {}).get(names.VERSION) == change.version
        and states.is_ready(p)
        for p in pods
    )


async def wait(
    cluster: Cluster, app: str, changes: list[Change], *, limit: float, poll: float
) -> None:
    """Until every changed type runs exactly its count of ready pods of its release, and no
    other pod; ``DeployError`` on a pod that cannot start, or after ``limit`` seconds."""
    namespace = names.namespace(app)
    deadline = time.monotonic() + limit
    while True:
        pods = await cluster.list("pods", namespace=namespace, selector=names.process_selector(app))
        deploys = {
            d["metadata"]["name"]: d for d in await cluster.list("deployments", namespace=namespace)
        }
        pending: list[tuple[Change, list[Object]]] = []
        for change in changes:
            mine = [p for p in pods if p["metadata"]["labels"].get(names.TYPE) == change.ptype]
            new = [p for p in mine if p["metadata"]["labels"].get(names.VERSION) == change.version]
            for pod in new:
                reason = states.fatal(pod)
                if reason:
                    await _fail(
                        cluster, namespace, change, new, f"{change.version} failed to start"
                    )
            stuck = _progress_failed(deploys.get(change.name))
            if stuck:
                await _fail(cluster, namespace, change, new, stuck)
            if not _done(change, deploys.get(change.name), mine):
                pending.append((change, new))
        if not pending:
            return
        if time.monotonic() > deadline:
            change, new = pending[0]
            await _fail(
                cluster,
                namespace,
                change,
                new,
                f"pods of {change.version} did not become ready within {limit:g}s",
            )
        await asyncio.sleep(poll)


async def _fail(
    cluster: Cluster, namespace: str, change: Change, pods: list[Object], headline: str
) -> None:
    try:
        events = await cluster.list("events", namespace=namespace)
    except Exception:  # the reasons are a courtesy; the failure stands without them
        events = []
    reasons = states.explain(pods, events)
    raise DeployError(f"{change.ptype}: {headline}" + (f": {reasons}" if reasons else ""))


def _restored(previous: Object) -> Object:
    meta = previous["metadata"]
    spec = {**previous["spec"], "paused": False}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": meta.get("labels") or {},
            "annotations": {
                k: v
                for k, v in (meta.get("annotations") or {}).items()
                if not k.startswith("deployment.kubernetes.io/")
            },
        },
        "spec": spec,
    }


async def rollback(
    cluster: Cluster, app: str, changes: list[Change], *, limit: float, poll: float
) -> None:
    """Put every changed Deployment back as it was and wait (bounded) until only the pods
    it had before remain. Best effort: a rollback that fails is logged, not raised, so the
    deploy's own error is what the caller sees."""
    namespace = names.namespace(app)
    undo: list[tuple[Change, str]] = []  # the restored state, and the failed version
    for change in changes:
        try:
            if change.previous is None:
                await cluster.delete("deployments", change.name, namespace=namespace)
                undo.append((Change(change.ptype, change.name, None, 0, ""), change.version))
                continue
            previous = change.previous
            await _write(cluster, change.name, namespace, lambda _c, p=previous: _restored(p))
            version = previous["spec"]["template"]["metadata"]["labels"].get(names.VERSION, "")
            restored = Change(change.ptype, change.name, None, _spec_replicas(previous), version)
            undo.append((restored, change.version if version != change.version else ""))
        except Exception:
            log.exception("rollback of %s failed", change.name)
    deadline = time.monotonic() + limit
    while undo and time.monotonic() < deadline:
        if all([await _settled(cluster, app, change, failed) for change, failed in undo]):
            return
        await asyncio.sleep(poll)
    if undo:
        log.warning("rollback of %s did not settle within %gs", app, limit)


async def _settled(cluster: Cluster, app: str, change: Change, failed: str) -> bool:
    """Whether the controllers have put ``change`` back: the Deployment's restore observed,
    the failed release's ReplicaSets at 0 with no pod, and only the restored pods left. The
    failed release's pods are deleted at once (grace period 0) on the way: they never became
    ready, so they served nothing, and a kubelet can take long to stop a container that never
    started (an image it cannot pull)."""
    namespace = names.namespace(app)
    deploy = await cluster.get("deployments", change.name, namespace=namespace)
    if deploy is not None:
        status = deploy.get("status") or {}
        if status.get("observedGeneration", 0) < deploy["metadata"].get("generation", 0):
            return False
    selector = names.process_selector(app, change.ptype)
    settled = True
    if failed:
        for rs in await cluster.list("replicasets", namespace=namespace, selector=selector):
            labels = rs["metadata"].get("labels") or {}
            if labels.get(names.VERSION) == failed and (
                rs["spec"].get("replicas") or (rs.get("status") or {}).get("replicas")
            ):
                settled = False
    for pod in await cluster.list("pods", namespace=namespace, selector=selector):
        labels = pod["metadata"]["labels"]
        if labels.get(names.VERSION) == failed and not states.is_ready(pod):
            await cluster.delete(
                "pods", pod["metadata"]["name"], namespace=namespace, grace_period=0
            )
        restored = labels.get(names.VERSION) == change.version and change.replicas > 0
        if not restored or pod["metadata"].get("deletionTimestamp"):
            settled = False
    return settled


async def tidy(
    cluster: Cluster, release: ReleaseSpec, existing: dict[str, Object], wanted: set[str]
) -> None:
    """After a good rollout: drop the Deployments of vanished types, keep the web Service
    in step with the web type, and prune env Secrets no Deployment uses any more."""
    app, namespace = release.app, names.namespace(release.app)
    for name in existing:
        if name not in wanted:
            await cluster.delete("deployments", name, namespace=namespace)
            await cluster.delete("horizontalpodautoscalers", name, namespace=namespace)
    if "web" in release.processes:
        service = manifests.web_service(app, manifests.web_port(release))
        await apply_object(cluster, "services", service, namespace=namespace)
    else:
        await cluster.delete("services", names.web_service(app), namespace=namespace)
    keep = {release.version}
    for deploy in await cluster.list("deployments", namespace=namespace):
        version = deploy["spec"]["template"]["metadata"]["labels"].get(names.VERSION, "")
        if version[1:].isdigit():
            keep.add(int(version[1:]))
    await prune_env_secrets(cluster, release, keep)


async def prune_env_secrets(cluster: Cluster, release: ReleaseSpec, keep: set[int]) -> None:
    """Delete the env Secrets of the releases more than ``REVISION_HISTORY`` versions old
    (out of the rollout history, so no rollback needs them) but those in ``keep``.

    Secrets are never listed (the controller has no ``list`` on Secrets, which would let it
    read every Secret of the cluster): their names follow from the release numbers,
    ``<app>-v<N>-env``. The number up to which they are gone is noted on the app's ConfigMap
    (``eventlog``), so each number is tried once over the app's life, and the Secret of a
    release whose deploy failed (left behind, as no tidy ran) is still deleted in its turn.
    Without the note (a new app, or one deployed before there was one) the first prune tries
    every number from 1."""
    app, namespace = release.app, names.namespace(release.app)
    limit = release.version - manifests.REVISION_HISTORY
    if limit < 1:
        return
    note = await eventlog.read_note(cluster, app, names.ENV_PRUNED)
    done = int(note) if note and note.isdigit() else 0
    if limit <= done:
        return
    for number in range(done + 1, limit + 1):
        if number not in keep:
            await cluster.delete("secrets", names.env_secret(app, number), namespace=namespace)
    kept = [n for n in keep if done < n <= limit]
    through = min(kept) - 1 if kept else limit
    if through > done:
        await eventlog.write_note(cluster, app, names.ENV_PRUNED, str(through))
