"""The small interface through which the kubernetes scheduler talks to a cluster.

Objects go in and come out as the API's own JSON (plain dicts), addressed by the plural name of
their resource (``"deployments"``), a namespace and a name. Two implementations: ``ApiCluster``
(``client.py``, on kubernetes_asyncio, for a real API server) and ``FakeCluster`` (``fake/``,
in memory, with toy controllers and kubelet), which pass the same scheduler tests. Failures
answered by the API server are :class:`ClusterError` (404 and 409 have their own classes);
a server that cannot be reached raises ``base.SchedulerUnavailable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

Object = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    group_version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str = "", name: str = "") -> str:
        root = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        path = f"{root}/namespaces/{namespace}" if self.namespaced else root
        path = f"{path}/{self.plural}"
        return f"{path}/{name}" if name else path


RESOURCES: dict[str, Resource] = {
    r.plural: r
    for r in (
        Resource("v1", "namespaces", namespaced=False),
        Resource("v1", "pods"),
        Resource("v1", "secrets"),
        Resource("v1", "configmaps"),
        Resource("v1", "services"),
        Resource("v1", "events"),
        Resource("apps/v1", "deployments"),
        Resource("apps/v1", "replicasets"),
        Resource("networking.k8s.io/v1", "ingresses"),
        Resource("autoscaling/v1", "horizontalpodautoscalers"),
    )
}


class ClusterError(Exception):
    """An error status from the API server; ``reason`` is its ``Status.reason``."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class NotFoundError(ClusterError):
    pass


class ConflictError(ClusterError):
    """409: the object already exists, or was changed since it was read."""


def error_for(status: int, reason: str, message: str) -> ClusterError:
    cls = {404: NotFoundError, 409: ConflictError}.get(status, ClusterError)
    return cls(status, reason, message)


class Cluster(Protocol):
    async def get(self, kind: str, name: str, *, namespace: str = "") -> Object | None:
        """The object, or None when it does not exist."""
        ...

    async def list(self, kind: str, *, namespace: str = "", selector: str = "") -> list[Object]:
        """Objects of a namespace matching a label selector (``a=b,c``: ``c`` exists)."""
        ...

    async def create(self, kind: str, body: Object, *, namespace: str = "") -> Object: ...

    async def replace(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        """PUT; ``metadata.resourceVersion`` in ``body`` makes it conditional (else 409)."""
        ...

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str = "") -> Object:
        """A JSON merge patch (RFC 7386)."""
        ...

    async def delete(
        self, kind: str, name: str, *, namespace: str = "", grace_period: int | None = None
    ) -> bool:
        """Delete with background propagation; False when it did not exist."""
        ...

    async def logs(
        self,
        pod: str,
        *,
        namespace: str,
        tail: int | None = None,
        limit_bytes: int | None = None,
        timestamps: bool = False,
    ) -> str:
        """The container log of a one-container pod (stdout and stderr interleaved)."""
        ...

    async def aclose(self) -> None: ...


async def apply(cluster: Cluster, kind: str, body: Object, *, namespace: str = "") -> Object:
    """Create ``body``, or replace the object of that name with it (read-modify-write,
    retried when someone else wrote in between). A Service keeps its cluster IP."""
    name = body["metadata"]["name"]
    for _ in range(5):
        current = await cluster.get(kind, name, namespace=namespace)
        try:
            if current is None:
                return await cluster.create(kind, body, namespace=namespace)
            update = {**body, "metadata": dict(body["metadata"])}
            update["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if kind == "services":
                update["spec"] = dict(body["spec"])
                for key in ("clusterIP", "clusterIPs"):
                    if key in current.get("spec", {}):
                        update["spec"][key] = current["spec"][key]
            return await cluster.replace(kind, update, namespace=namespace)
        except ConflictError:
            continue
    raise ConflictError(409, "Conflict", f"{kind}/{name} kept changing while being applied")
