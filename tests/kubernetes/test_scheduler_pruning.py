"""What the kubernetes scheduler prunes without ever listing Secrets (its ClusterRole has no
``list`` on them): env Secrets by release number, from the number noted on the app's
ConfigMap, and TLS Secrets by the names the app's Ingress gives. On the fake and on the real
cluster (``kube``)."""

# The fixtures are imported from fixtures_scheduler; tests naming them as parameters is the
# point, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

from typing import cast

import pytest

from dockyard.scheduler.base import DeployError, RouteSpec, TLSCertificate
from dockyard.scheduler.kubernetes import KubernetesScheduler, eventlog, names
from dockyard.scheduler.kubernetes.cluster import Cluster, ClusterError, Object
from tests.kubernetes.fixtures_scheduler import Kube, app, kube, kube_target  # noqa: F401
from tests.routing.pki import pair


async def env_secrets(kube: Kube, app: str) -> set[int]:
    found = await kube.objects(app, "secrets", f"{names.COMPONENT}=env")
    return {int(o["metadata"]["labels"][names.VERSION][1:]) for o in found.values()}


async def test_env_secrets_are_pruned_by_release_number(kube: Kube, app: str) -> None:
    await kube.deploy(kube.release(app, 1, {"web": ""}), web=1)
    with pytest.raises(DeployError):  # its Secret stays behind: no tidy after a failure
        await kube.deploy(kube.release(app, 2, {"web": ""}, image="Not An Image"), web=1)
    await kube.deploy(kube.release(app, 3, {"web": ""}), web=1)
    assert await env_secrets(kube, app) == {1, 2, 3}
    assert await eventlog.read_note(kube.cluster, app, names.ENV_PRUNED) is None

    # v7: v1 and v2 are more than five releases old.
    await kube.deploy(kube.release(app, 7, {"web": ""}), web=1)
    assert await env_secrets(kube, app) == {3, 7}
    assert await eventlog.read_note(kube.cluster, app, names.ENV_PRUNED) == "2"
    # The note survives the event log's appends.
    await kube.scheduler.log_event(app, "dockyard", "deployed v7")
    await kube.deploy(kube.release(app, 7, {"web": ""}), web=2)  # scale: nothing to prune
    assert await eventlog.read_note(kube.cluster, app, names.ENV_PRUNED) == "2"

    await kube.deploy(kube.release(app, 9, {"web": ""}), web=1)
    assert await env_secrets(kube, app) == {7, 9}
    assert await eventlog.read_note(kube.cluster, app, names.ENV_PRUNED) == "4"
    assert "deployed v7" in await kube.scheduler.logs(app)


def cert(name: str, host: str) -> TLSCertificate:
    pem, key = pair(host, (host,))
    return TLSCertificate(name=name, certificate=pem, key=key, hosts=(host,))


class RefusingIngresses:
    """A cluster whose API server refuses every Ingress write (as it would an invalid one)."""

    def __init__(self, inner: Cluster) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def create(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        if kind == "ingresses":
            raise ClusterError(422, "Invalid", "Ingress refused for the test")
        return await self.inner.create(kind, body, namespace=namespace)

    async def replace(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        if kind == "ingresses":
            raise ClusterError(422, "Invalid", "Ingress refused for the test")
        return await self.inner.replace(kind, body, namespace=namespace)


async def test_tls_secrets_are_pruned_by_the_names_in_the_ingress(kube: Kube, app: str) -> None:
    hosts = (f"{app}.example.test", "a.example.com", "b.example.com")
    a, b = cert("a", "a.example.com"), cert("b", "b.example.com")
    await kube.scheduler.route(RouteSpec(app, hosts, certificates=(a, b)))
    tls = f"{names.COMPONENT}=tls"
    assert set(await kube.objects(app, "secrets", tls)) == {f"{app}-tls-a", f"{app}-tls-b"}

    # An operator's Secret named in the Ingress is not ours to delete.
    theirs: Object = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "theirs"}}
    await kube.cluster.create("secrets", theirs, namespace=app)
    tls_entry = {"hosts": ["c.example.com"], "secretName": "theirs"}
    current = await kube.cluster.get("ingresses", names.ingress(app), namespace=app)
    assert current is not None
    entries = [*current["spec"]["tls"], tls_entry]
    await kube.cluster.patch("ingresses", app, {"spec": {"tls": entries}}, namespace=app)

    await kube.scheduler.route(RouteSpec(app, hosts, certificates=(b,)))
    assert set(await kube.objects(app, "secrets", tls)) == {f"{app}-tls-b"}
    assert await kube.cluster.get("secrets", "theirs", namespace=app) is not None

    # An Ingress the API server refuses: the new certificate's Secret is taken back (no
    # Ingress names it), the one the standing Ingress names stays.
    refusing = KubernetesScheduler(cast(Cluster, RefusingIngresses(kube.cluster)))
    c = cert("c", "c.example.com")
    with pytest.raises(DeployError, match="refused for the test"):
        await refusing.route(RouteSpec(app, hosts, certificates=(b, c)))
    assert set(await kube.objects(app, "secrets", tls)) == {f"{app}-tls-b"}

    await kube.scheduler.route(RouteSpec(app, hosts, certificates=(b,), routable=False))
    assert await kube.objects(app, "ingresses") == {}
    assert await kube.objects(app, "secrets", tls) == {}
    assert await kube.cluster.get("secrets", "theirs", namespace=app) is not None
