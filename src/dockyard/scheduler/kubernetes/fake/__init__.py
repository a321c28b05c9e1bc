"""``FakeCluster``: the ``Cluster`` interface in memory, for tests and for trying the
kubernetes scheduler without a cluster.

An object store with the API server's rules (``store``), the namespace, Deployment and
ReplicaSet controllers (``controllers``) and one node whose kubelet runs toy programs chosen
by image (``kubelet``). Nothing runs in the background: every call first advances the world
(controllers and kubelet, until it stops changing), so time passes as the scheduler polls.
``http_get`` stands in for reaching a web pod over the network.
"""

from __future__ import annotations

import copy
from typing import Any

from dockyard.scheduler.kubernetes.cluster import ClusterError, NotFoundError, Object
from dockyard.scheduler.kubernetes.fake import controllers
from dockyard.scheduler.kubernetes.fake.kubelet import Kubelet
from dockyard.scheduler.kubernetes.fake.store import Store


class FakeCluster:
    def __init__(self, *, node_labels: dict[str, str] | None = None, startup: float = 0.05):
        self.store = Store()
        self.kubelet = Kubelet(self.store, labels=node_labels, startup=startup)
        self.requests: list[tuple[str, str, str]] = []  # (verb, kind, name) as received

    async def _step(self) -> None:
        for _ in range(20):
            before = self.store.version
            controllers.step(self.store)
            await self.kubelet.step()
            if self.store.version == before:
                return

    async def get(self, kind: str, name: str, *, namespace: str = "") -> Object | None:
        await self._step()
        found = self.store.find(kind, namespace, name)
        return copy.deepcopy(found) if found is not None else None

    async def list(self, kind: str, *, namespace: str = "", selector: str = "") -> list[Object]:
        await self._step()
        return copy.deepcopy(self.store.items(kind, namespace, selector))

    async def create(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        self.requests.append(("create", kind, body["metadata"].get("name", "")))
        await self._step()
        return self.store.create(kind, namespace, body)

    async def replace(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        self.requests.append(("replace", kind, body["metadata"]["name"]))
        await self._step()
        return self.store.replace(kind, namespace, body)

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str = "") -> Object:
        self.requests.append(("patch", kind, name))
        await self._step()
        return self.store.patch(kind, namespace, name, patch)

    async def delete(
        self, kind: str, name: str, *, namespace: str = "", grace_period: int | None = None
    ) -> bool:
        self.requests.append(("delete", kind, name))
        await self._step()
        return self.store.delete(kind, namespace, name, grace_period)

    async def logs(
        self,
        pod: str,
        *,
        namespace: str,
        tail: int | None = None,
        limit_bytes: int | None = None,
        timestamps: bool = False,
    ) -> str:
        await self._step()
        obj = self.store.find("pods", namespace, pod)
        if obj is None:
            raise NotFoundError(404, "NotFound", f'pods "{pod}" not found')
        c = self.kubelet.containers.get(obj["metadata"]["uid"])
        if c is None or c.started is None:
            raise ClusterError(400, "BadRequest", f'container in pod "{pod}" is waiting to start')
        lines = [f"{ts} {line}" if timestamps else line for ts, line in c.log]
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        text = "".join(line + "\n" for line in lines)
        if limit_bytes is not None:
            text = text.encode()[:limit_bytes].decode(errors="ignore")
        return text

    async def http_get(
        self, namespace: str, pod: str, path: str = "/"
    ) -> tuple[int, dict[str, Any]]:
        """What the pod's web server answers (only ``fake/web`` pods have one)."""
        await self._step()
        obj = self.store.find("pods", namespace, pod)
        c = self.kubelet.containers.get(obj["metadata"]["uid"]) if obj else None
        if obj is None or c is None or c.program != "serve" or c.started is None:
            raise ConnectionRefusedError(f"{pod}: connection refused")
        env = self.kubelet.env(obj)
        return 200, {"release": env.get("WORKFLOW_RELEASE"), "path": path, "env": env}

    async def aclose(self) -> None:
        await self.kubelet.close()
