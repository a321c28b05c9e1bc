"""Publishing a ``RouteSpec`` as an Ingress (networking.k8s.io/v1) in the app's namespace.

Mapping (ingress-nginx annotations; another ingress controller honours the hosts, TLS and
maintenance, and ignores the rest):

- ``hosts`` -> one rule per host (the platform hostname and the custom domains, ``*.``
  wildcards included), path ``/`` (Prefix) to port 80 of the Service ``<app>-web``.
- ``certificates`` -> a ``kubernetes.io/tls`` Secret ``<app>-tls-<cert>`` each, listed in
  ``spec.tls`` with their hosts; Secrets of certificates no longer attached are deleted.
- ``https_enforced`` -> ``nginx.ingress.kubernetes.io/ssl-redirect`` and
  ``force-ssl-redirect`` "true" (HTTP answers a redirect); "false" otherwise, so HTTP keeps
  serving even with TLS configured, as on Deis.
- ``whitelist`` -> ``nginx.ingress.kubernetes.io/whitelist-source-range`` (comma-separated
  addresses and CIDRs); absent when the whitelist is empty.
- ``maintenance`` -> the rules point at the Service ``<app>-maintenance``, whose selector
  matches no pod, so every ingress controller answers 503; the web pods keep running.
- ``routable`` false -> the Ingress, its TLS Secrets and the maintenance Service are deleted:
  the app is reachable only inside the cluster (Service ``<app>-web``).
- The ingress class is ``DOCKYARD_INGRESS_CLASS`` (``spec.ingressClassName``).
"""

from __future__ import annotations

from dockyard.scheduler.base import RouteSpec
from dockyard.scheduler.kubernetes import ingress, names
from dockyard.scheduler.kubernetes.cluster import Cluster, apply


async def _tls_secrets(cluster: Cluster, spec: RouteSpec, namespace: str) -> None:
    wanted = set()
    for cert in spec.certificates if spec.routable else ():
        body = ingress.tls_secret(spec.app, cert)
        wanted.add(body["metadata"]["name"])
        await apply(cluster, "secrets", body, namespace=namespace)
    for secret in await cluster.list(
        "secrets", namespace=namespace, selector=f"{names.COMPONENT}=tls"
    ):
        if secret["metadata"]["name"] not in wanted:
            await cluster.delete("secrets", secret["metadata"]["name"], namespace=namespace)


async def publish(cluster: Cluster, spec: RouteSpec, *, ingress_class: str) -> None:
    app = spec.app
    namespace = names.namespace(app)
    if not spec.routable or not spec.hosts:
        await cluster.delete("ingresses", names.ingress(app), namespace=namespace)
        await cluster.delete("services", names.maintenance_service(app), namespace=namespace)
        await _tls_secrets(cluster, RouteSpec(app=app, hosts=(), routable=False), namespace)
        return
    await _tls_secrets(cluster, spec, namespace)
    if spec.maintenance:
        await apply(cluster, "services", ingress.maintenance_service(app), namespace=namespace)
    body = ingress.ingress(spec, ingress_class=ingress_class)
    await apply(cluster, "ingresses", body, namespace=namespace)
    if not spec.maintenance:
        await cluster.delete("services", names.maintenance_service(app), namespace=namespace)
