"""The controller's RBAC (deploy/kubernetes/rbac.yaml) is exactly what the kubernetes
scheduler needs: a whole app is driven through a ``KubernetesScheduler`` that talks to the
real test cluster as the ``dockyard-controller`` ServiceAccount, with no call refused, and
every right the ClusterRole grants is used along the way.

namespace.yaml, serviceaccount.yaml and rbac.yaml are applied for real; the token comes
from the TokenRequest API. Every call the scheduler makes goes through a recording
``Cluster``, with its answer: the scheduler swallows some refusals (a pod log it cannot read,
the events that explain a failed deploy), so "no call failed" alone would not show them. The
app: a release with web and worker, scaled; route() with hosts and a TLS certificate, in
maintenance, then with the certificate detached (its Secret pruned); autoscale, changed and
removed; a release dropping the worker and pruning an old env Secret, whose ReplicaSet name
is taken by a leftover; a failed deploy rolled back and a rollback release; restart, a
one-off run, log_event and logs; an unroutable route and destroy. Everything made here goes
at the end (the app's namespace, the ClusterRole and its binding, the ServiceAccount and the
dockyard namespace).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dockyard.scheduler.base import (
    DeployError,
    PodState,
    ReleaseSpec,
    RouteSpec,
    RunSpec,
    TLSCertificate,
)
from dockyard.scheduler.kubernetes import KubernetesScheduler, manifests, names
from dockyard.scheduler.kubernetes.client import ApiCluster, connect
from dockyard.scheduler.kubernetes.cluster import RESOURCES, ClusterError, Object
from tests.kubernetes.cluster import KubeTestCluster, write_kubeconfig
from tests.kubernetes.fixtures_scheduler import Kube
from tests.routing.pki import pair

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

pytestmark = pytest.mark.kubernetes

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
NAMESPACE = "dockyard"
SERVICE_ACCOUNT = "dockyard-controller"
ROLE = "dockyard-controller"
DELETE_TIMEOUT = 120.0


# -- the controller's identity ---------------------------------------------------------


def wait_gone(cluster: KubeTestCluster, *what: str) -> None:
    """Until ``kubectl get <what>`` finds nothing (test_manifests deletes the dockyard
    namespace without waiting; it cannot be applied again while it terminates)."""
    deadline = time.monotonic() + DELETE_TIMEOUT
    while cluster.kubectl("get", *what, "--ignore-not-found", "-o", "name").stdout.strip():
        assert time.monotonic() < deadline, f"{' '.join(what)} was not deleted"
        time.sleep(0.5)


@pytest.fixture
def controller_rbac(kube_cluster: KubeTestCluster) -> Iterator[None]:
    """The dockyard namespace, the ServiceAccount and its ClusterRole and binding, applied
    from deploy/kubernetes/ for real and deleted (waited for) after the test."""
    wait_gone(kube_cluster, "namespace", NAMESPACE)
    try:
        for name in ("namespace.yaml", "serviceaccount.yaml", "rbac.yaml"):
            kube_cluster.kubectl("apply", "-f", str(DEPLOY / name))
        yield
    finally:
        for name in ("rbac.yaml", "serviceaccount.yaml", "namespace.yaml"):
            kube_cluster.kubectl(
                "delete", "-f", str(DEPLOY / name), "--ignore-not-found",
                f"--timeout={DELETE_TIMEOUT:g}s", check=False,
            )  # fmt: skip
        wait_gone(kube_cluster, "namespace", NAMESPACE)
        for kind in ("clusterrole", "clusterrolebinding"):
            assert not kube_cluster.kubectl("get", kind, ROLE, check=False).stdout.strip()


@pytest.fixture
async def controller_kubeconfig(
    kube_cluster: KubeTestCluster, kube_api: ApiClient, controller_rbac: None, tmp_path: Path
) -> Path:
    """A kubeconfig holding a token of the ServiceAccount (TokenRequest, one hour)."""
    from kubernetes_asyncio import client

    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    answer = await client.CoreV1Api(kube_api).create_namespaced_service_account_token(
        SERVICE_ACCOUNT, NAMESPACE, request
    )
    path = tmp_path / "controller.kubeconfig"
    write_kubeconfig(
        path,
        server=kube_cluster.server,
        ca_file=kube_cluster.ca_file,
        token=answer.status.token,
        user=f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}",
    )
    return path


# -- recording what the scheduler asks -------------------------------------------------


@dataclass(frozen=True)
class Call:
    group: str
    resource: str
    verb: str
    name: str  # "" for a list
    status: int  # 0 when answered without error


class RecordingCluster:
    """A ``Cluster`` passing every call on and noting it in RBAC terms with its answer."""

    def __init__(self, inner: ApiCluster) -> None:
        self.inner = inner
        self.calls: list[Call] = []

    async def _call(self, verb: str, kind: str, name: str, call: Any) -> Any:
        version = RESOURCES[kind].group_version
        group = "" if version == "v1" else version.split("/")[0]
        resource = "pods/log" if verb == "logs" else kind
        verb = {"logs": "get", "replace": "update"}.get(verb, verb)
        try:
            result = await call
        except ClusterError as exc:
            self.calls.append(Call(group, resource, verb, name, exc.status))
            raise
        self.calls.append(Call(group, resource, verb, name, 0))
        return result

    async def get(self, kind: str, name: str, *, namespace: str = "") -> Object | None:
        return await self._call("get", kind, name, self.inner.get(kind, name, namespace=namespace))

    async def list(self, kind: str, *, namespace: str = "", selector: str = "") -> list[Object]:
        call = self.inner.list(kind, namespace=namespace, selector=selector)
        return await self._call("list", kind, "", call)

    async def create(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        call = self.inner.create(kind, body, namespace=namespace)
        return await self._call("create", kind, body["metadata"].get("name", ""), call)

    async def replace(self, kind: str, body: Object, *, namespace: str = "") -> Object:
        call = self.inner.replace(kind, body, namespace=namespace)
        return await self._call("replace", kind, body["metadata"]["name"], call)

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str = "") -> Object:
        return await self._call(
            "patch", kind, name, self.inner.patch(kind, name, patch, namespace=namespace)
        )

    async def delete(
        self, kind: str, name: str, *, namespace: str = "", grace_period: int | None = None
    ) -> bool:
        call = self.inner.delete(kind, name, namespace=namespace, grace_period=grace_period)
        return await self._call("delete", kind, name, call)

    async def logs(
        self,
        pod: str,
        *,
        namespace: str,
        tail: int | None = None,
        limit_bytes: int | None = None,
        timestamps: bool = False,
    ) -> str:
        call = self.inner.logs(
            pod, namespace=namespace, tail=tail, limit_bytes=limit_bytes, timestamps=timestamps
        )
        return await self._call("logs", "pods", pod, call)

    async def aclose(self) -> None:
        await self.inner.aclose()


def allows(rule: dict[str, Any], call: Call) -> bool:
    if call.group not in rule.get("apiGroups", []) or call.resource not in rule["resources"]:
        return False
    if call.verb not in rule["verbs"]:
        return False
    named = rule.get("resourceNames")
    # A list or create request names no object: a rule with resourceNames never allows it.
    return not named or (call.verb not in ("list", "watch", "create") and call.name in named)


# -- the app ----------------------------------------------------------------------------


@pytest.fixture
async def as_controller(
    kube_cluster: KubeTestCluster, controller_kubeconfig: Path
) -> AsyncIterator[tuple[Kube, RecordingCluster]]:
    """The scheduler on the ServiceAccount's token (recorded), and a ``Kube`` whose
    ``cluster`` is the admin's, to look at what the scheduler made."""
    controller = await connect(str(controller_kubeconfig))
    # The token really is the restricted identity, not the admin's.
    with pytest.raises(ClusterError) as refused:
        await controller.list("secrets", namespace="kube-system")
    assert refused.value.status == 403, refused.value
    recorder = RecordingCluster(controller)
    scheduler = KubernetesScheduler(
        recorder, deploy_timeout=30.0, poll_interval=0.2, settle_timeout=60.0
    )
    admin = await connect(str(kube_cluster.kubeconfig))
    try:
        yield Kube("cluster", admin, scheduler, kube_cluster), recorder
    finally:
        await scheduler.aclose()
        await admin.aclose()


def certificate(name: str, *hosts: str) -> TLSCertificate:
    pem, key = pair(hosts[0], hosts)
    return TLSCertificate(name=name, certificate=pem, key=key, hosts=hosts)


def leftover_replica_set(release: ReleaseSpec, ptype: str) -> Object:
    """A ReplicaSet under the name the scheduler will give ``release``'s ReplicaSet, owned by
    nothing and selecting other pods: as if left by a deleted Deployment."""
    digits = names.template_hash(manifests.pod_template(release, ptype))
    labels = {"dockyard-test": "leftover"}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": f"{names.deployment(release.app, ptype)}-{digits}"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "k8s.gcr.io/pause:3.2"}]},
            },
        },
    }


async def drive_an_app(kube: Kube, app: str) -> None:
    admin, scheduler = kube.cluster, kube.scheduler

    async def names_of(kind: str, selector: str = "") -> set[str]:
        return set(await kube.objects(app, kind, selector))

    await scheduler.log_event(app, "dockyard", "alice created the app")

    # A release with web and worker, then scaled.
    v1 = kube.release(app, 1, {"web": "serve", "worker": "work"})
    await kube.deploy(v1, web=1, worker=1)
    await kube.deploy(v1, web=2, worker=1)
    pods = await scheduler.pods(app)
    assert sorted((p.type, p.release, p.state) for p in pods) == [
        ("web", "v1", PodState.up),
        ("web", "v1", PodState.up),
        ("worker", "v1", PodState.up),
    ]
    await scheduler.log_event(app, "dockyard", "alice deployed v1")

    # Routes: hosts and a certificate, maintenance, then the certificate detached.
    hosts = (f"{app}.example.test", "shop.example.com")
    shop = certificate("shop-cert", "shop.example.com")
    tls_secret = names.tls_secret(app, "shop-cert")
    await scheduler.route(
        RouteSpec(app, hosts, certificates=(shop,), https_enforced=True, whitelist=("10.0.0.0/8",))
    )
    assert await admin.get("secrets", tls_secret, namespace=app) is not None
    await scheduler.route(RouteSpec(app, hosts, certificates=(shop,), maintenance=True))
    assert names.maintenance_service(app) in await names_of("services")
    await scheduler.route(RouteSpec(app, hosts))
    assert await admin.get("secrets", tls_secret, namespace=app) is None
    assert await names_of("services") == {names.web_service(app)}
    ingress = await admin.get("ingresses", names.ingress(app), namespace=app)
    assert ingress is not None and not ingress["spec"].get("tls")

    # Autoscale, changed, removed.
    await scheduler.autoscale(app, "web", minimum=2, maximum=4, cpu_percent=60)
    await scheduler.autoscale(app, "web", minimum=2, maximum=5, cpu_percent=70)
    assert await names_of("horizontalpodautoscalers") == {names.hpa(app, "web")}
    await scheduler.autoscale(app, "worker", minimum=1, maximum=2, cpu_percent=50)
    await scheduler.remove_autoscale(app, "web")
    assert await names_of("horizontalpodautoscalers") == {names.hpa(app, "worker")}

    # v6 drops the worker (its Deployment and autoscaler go) and prunes v1's env Secret, out
    # of the history now; a leftover ReplicaSet holds the name of v6's, and is replaced.
    v6 = kube.release(app, 6, {"web": "serve"}, env={"GREETING": "hi"})
    leftover = leftover_replica_set(v6, "web")
    await admin.create("replicasets", leftover, namespace=app)
    await kube.deploy(v6, web=1)
    assert await names_of("deployments") == {names.deployment(app, "web")}
    assert await names_of("horizontalpodautoscalers") == set()
    assert await admin.get("secrets", names.env_secret(app, 1), namespace=app) is None
    assert await admin.get("secrets", names.env_secret(app, 6), namespace=app) is not None
    web = await admin.get("deployments", names.deployment(app, "web"), namespace=app)
    replica_set = await admin.get("replicasets", leftover["metadata"]["name"], namespace=app)
    assert web is not None and replica_set is not None
    owners = replica_set["metadata"].get("ownerReferences") or []
    assert [o["uid"] for o in owners] == [web["metadata"]["uid"]]
    (pod,) = await scheduler.pods(app)
    assert pod.name.rsplit("-", 1)[0] == leftover["metadata"]["name"]

    # A failed deploy is rolled back; a rollback release (v6's content) deploys.
    with pytest.raises(DeployError, match="InvalidImageName"):
        await kube.deploy(kube.release(app, 7, {"web": "serve"}, image="Not An Image"), web=1)
    assert [(p.release, p.state) for p in await scheduler.pods(app)] == [("v6", PodState.up)]
    await kube.deploy(kube.release(app, 8, {"web": "serve"}, env={"GREETING": "hi"}), web=1)
    assert [p.release for p in await scheduler.pods(app)] == ["v8"]

    # Restart, a one-off run (the hollow node never ends it: its deadline does), the log.
    (restarted,) = await scheduler.restart(app, type="web")
    assert restarted.release == "v8" and restarted.name != pod.name
    result = await scheduler.run(RunSpec(kube.release(app, 8, {"web": "serve"}), "true", 2))
    assert result.timed_out
    text = await scheduler.logs(app, lines=100)
    assert "alice created the app" in text and "alice deployed v1" in text

    # Unroutable: the Ingress goes; then the app.
    await scheduler.route(RouteSpec(app, hosts, routable=False))
    assert await names_of("ingresses") == set()
    await scheduler.destroy(app)
    deadline = time.monotonic() + DELETE_TIMEOUT
    while await admin.get("namespaces", app) is not None:
        assert time.monotonic() < deadline, "the app's namespace was not deleted"
        await asyncio.sleep(0.5)


async def test_the_scheduler_runs_a_whole_app_with_exactly_the_controllers_rights(
    kube_cluster: KubeTestCluster, as_controller: tuple[Kube, RecordingCluster]
) -> None:
    kube, recorder = as_controller
    app = f"rb{secrets.token_hex(3)}"
    try:
        await drive_an_app(kube, app)
    finally:
        kube_cluster.kubectl(
            "delete", "namespace", app, "--ignore-not-found", f"--timeout={DELETE_TIMEOUT:g}s",
            check=False,
        )  # fmt: skip

    refused = sorted({c for c in recorder.calls if c.status in (401, 403)}, key=repr)
    assert refused == [], refused
    role = json.loads(kube_cluster.kubectl("get", "clusterrole", ROLE, "-o", "json").stdout)
    rules: list[dict[str, Any]] = role["rules"]
    used = set(recorder.calls)
    beyond = [c for c in used if not any(allows(rule, c) for rule in rules)]
    assert beyond == [], beyond
    # Nothing granted goes unused: every verb of every rule, and every name of a rule that
    # names objects, was needed by some call.
    unused = set()
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    for name in rule.get("resourceNames") or [None]:
                        if not any(
                            (c.group, c.resource, c.verb) == (group, resource, verb)
                            and name in (None, c.name)
                            for c in used
                        ):
                            unused.add((group, resource, verb, name))
    assert unused == set(), f"granted, never used: {sorted(unused, key=repr)}"
    assert not [c for c in used if c.resource == "secrets" and c.verb in ("list", "watch")]
