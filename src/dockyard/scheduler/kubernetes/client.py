"""``ApiCluster``: the ``Cluster`` interface on a real API server, through kubernetes_asyncio.

kubernetes_asyncio does what is hard to get right: reading a kubeconfig or the in-cluster
service account, client certificates, token refresh and the aiohttp transport. The typed API
classes are not used: every call goes through ``ApiClient.call_api`` with a resource path and
plain JSON, so the scheduler, the fake and the tests share one dict-shaped view of the API.
This is the only module of Dockyard that imports kubernetes_asyncio (import-linter checks it).

Connection (:func:`connect`): the ``DOCKYARD_KUBECONFIG`` file when set; otherwise the pod's
service account (in-cluster), else ``~/.kube/config``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio.config.config_exception import ConfigException

from dockyard.scheduler.base import SchedulerUnavailable
from dockyard.scheduler.kubernetes.cluster import RESOURCES, NotFoundError, Object, error_for

# The transport logs whole response bodies at DEBUG, Secrets included: never let it.
logging.getLogger("kubernetes_asyncio.client.rest").setLevel(logging.INFO)

DEFAULT_TIMEOUT = 30.0
MERGE_PATCH = "application/merge-patch+json"
DEFAULT_KUBECONFIG = os.path.expanduser("~/.kube/config")


async def load_configuration(kubeconfig: str = "") -> k8s_client.Configuration:
    configuration = k8s_client.Configuration()
    try:
        if kubeconfig:
            await k8s_config.load_kube_config(
                config_file=kubeconfig, client_configuration=configuration, persist_config=False
            )
            return configuration
        try:
            # Reads two small files of the service account; off the event loop all the same.
            await asyncio.to_thread(
                k8s_config.load_incluster_config, client_configuration=configuration
            )
        except ConfigException:
            await k8s_config.load_kube_config(
                config_file=DEFAULT_KUBECONFIG,
                client_configuration=configuration,
                persist_config=False,
            )
    except (ConfigException, OSError) as exc:
        where = kubeconfig or "in-cluster config or ~/.kube/config"
        raise SchedulerUnavailable(
            f"Cannot load the Kubernetes configuration ({where}): {exc}"
        ) from exc
    return configuration


class ApiCluster:
    """Implements ``cluster.Cluster`` over HTTP(S) to an API server."""

    def __init__(
        self, configuration: k8s_client.Configuration, *, timeout: float = DEFAULT_TIMEOUT
    ):
        self._api = k8s_client.ApiClient(configuration=configuration)
        self.timeout = timeout

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Object | None = None,
        content_type: str = "application/json",
        text: bool = False,
    ) -> Any:
        headers = {"Accept": "*/*" if text else "application/json", "Content-Type": content_type}
        try:
            response = await self._api.call_api(
                path,
                method,
                query_params=query or {},
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=self.timeout,
            )
            async with response:
                data = await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SchedulerUnavailable(f"The Kubernetes API is not reachable: {exc}") from exc
        if status >= 400:
            try:
                detail = json.loads(data)
                reason, message = str(detail.get("reason", "")), str(detail.get("message", ""))
            except (ValueError, AttributeError):
                reason, message = "", data.decode(errors="replace")[:500]
            raise error_for(status, reason, message)
        if text:
            return data.decode(errors="replace")
        return json.loads(data) if data else {}

    async def get(self, kind: str, name: str, *, namespace: str = "") -> Object | None:
        try:
            result: Object = await self._call("GET", RESOURCES[kind].path(namespace, name))
        except NotFoundError:
            return None
        return result

    async def list(self, kind: str, *, namespace: str = "", selector: str = "") -> list[Object]:
        query = {"labelSelector": selector} if selector else None
        result = await self._call("GET", RESOURCES[kind].path(namespace), query=query)
        items: list[Object] = result.get("items") or []
        return items

    async def create(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        result: Object = await self._call("POST", RESOURCES[kind].path(namespace), body=body)
        return result

    async def replace(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        path = RESOURCES[kind].path(namespace, body["metadata"]["name"])
        result: Object = await self._call("PUT", path, body=body)
        return result

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str = "") -> Object:
        path = RESOURCES[kind].path(namespace, name)
        result: Object = await self._call("PATCH", path, body=patch, content_type=MERGE_PATCH)
        return result

    async def delete(
        self, kind: str, name: str, *, namespace: str = "", grace_period: int | None = None
    ) -> bool:
        options: Object = {"propagationPolicy": "Background"}
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        try:
            await self._call("DELETE", RESOURCES[kind].path(namespace, name), body=options)
        except NotFoundError:
            return False
        return True

    async def logs(
        self,
        pod: str,
        *,
        namespace: str,
        tail: int | None = None,
        limit_bytes: int | None = None,
        timestamps: bool = False,
    ) -> str:
        query: dict[str, Any] = {}
        if tail is not None:
            query["tailLines"] = tail
        if limit_bytes is not None:
            query["limitBytes"] = limit_bytes
        if timestamps:
            query["timestamps"] = "true"
        path = RESOURCES["pods"].path(namespace, pod) + "/log"
        result: str = await self._call("GET", path, query=query, text=True)
        return result

    async def aclose(self) -> None:
        await self._api.close()


async def connect(kubeconfig: str = "", *, request_timeout: float = DEFAULT_TIMEOUT) -> ApiCluster:
    return ApiCluster(await load_configuration(kubeconfig), timeout=request_timeout)
