"""End to end through the HTTP API on the real test cluster: the app built by ``create_app``
with a ``KubernetesScheduler`` on it. Create an app, deploy an image with a procfile, set
config, limits, tags and a healthcheck, scale, roll back and destroy, asserting after each
step exactly which of our objects the app's namespace holds, and that nothing is left at the
end. It prints how long ``POST builds`` took to answer, which is until the rollout was
available."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import delete

from dockyard.api.app import create_app
from dockyard.core.settings import Settings
from dockyard.db.session import Database
from dockyard.models import metadata
from dockyard.scheduler.kubernetes import KubernetesScheduler, names
from dockyard.scheduler.kubernetes.client import ApiCluster, connect
from tests.routing import pki

pytestmark = pytest.mark.kubernetes

KINDS = (
    "deployments",
    "replicasets",
    "pods",
    "services",
    "secrets",
    "configmaps",
    "ingresses",
    "horizontalpodautoscalers",
)
APP = "shop"


class Env:
    def __init__(self, client: httpx.AsyncClient, cluster: ApiCluster) -> None:
        self.client = client
        self.cluster = cluster
        self.headers: dict[str, str] = {}

    async def call(self, method: str, path: str, status: int, **kwargs: Any) -> httpx.Response:
        r = await self.client.request(method, path, headers=self.headers, **kwargs)
        assert r.status_code == status, r.text
        return r

    async def objects(self) -> dict[str, set[str]]:
        """Our objects in the app's namespace, by kind (Kubernetes adds its own: the root CA
        ConfigMap and the default service account's token Secret)."""
        found: dict[str, set[str]] = {}
        for kind in KINDS:
            items = await self.cluster.list(kind, namespace=APP, selector="heritage=dockyard")
            live = [i for i in items if not i["metadata"].get("deletionTimestamp")]
            if live:
                found[kind] = {i["metadata"]["name"] for i in live}
        return found

    async def deployment(self, ptype: str) -> dict[str, Any]:
        found = await self.cluster.get("deployments", f"{APP}-{ptype}", namespace=APP)
        assert found is not None
        return found


def rs_of(names: set[str]) -> set[str]:
    return {n.rsplit("-", 1)[0] for n in names}


def env_secrets(*versions: int) -> set[str]:
    return {f"{APP}-v{v}-env" for v in versions}


@pytest.fixture
async def env(tmp_path: Any, database: Database, kube_cluster: Any) -> AsyncIterator[Env]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url="sqlite+aiosqlite://",  # unused: the test database is passed in
        platform_domain="example.test",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        scheduler="kubernetes",
        deploy_timeout=60.0,
    )
    cluster = await connect(str(kube_cluster.kubeconfig))
    scheduler = KubernetesScheduler(
        cluster, deploy_timeout=60.0, poll_interval=0.2, settle_timeout=60.0
    )
    app = create_app(settings, database=database, scheduler=scheduler)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Env(c, cluster)
    finally:
        await scheduler.destroy(APP)
        await scheduler.aclose()
        async with database.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(delete(table))


async def test_an_app_through_the_api_on_kubernetes(env: Env, kube_cluster: Any) -> None:
    user = {"username": "kube-admin", "password": "s3cret-pw", "email": "k@example.com"}
    await env.call("POST", "/v2/auth/register/", 201, json=user)
    login = await env.call("POST", "/v2/auth/login/", 200, json=user)
    env.headers = {"Authorization": f"token {login.json()['token']}"}

    # Create: release v1 has no build; the event log and the route (the platform hostname,
    # published by the routing service through route()) exist.
    await env.call("POST", "/v2/apps/", 201, json={"id": APP})
    assert await env.objects() == {"configmaps": {"dockyard-events"}, "ingresses": {APP}}
    ingress = await env.cluster.get("ingresses", APP, namespace=APP)
    assert ingress is not None
    assert [r["host"] for r in ingress["spec"]["rules"]] == [f"{APP}.example.test"]

    # A host path is no image here.
    for path in ("/srv/shop", "file:///srv/shop.tar.gz"):
        r = await env.call("POST", f"/v2/apps/{APP}/builds/", 400, json={"image": path})
        assert "kubernetes scheduler runs container images" in r.text, r.text

    # An image build with a procfile: v2, web scaled to 1 by default.
    build = {
        "image": "registry.example.com/shop:1.0",
        "procfile": {"web": "serve", "worker": "work"},
    }
    started = time.monotonic()
    await env.call("POST", f"/v2/apps/{APP}/builds/", 201, json=build)
    elapsed = time.monotonic() - started
    print(f"\nPOST builds -> rollout available: {elapsed:.2f}s")
    objects = await env.objects()
    assert set(objects) == {
        "deployments",
        "replicasets",
        "pods",
        "services",
        "secrets",
        "configmaps",
        "ingresses",
    }
    assert objects["deployments"] == {f"{APP}-web"}
    assert len(objects["pods"]) == 1 and rs_of(objects["pods"]) == objects["replicasets"]
    assert objects["services"] == {f"{APP}-web"}
    assert objects["secrets"] == env_secrets(2)
    web = await env.deployment("web")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["image"] == build["image"]
    assert container["command"] == ["/bin/sh", "-c", "serve"]

    # Config, limits, tags and a healthcheck: one release each (v3-v6).
    api_port = urlparse(kube_cluster.server).port
    probe = {"tcpSocket": {"port": api_port, "host": "127.0.0.1"}, "periodSeconds": 1}
    for body in (
        {"values": {"GREETING": "hi"}},
        {"memory": {"web": "256M"}, "cpu": {"web": "250m/500m"}},
        {"tags": {"kubernetes.io/hostname": kube_cluster.node_name}},
        {"healthcheck": {"web": {"readinessProbe": probe}}},
    ):
        await env.call("POST", f"/v2/apps/{APP}/config/", 201, json=body)
    objects = await env.objects()
    assert objects["deployments"] == {f"{APP}-web"}
    assert len(objects["pods"]) == 1
    assert len(objects["replicasets"]) == 5  # v2..v6, all within revisionHistoryLimit
    assert objects["secrets"] == env_secrets(2, 3, 4, 5, 6)
    spec = (await env.deployment("web"))["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["resources"] == {
        "limits": {"memory": "256Mi", "cpu": "500m"},
        "requests": {"cpu": "250m"},
    }
    assert spec["nodeSelector"] == {"kubernetes.io/hostname": kube_cluster.node_name}
    assert container["readinessProbe"]["tcpSocket"] == {"port": api_port, "host": "127.0.0.1"}
    assert (await env.deployment("web"))["spec"]["template"]["metadata"]["labels"][
        "version"
    ] == "v6"

    # Scale to 3 web and 2 worker.
    await env.call("POST", f"/v2/apps/{APP}/scale/", 204, json={"web": 3, "worker": 2})
    objects = await env.objects()
    assert objects["deployments"] == {f"{APP}-web", f"{APP}-worker"}
    pods = (await env.call("GET", f"/v2/apps/{APP}/pods/", 200)).json()["results"]
    assert sorted(p["type"] for p in pods) == ["web"] * 3 + ["worker"] * 2
    assert {p["state"] for p in pods} == {"up"} and {p["release"] for p in pods} == {"v6"}
    assert {p["name"] for p in pods} == objects["pods"]

    # A custom domain with its certificate: a rule and a TLS Secret on the app's Ingress.
    await env.call("POST", f"/v2/apps/{APP}/domains/", 201, json={"domain": "shop.example.com"})
    cert, key = pki.pair("shop.example.com", sans=["shop.example.com"])
    body = {"name": "shop-cert", "certificate": cert, "key": key}
    await env.call("POST", "/v2/certs/", 201, json=body)
    await env.call("POST", "/v2/certs/shop-cert/domain/", 201, json={"domain": "shop.example.com"})
    objects = await env.objects()
    tls_secret = names.tls_secret(APP, "shop-cert")
    assert objects["secrets"] == env_secrets(2, 3, 4, 5, 6) | {tls_secret}
    ingress = await env.cluster.get("ingresses", APP, namespace=APP)
    assert ingress is not None
    assert [r["host"] for r in ingress["spec"]["rules"]] == [
        f"{APP}.example.test",
        "shop.example.com",
    ]
    assert ingress["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": tls_secret}]

    # Roll back to v5 (no healthcheck): v7.
    r = await env.call("POST", f"/v2/apps/{APP}/releases/rollback/", 201, json={})
    assert r.json() == {"version": 7}
    objects = await env.objects()
    assert len(objects["pods"]) == 5
    for ptype in ("web", "worker"):
        deploy = await env.deployment(ptype)
        assert deploy["spec"]["template"]["metadata"]["labels"]["version"] == "v7"
        assert "readinessProbe" not in deploy["spec"]["template"]["spec"]["containers"][0]
    pods = (await env.call("GET", f"/v2/apps/{APP}/pods/", 200)).json()["results"]
    assert {p["release"] for p in pods} == {"v7"} and len(pods) == 5
    # v2 pruned: out of history; the certificate's Secret stays with its domain.
    assert objects["secrets"] == env_secrets(3, 4, 5, 6, 7) | {tls_secret}
    assert objects["services"] == {f"{APP}-web"}

    # Destroy: the namespace and everything in it go.
    await env.call("DELETE", f"/v2/apps/{APP}", 204)
    deadline = time.monotonic() + 90
    while await env.cluster.get("namespaces", APP) is not None:
        assert time.monotonic() < deadline, await env.objects()
        await asyncio.sleep(0.5)
    assert await env.objects() == {}
