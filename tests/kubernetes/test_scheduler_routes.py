"""``route()`` on the kubernetes scheduler, read back from the API: the Ingress of the app's
hosts, its TLS Secrets, the annotations for HTTPS and the whitelist, maintenance mode and an
unroutable app. On the fake and on the real cluster (``kube``)."""

# The fixtures are imported from fixtures_scheduler; tests naming them as parameters is the
# point, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import base64

from dockyard.scheduler.base import RouteSpec, TLSCertificate
from dockyard.scheduler.kubernetes import names
from tests.kubernetes.fixtures_scheduler import Kube, app, kube, kube_target  # noqa: F401
from tests.routing.pki import pair


def cert(name: str, *hosts: str) -> TLSCertificate:
    pem, key = pair(hosts[0], hosts)
    return TLSCertificate(name=name, certificate=pem, key=key, hosts=hosts)


async def test_route_publishes_an_ingress_with_tls(kube: Kube, app: str) -> None:
    await kube.deploy(kube.release(app, 1, {"web": ""}), web=1)
    shop = cert("shop-cert", "shop.com", "www.shop.com")
    spec = RouteSpec(
        app=app,
        hosts=(f"{app}.example.test", "shop.com", "www.shop.com", "*.shop.io"),
        certificates=(shop,),
        https_enforced=True,
        whitelist=("10.0.0.0/8", "192.0.2.7"),
    )
    await kube.scheduler.route(spec)
    (ingress,) = (await kube.objects(app, "ingresses")).values()
    assert ingress["metadata"]["name"] == app
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert [r["host"] for r in ingress["spec"]["rules"]] == list(spec.hosts)
    for rule in ingress["spec"]["rules"]:
        (path,) = rule["http"]["paths"]
        assert path["backend"]["service"] == {"name": f"{app}-web", "port": {"number": 80}}
    assert ingress["spec"]["tls"] == [
        {"hosts": ["shop.com", "www.shop.com"], "secretName": f"{app}-tls-shop-cert"}
    ]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    assert notes["nginx.ingress.kubernetes.io/whitelist-source-range"] == "10.0.0.0/8,192.0.2.7"
    secret = await kube.cluster.get("secrets", f"{app}-tls-shop-cert", namespace=app)
    assert secret is not None and secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.crt"]).decode() == shop.certificate
    assert base64.b64decode(secret["data"]["tls.key"]).decode() == shop.key

    # Replacing the route: another certificate, HTTP allowed, no whitelist.
    other = cert("other", "shop.io")
    await kube.scheduler.route(
        RouteSpec(app=app, hosts=(f"{app}.example.test", "shop.io"), certificates=(other,))
    )
    (ingress,) = (await kube.objects(app, "ingresses")).values()
    assert [r["host"] for r in ingress["spec"]["rules"]] == [f"{app}.example.test", "shop.io"]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/ssl-redirect"] == "false"
    assert "nginx.ingress.kubernetes.io/whitelist-source-range" not in notes
    tls = await kube.objects(app, "secrets", f"{names.COMPONENT}=tls")
    assert list(tls) == [f"{app}-tls-other"]


async def test_maintenance_and_unroutable(kube: Kube, app: str) -> None:
    hosts = (f"{app}.example.test",)
    await kube.scheduler.route(RouteSpec(app=app, hosts=hosts, maintenance=True))
    (ingress,) = (await kube.objects(app, "ingresses")).values()
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == f"{app}-maintenance"
    services = await kube.objects(app, "services")
    assert services[f"{app}-maintenance"]["spec"]["selector"] == {
        "app": app,
        names.COMPONENT: "maintenance",
    }
    await kube.scheduler.route(RouteSpec(app=app, hosts=hosts))
    assert f"{app}-maintenance" not in await kube.objects(app, "services")
    await kube.scheduler.route(
        RouteSpec(app=app, hosts=hosts, certificates=(cert("c", hosts[0]),), routable=False)
    )
    assert await kube.objects(app, "ingresses") == {}
    assert await kube.objects(app, "secrets", f"{names.COMPONENT}=tls") == {}
    await kube.scheduler.route(RouteSpec(app=app, hosts=hosts, routable=False))  # idempotent
