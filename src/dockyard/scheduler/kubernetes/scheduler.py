"""``KubernetesScheduler``: the ``Scheduler`` (and ``SupportsAutoscale``) on a cluster.

It orchestrates; the objects are built in ``manifests``, the rollouts run in ``rollout``, the
log lives in ``eventlog``, and every call to the cluster goes through the small ``Cluster``
interface, so the same code runs against a real API server and the in-memory fake. Calls for
one app are serialised by a lock per app (the API also holds its cross-process app lock).
Errors answered by the API server become ``DeployError``/``RunError`` (4xx) or
``SchedulerUnavailable`` (5xx, unreachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from dockyard.core.settings import Settings
from dockyard.scheduler.base import (
    DeployError,
    DeploySpec,
    PodNotFound,
    PodStatus,
    ReleaseSpec,
    RouteSpec,
    RunError,
    RunResult,
    RunSpec,
    SchedulerError,
    SchedulerUnavailable,
    check_structure,
)
from dockyard.scheduler.kubernetes import eventlog, manifests, names, rollout, states
from dockyard.scheduler.kubernetes.cluster import (
    Cluster,
    ClusterError,
    ConflictError,
    NotFoundError,
    Object,
    apply,
)
from dockyard.scheduler.kubernetes.routes import publish
from dockyard.scheduler.kubernetes.runs import run_pod

log = logging.getLogger(__name__)

Connect = Callable[[], Awaitable[Cluster]]


def translate(exc: ClusterError, error: type[SchedulerError] = DeployError) -> SchedulerError:
    """An API error as the scheduler error the services expect: the cluster failing, or
    refusing the controller's credentials (an operator's problem), is a 503; a request it
    rejects (an invalid object, say) fails the deploy or run with its message."""
    if exc.status >= 500 or exc.status in (401, 403, 429):
        return SchedulerUnavailable(f"The Kubernetes API failed: {exc.message or exc.reason}")
    return error(f"Kubernetes refused the change: {exc.message or exc.reason}")


class KubernetesScheduler:
    def __init__(
        self,
        cluster: Cluster | Connect,
        *,
        deploy_timeout: float = 120.0,
        run_timeout: float = 300.0,
        ingress_class: str = "nginx",
        poll_interval: float = 0.5,
        settle_timeout: float = 60.0,
        min_ready: float = 1.0,
    ) -> None:
        self._cluster: Cluster | None = None if callable(cluster) else cluster
        self._connect: Connect | None = cluster if callable(cluster) else None
        self._connecting = asyncio.Lock()
        self.deploy_timeout = deploy_timeout
        self.run_timeout = run_timeout
        self.ingress_class = ingress_class
        self.poll = poll_interval
        self.settle_timeout = settle_timeout
        self.min_ready = max(0, math.ceil(min_ready))
        self._locks: dict[str, asyncio.Lock] = {}

    async def cluster(self) -> Cluster:
        if self._cluster is None:
            async with self._connecting:
                if self._cluster is None:
                    assert self._connect is not None
                    self._cluster = await self._connect()
        return self._cluster

    @contextlib.asynccontextmanager
    async def _app(
        self, app: str, error: type[SchedulerError] = DeployError
    ) -> AsyncIterator[Cluster]:
        lock = self._locks.setdefault(app, asyncio.Lock())
        async with lock:
            cluster = await self.cluster()
            try:
                yield cluster
            except ClusterError as exc:
                raise translate(exc, error) from exc

    # -- namespace ---------------------------------------------------------------------

    async def _namespace(self, cluster: Cluster, app: str) -> None:
        """Create the app's namespace, waiting out the deletion of a previous one."""
        name = names.namespace(app)
        deadline = time.monotonic() + self.settle_timeout
        while True:
            current = await cluster.get("namespaces", name)
            if current is None:
                try:
                    await cluster.create("namespaces", manifests.namespace(app))
                    return
                except ConflictError:
                    continue
            if not current["metadata"].get("deletionTimestamp"):
                return
            if time.monotonic() > deadline:
                raise DeployError(f"The namespace {name} of a deleted app is still terminating")
            await asyncio.sleep(self.poll)

    async def _release_objects(self, cluster: Cluster, release: ReleaseSpec) -> bool:
        """The release's env Secret and the app's pull secret; True when there is one."""
        if not release.image:
            raise DeployError(
                "The kubernetes scheduler runs container images; this release has no image"
            )
        namespace = names.namespace(release.app)
        await apply(cluster, "secrets", manifests.env_secret(release), namespace=namespace)
        pull = manifests.registry_secret(release.app, release.registry, release.image)
        if pull is None:
            await cluster.delete("secrets", names.registry_secret(release.app), namespace=namespace)
            return False
        await apply(cluster, "secrets", pull, namespace=namespace)
        return True

    # -- deploy and scale --------------------------------------------------------------

    async def deploy(self, spec: DeploySpec) -> None:
        check_structure(spec)
        async with self._app(spec.release.app) as cluster:
            await self._deploy(cluster, spec)

    async def scale(self, spec: DeploySpec) -> None:
        """Same as deploy: an unchanged template only changes the replica counts, so running
        pods are kept; a release the app does not run yet is rolled out."""
        await self.deploy(spec)

    async def _deploy(self, cluster: Cluster, spec: DeploySpec) -> None:
        release = spec.release
        app, namespace = release.app, names.namespace(release.app)
        await self._namespace(cluster, app)
        pull_secret = await self._release_objects(cluster, release)
        existing = {
            d["metadata"]["name"]: d for d in await cluster.list("deployments", namespace=namespace)
        }
        autoscaled = {
            h["spec"]["scaleTargetRef"]["name"]
            for h in await cluster.list("horizontalpodautoscalers", namespace=namespace)
        }
        changes: list[rollout.Change] = []
        wanted = {names.deployment(app, t) for t in release.processes}
        try:
            for ptype in sorted(release.processes):
                name = names.deployment(app, ptype)
                replicas = spec.structure.get(ptype, 0)
                if name in autoscaled and name in existing and replicas:
                    replicas = max(1, int(existing[name]["spec"].get("replicas") or 0))
                if not replicas and name not in existing:
                    continue
                changes.append(
                    await rollout.apply(
                        cluster,
                        release,
                        ptype,
                        replicas,
                        existing=existing.get(name),
                        pull_secret=pull_secret,
                        min_ready=self.min_ready,
                    )
                )
            for name, deploy in sorted(existing.items()):
                if name not in wanted:
                    changes.append(await rollout.scale_out(cluster, deploy))
            await rollout.wait(cluster, app, changes, limit=self.deploy_timeout, poll=self.poll)
        except (DeployError, ClusterError, SchedulerUnavailable) as exc:
            await rollout.rollback(cluster, app, changes, limit=self.settle_timeout, poll=self.poll)
            if isinstance(exc, ClusterError):
                raise translate(exc) from exc
            raise
        await rollout.tidy(cluster, release, existing, wanted)

    # -- pods --------------------------------------------------------------------------

    async def _pod_objects(
        self, cluster: Cluster, app: str, ptype: str | None = None
    ) -> list[Object]:
        """The app's process pods; none while its namespace is being deleted."""
        namespace = await cluster.get("namespaces", names.namespace(app))
        if namespace is None or namespace["metadata"].get("deletionTimestamp"):
            return []
        try:
            return await cluster.list(
                "pods", namespace=names.namespace(app), selector=names.process_selector(app, ptype)
            )
        except NotFoundError:
            return []

    async def pods(self, app: str, *, type: str | None = None) -> list[PodStatus]:
        cluster = await self.cluster()
        try:
            found = [states.pod_status(p) for p in await self._pod_objects(cluster, app, type)]
        except ClusterError as exc:
            raise translate(exc) from exc
        return sorted(found, key=lambda p: (p.type, p.name))

    async def restart(
        self, app: str, *, type: str | None = None, name: str | None = None
    ) -> list[PodStatus]:
        async with self._app(app) as cluster:
            before = await self._pod_objects(cluster, app, type)
            live = [p for p in before if not p["metadata"].get("deletionTimestamp")]
            targets = [p for p in live if name is None or p["metadata"]["name"] == name]
            if name is not None and not targets:
                raise PodNotFound(f"Pod {name} does not exist in application {app}")
            if not targets:
                return []
            namespace = names.namespace(app)
            for pod in targets:
                await cluster.delete("pods", pod["metadata"]["name"], namespace=namespace)
            gone = {p["metadata"]["name"] for p in targets}
            seen = {p["metadata"]["name"] for p in before}
            types = {p["metadata"]["labels"][names.TYPE] for p in targets}
            return await self._replaced(cluster, app, types, gone, seen)

    async def _replaced(
        self, cluster: Cluster, app: str, types: set[str], gone: set[str], seen: set[str]
    ) -> list[PodStatus]:
        """Wait until the deleted pods are gone and the Deployments are back at their counts
        with ready pods; return the pods that were not there before."""
        namespace = names.namespace(app)
        deadline = time.monotonic() + self.deploy_timeout
        while True:
            pods = [
                p
                for p in await self._pod_objects(cluster, app)
                if p["metadata"]["labels"].get(names.TYPE) in types
            ]
            wanted = 0
            for ptype in types:
                deploy = await cluster.get(
                    "deployments", names.deployment(app, ptype), namespace=namespace
                )
                wanted += int((deploy or {}).get("spec", {}).get("replicas") or 0)
            present = {p["metadata"]["name"] for p in pods}
            if not present & gone and len(pods) == wanted and all(states.is_ready(p) for p in pods):
                new = [states.pod_status(p) for p in pods if p["metadata"]["name"] not in seen]
                return sorted(new, key=lambda p: (p.type, p.name))
            if time.monotonic() > deadline:
                reasons = states.explain(pods, [])
                raise DeployError(
                    f"restarted pods did not become ready within {self.deploy_timeout:g}s"
                    + (f": {reasons}" if reasons else "")
                )
            await asyncio.sleep(self.poll)

    # -- run ---------------------------------------------------------------------------

    async def run(self, spec: RunSpec) -> RunResult:
        app = spec.release.app
        async with self._app(app, RunError) as cluster:
            try:
                await self._namespace(cluster, app)
                pull_secret = await self._release_objects(cluster, spec.release)
            except DeployError as exc:
                raise RunError(exc.message) from exc
        # Outside the app lock: a long one-off command must not hold up deploys.
        cluster = await self.cluster()
        timeout = spec.timeout if spec.timeout is not None else self.run_timeout
        try:
            return await run_pod(
                cluster, spec, limit=timeout, pull_secret=pull_secret, poll=self.poll
            )
        except ClusterError as exc:
            raise translate(exc, RunError) from exc

    # -- logs --------------------------------------------------------------------------

    async def logs(self, app: str, *, lines: int = 100) -> str:
        cluster = await self.cluster()
        try:
            ns = await cluster.get("namespaces", names.namespace(app))
            if ns is None or ns["metadata"].get("deletionTimestamp"):
                return ""
            pods = await self._pod_objects(cluster, app)
            sources = eventlog.sources(pods)
            texts = await asyncio.gather(
                *(self._pod_log(cluster, app, p["metadata"]["name"], lines) for p in pods)
            )
            groups = [await eventlog.events(cluster, app)]
        except ClusterError as exc:
            raise translate(exc) from exc
        for pod, text in zip(pods, texts, strict=True):
            groups.append(eventlog.pod_entries(text, sources[pod["metadata"]["name"]]))
        return eventlog.merge(app, groups, lines)

    async def _pod_log(self, cluster: Cluster, app: str, pod: str, lines: int) -> str:
        try:
            return await cluster.logs(
                pod, namespace=names.namespace(app), tail=lines, timestamps=True
            )
        except (ClusterError, SchedulerUnavailable) as exc:
            # A pod still being created, or a node whose kubelet cannot be reached, has no
            # log to show yet; the others still do.
            log.debug("no log for %s: %s", pod, exc)
            return ""

    async def log_event(self, app: str, source: str, message: str) -> None:
        async with self._app(app) as cluster:
            await self._namespace(cluster, app)
            await eventlog.append(cluster, app, source, message)

    # -- routing -----------------------------------------------------------------------

    async def route(self, spec: RouteSpec) -> None:
        async with self._app(spec.app) as cluster:
            await self._namespace(cluster, spec.app)
            await publish(cluster, spec, ingress_class=self.ingress_class)

    # -- autoscale (SupportsAutoscale) -------------------------------------------------

    async def autoscale(
        self, app: str, type: str, *, minimum: int, maximum: int, cpu_percent: int
    ) -> None:
        async with self._app(app) as cluster:
            await self._namespace(cluster, app)
            body = manifests.hpa(
                app, type, minimum=minimum, maximum=maximum, cpu_percent=cpu_percent
            )
            await apply(cluster, "horizontalpodautoscalers", body, namespace=names.namespace(app))

    async def remove_autoscale(self, app: str, type: str) -> None:
        async with self._app(app) as cluster:
            await cluster.delete(
                "horizontalpodautoscalers", names.hpa(app, type), namespace=names.namespace(app)
            )

    # -- destroy -----------------------------------------------------------------------

    async def destroy(self, app: str) -> None:
        """Delete the namespace, and with it everything of the app. It returns once the
        deletion has started: the pods stop within their grace period while the app already
        shows no pods and no log, and a new app of the same name waits for the old namespace
        to be gone (``_namespace``)."""
        async with self._app(app) as cluster:
            await cluster.delete("namespaces", names.namespace(app))

    async def aclose(self) -> None:
        if self._cluster is not None:
            await self._cluster.aclose()
            self._cluster = None


def from_settings(settings: Settings) -> KubernetesScheduler:
    """The scheduler the API builds from ``DOCKYARD_*`` settings; it connects on first use."""

    async def connect() -> Cluster:
        from dockyard.scheduler.kubernetes.client import connect as api_connect

        return await api_connect(settings.kubeconfig)

    return KubernetesScheduler(
        connect,
        deploy_timeout=settings.deploy_timeout,
        run_timeout=settings.run_timeout,
        ingress_class=settings.ingress_class,
        min_ready=settings.settle_time,
    )
