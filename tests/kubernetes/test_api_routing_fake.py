"""The routing and settings endpoints, through the HTTP API, on the Kubernetes scheduler: what
a user's domains, certificates, TLS switch, maintenance, routability, whitelist and autoscale
rules become in the cluster. The cluster is the in-memory fake behind the scheduler's own
``Cluster`` interface (the real one is covered by the scheduler tests); everything above it
is the real API, services and database."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from dockyard.api.app import create_app
from dockyard.core.settings import Settings
from dockyard.db.session import Database
from dockyard.models import metadata
from dockyard.scheduler.kubernetes import KubernetesScheduler, names
from dockyard.scheduler.kubernetes.fake import FakeCluster
from tests.routing import pki

APP = "kshop"


class Api:
    def __init__(self, client: httpx.AsyncClient, cluster: FakeCluster) -> None:
        self.client = client
        self.cluster = cluster
        self.headers: dict[str, str] = {}

    async def call(self, method: str, path: str, status: int, **kwargs: Any) -> httpx.Response:
        r = await self.client.request(method, path, headers=self.headers, **kwargs)
        assert r.status_code == status, r.text
        return r

    async def ingress(self) -> dict[str, Any] | None:
        return await self.cluster.get("ingresses", APP, namespace=APP)

    async def names(self, kind: str, selector: str = "") -> set[str]:
        items = await self.cluster.list(kind, namespace=APP, selector=selector)
        return {i["metadata"]["name"] for i in items}


@pytest.fixture
async def api(tmp_path: Path, database: Database) -> AsyncIterator[Api]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url="sqlite+aiosqlite://",  # unused: the test database is passed in
        platform_domain="example.test",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        scheduler="kubernetes",
        ingress_class="nginx",
    )
    cluster = FakeCluster(node_labels={"kubernetes.io/hostname": "127.0.0.1"})
    scheduler = KubernetesScheduler(
        cluster, deploy_timeout=5.0, poll_interval=0.02, settle_timeout=5.0
    )
    app = create_app(settings, database=database, scheduler=scheduler)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, cluster)
    finally:
        await scheduler.destroy(APP)
        await scheduler.aclose()
        async with database.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(delete(table))


async def test_routing_and_settings_become_ingress_secrets_and_hpas(api: Api) -> None:
    user = {"username": "k-admin", "password": "s3cret-pw", "email": "k@example.com"}
    await api.call("POST", "/v2/auth/register/", 201, json=user)
    token = (await api.call("POST", "/v2/auth/login/", 200, json=user)).json()["token"]
    api.headers = {"Authorization": f"token {token}"}
    await api.call("POST", "/v2/apps/", 201, json={"id": APP})
    build = {"image": "registry.example.com/shop:1", "procfile": {"web": "serve", "worker": "w"}}
    await api.call("POST", f"/v2/apps/{APP}/builds/", 201, json=build)

    ingress = await api.ingress()
    assert ingress is not None
    assert [r["host"] for r in ingress["spec"]["rules"]] == [f"{APP}.example.test"]
    assert ingress["spec"]["ingressClassName"] == "nginx"

    # A custom domain and a certificate attached to it: a rule, a TLS Secret, spec.tls.
    await api.call("POST", f"/v2/apps/{APP}/domains/", 201, json={"domain": "shop.example.com"})
    cert, key = pki.pair("shop.example.com", sans=["shop.example.com"])
    body = {"name": "shop-cert", "certificate": cert, "key": key}
    await api.call("POST", "/v2/certs/", 201, json=body)
    await api.call("POST", "/v2/certs/shop-cert/domain/", 201, json={"domain": "shop.example.com"})
    ingress = await api.ingress()
    assert ingress is not None
    hosts = [r["host"] for r in ingress["spec"]["rules"]]
    assert hosts == [f"{APP}.example.test", "shop.example.com"]
    (tls,) = ingress["spec"]["tls"]
    assert tls["hosts"] == ["shop.example.com"]
    secret = await api.cluster.get("secrets", tls["secretName"], namespace=APP)
    assert secret is not None and secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.crt"]).decode() == cert

    # HTTPS enforced and a whitelist: ingress-nginx annotations.
    await api.call("POST", f"/v2/apps/{APP}/tls/", 201, json={"https_enforced": True})
    await api.call("POST", f"/v2/apps/{APP}/whitelist/", 201, json={"addresses": ["10.0.0.0/8"]})
    ingress = await api.ingress()
    assert ingress is not None
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    assert notes["nginx.ingress.kubernetes.io/whitelist-source-range"] == "10.0.0.0/8"

    # Maintenance: the rules point at a Service with no pods; the web pods keep running.
    await api.call("POST", f"/v2/apps/{APP}/settings/", 201, json={"maintenance": True})
    ingress = await api.ingress()
    assert ingress is not None
    backends = {
        p["backend"]["service"]["name"]
        for r in ingress["spec"]["rules"]
        for p in r["http"]["paths"]
    }
    assert backends == {f"{APP}-maintenance"}
    await api.call("POST", f"/v2/apps/{APP}/settings/", 201, json={"maintenance": False})

    # Not routable: no Ingress and no TLS Secret; routable again brings both back.
    await api.call("POST", f"/v2/apps/{APP}/settings/", 201, json={"routable": False})
    assert await api.ingress() is None
    assert await api.names("secrets", f"{names.COMPONENT}=tls") == set()
    assert await api.names("secrets", f"{names.COMPONENT}=env")  # the config is still there
    await api.call("POST", f"/v2/apps/{APP}/settings/", 201, json={"routable": True})
    assert await api.ingress() is not None

    # Detaching the certificate removes its Secret; deleting the domain removes its rule.
    await api.call("DELETE", "/v2/certs/shop-cert/domain/shop.example.com", 204)
    ingress = await api.ingress()
    assert ingress is not None and not ingress["spec"].get("tls")
    await api.call("DELETE", f"/v2/apps/{APP}/domains/shop.example.com", 204)
    ingress = await api.ingress()
    assert ingress is not None
    assert [r["host"] for r in ingress["spec"]["rules"]] == [f"{APP}.example.test"]

    # Autoscale rules: an HPA per process type, removed with its rule.
    rules = {"web": {"min": 2, "max": 5, "cpu_percent": 70}}
    await api.call("POST", f"/v2/apps/{APP}/settings/", 201, json={"autoscale": rules})
    hpas = await api.cluster.list("horizontalpodautoscalers", namespace=APP)
    assert len(hpas) == 1
    spec = hpas[0]["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 5)
    assert spec["targetCPUUtilizationPercentage"] == 70
    assert spec["scaleTargetRef"]["name"] == f"{APP}-web"
    no_rules = {"autoscale": {"web": None}}
    await api.call("POST", f"/v2/apps/{APP}/settings/", 201, json=no_rules)
    assert await api.cluster.list("horizontalpodautoscalers", namespace=APP) == []

    # Destroy: the namespace is deleted (it answers once the deletion has started), and with
    # it everything above.
    await api.call("DELETE", f"/v2/apps/{APP}", 204)
    namespace = await api.cluster.get("namespaces", APP)
    assert namespace is None or namespace["status"]["phase"] == "Terminating"
