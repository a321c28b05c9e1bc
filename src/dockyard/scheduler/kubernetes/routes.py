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

Which TLS Secrets to prune is read from the Ingress itself (``spec.tls[].secretName``), never
by listing Secrets: the controller's ClusterRole has no ``list`` on Secrets, which would let
it read every Secret of the cluster. So a Secret is created before the Ingress that names it
and deleted only after the Ingress stopped naming it, and when the Ingress cannot be written
the Secrets it does not name are deleted at once. (A controller killed between those writes
leaves a Secret that no Ingress names; it goes with the app's namespace.)
"""

from __future__ import annotations

import contextlib

from dockyard.scheduler.base import RouteSpec, SchedulerUnavailable
from dockyard.scheduler.kubernetes import ingress, names
from dockyard.scheduler.kubernetes.cluster import Cluster, ClusterError, Object, apply


def tls_secrets_named(app: str, current: Object | None) -> set[str]:
    """The TLS Secrets of ours that an Ingress (as read back) names; not others' Secrets an
    operator may have added to it."""
    prefix = names.tls_secret(app, "")
    entries = ((current or {}).get("spec") or {}).get("tls") or []
    found = {str(entry.get("secretName") or "") for entry in entries}
    return {name for name in found if name.startswith(prefix)}


async def _delete_secrets(cluster: Cluster, secrets: set[str], namespace: str) -> None:
    for name in sorted(secrets):
        await cluster.delete("secrets", name, namespace=namespace)


async def publish(cluster: Cluster, spec: RouteSpec, *, ingress_class: str) -> None:
    app = spec.app
    namespace = names.namespace(app)
    current = await cluster.get("ingresses", names.ingress(app), namespace=namespace)
    previous = tls_secrets_named(app, current)
    if not spec.routable or not spec.hosts:
        # The Secrets first: while the Ingress stands, it still says which they are.
        await _delete_secrets(cluster, previous, namespace)
        await cluster.delete("ingresses", names.ingress(app), namespace=namespace)
        await cluster.delete("services", names.maintenance_service(app), namespace=namespace)
        return
    wanted: set[str] = set()
    try:
        for cert in spec.certificates:
            body = ingress.tls_secret(app, cert)
            wanted.add(body["metadata"]["name"])
            await apply(cluster, "secrets", body, namespace=namespace)
        if spec.maintenance:
            await apply(cluster, "services", ingress.maintenance_service(app), namespace=namespace)
        body = ingress.ingress(spec, ingress_class=ingress_class)
        await apply(cluster, "ingresses", body, namespace=namespace)
    except (ClusterError, SchedulerUnavailable):
        # A Secret the Ingress does not name would never be found to prune: delete those of
        # ours it does not name now (the new ones, or the old ones should the write have
        # gone through after all, its answer lost).
        with contextlib.suppress(ClusterError, SchedulerUnavailable):
            now = await cluster.get("ingresses", names.ingress(app), namespace=namespace)
            named = tls_secrets_named(app, now)
            await _delete_secrets(cluster, (wanted | previous) - named, namespace)
        raise
    if not spec.maintenance:
        await cluster.delete("services", names.maintenance_service(app), namespace=namespace)
    await _delete_secrets(cluster, previous - wanted, namespace)
