"""The manifests that run Dockyard on Kubernetes (deploy/kubernetes/) are accepted by a
real API server (server-side dry run, so admission and validation really run), and the
controller's RBAC grants what the controller needs and nothing it should not have."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kubernetes.cluster import KubeTestCluster

pytestmark = pytest.mark.kubernetes

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
MANIFESTS = sorted(p for p in DEPLOY.glob("*.yaml") if p.name != "kustomization.yaml")
NAMESPACE = "dockyard"
SA = f"system:serviceaccount:{NAMESPACE}:dockyard-controller"


@pytest.fixture(scope="module")
def dockyard_namespace(kube_cluster: KubeTestCluster) -> Iterator[str]:
    """The namespace created for real: namespaced objects are dry-run into it."""
    kube_cluster.kubectl("apply", "-f", str(DEPLOY / "namespace.yaml"))
    yield NAMESPACE
    kube_cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)


def test_every_manifest_is_listed_in_the_kustomization() -> None:
    listed = (DEPLOY / "kustomization.yaml").read_text()
    assert MANIFESTS
    for manifest in MANIFESTS:
        assert f"- {manifest.name}" in listed


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_accepted_by_the_api_server(
    kube_cluster: KubeTestCluster, dockyard_namespace: str, manifest: Path
) -> None:
    result = kube_cluster.kubectl("apply", "--dry-run=server", "-f", str(manifest))
    assert "(server dry run)" in result.stdout


def test_kustomization_renders_and_is_accepted(
    kube_cluster: KubeTestCluster, dockyard_namespace: str
) -> None:
    result = kube_cluster.kubectl("apply", "--dry-run=server", "-k", str(DEPLOY))
    for kind in ("deployment.apps/dockyard-controller", "clusterrole.rbac.authorization.k8s.io"):
        assert kind in result.stdout


@pytest.fixture(scope="module")
def controller_rbac(kube_cluster: KubeTestCluster, dockyard_namespace: str) -> Iterator[None]:
    """The ServiceAccount, ClusterRole and binding applied for real, and removed after."""
    for name in ("serviceaccount.yaml", "rbac.yaml"):
        kube_cluster.kubectl("apply", "-f", str(DEPLOY / name))
    yield
    kube_cluster.kubectl("delete", "-f", str(DEPLOY / "rbac.yaml"), "--wait=false", check=False)


def can_i(cluster: KubeTestCluster, verb: str, resource: str, namespace: str | None) -> bool:
    """``resource`` is ``kind``, ``kind/subresource`` or ``kind:name`` (one object)."""
    resource, _, name = resource.partition(":")
    # "pods/log" would read as the pod named "log": subresources go in their own flag.
    resource, _, subresource = resource.partition("/")
    target = f"{resource}/{name}" if name else resource
    args = ["auth", "can-i", verb, target, f"--as={SA}"]
    args += [f"--subresource={subresource}"] if subresource else []
    args += [f"--namespace={namespace}"] if namespace else []
    result = cluster.kubectl(*args, check=False)
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), result.stderr
    return answer == "yes"


ALLOWED = [
    ("create", "namespaces", None),
    ("delete", "namespaces", None),
    ("create", "deployments.apps", "some-app"),
    ("update", "deployments.apps", "some-app"),
    ("patch", "deployments.apps", "some-app"),
    # The scheduler makes each template's ReplicaSet itself (digits-only pod names).
    ("create", "replicasets.apps", "some-app"),
    ("delete", "replicasets.apps", "some-app"),
    ("list", "replicasets.apps", "some-app"),
    ("create", "pods", "some-app"),
    ("delete", "pods", "some-app"),
    ("get", "pods/log", "some-app"),
    ("create", "secrets", "some-app"),
    ("get", "secrets", "some-app"),
    ("delete", "secrets", "some-app"),
    # The event log: any name may be created, only its own read and written.
    ("create", "configmaps", "some-app"),
    ("get", "configmaps:dockyard-events", "some-app"),
    ("update", "configmaps:dockyard-events", "some-app"),
    ("create", "services", "some-app"),
    ("create", "ingresses.networking.k8s.io", "some-app"),
    ("create", "horizontalpodautoscalers.autoscaling", "some-app"),
    ("list", "events", "some-app"),
]
DENIED = [
    # Secrets are deleted by name only: list or watch would read every Secret of the cluster.
    ("list", "secrets", "kube-system"),
    ("list", "secrets", "some-app"),
    ("watch", "secrets", "some-app"),
    ("list", "secrets", None),
    # ConfigMaps other than its own are neither read nor changed.
    ("get", "configmaps:kube-root-ca.crt", "some-app"),
    ("get", "configmaps", "kube-system"),
    ("list", "configmaps", "some-app"),
    ("update", "configmaps:other", "some-app"),
    ("patch", "configmaps:dockyard-events", "some-app"),
    ("delete", "configmaps:dockyard-events", "some-app"),
    ("create", "pods/exec", "some-app"),
    ("create", "pods/portforward", "some-app"),
    ("create", "pods/eviction", "some-app"),
    ("delete", "nodes", None),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io", None),
    ("create", "rolebindings.rbac.authorization.k8s.io", "some-app"),
    ("create", "serviceaccounts", "some-app"),
    ("create", "serviceaccounts/token", "some-app"),
    ("update", "namespaces", None),
    ("watch", "pods", "some-app"),
]


@pytest.mark.parametrize(("verb", "resource", "namespace"), ALLOWED)
def test_controller_may(
    kube_cluster: KubeTestCluster,
    controller_rbac: None,
    verb: str,
    resource: str,
    namespace: str | None,
) -> None:
    assert can_i(kube_cluster, verb, resource, namespace)


@pytest.mark.parametrize(("verb", "resource", "namespace"), DENIED)
def test_controller_may_not(
    kube_cluster: KubeTestCluster,
    controller_rbac: None,
    verb: str,
    resource: str,
    namespace: str | None,
) -> None:
    assert not can_i(kube_cluster, verb, resource, namespace)
