"""Fixtures of the Kubernetes tests: one real cluster per test session on loopback
(``kube_cluster``), a kubernetes_asyncio client on it (``kube_api``) and a throwaway
namespace per test (``kube_namespace``).

The cluster comes from the binaries that ``scripts/kube-test-cluster/build.sh`` caches in
``${DOCKYARD_KUBE_CACHE:-~/.cache/dockyard-kube}``; without them the tests that use it
skip, saying so. It starts in about 10 seconds and is stopped at the end of the session,
every process of it waited for.

Usage::

    import pytest
    from kubernetes_asyncio import client

    pytestmark = pytest.mark.kubernetes

    async def test_something(kube_cluster, kube_api, kube_namespace):
        # kube_cluster.kubeconfig  Path of a kubeconfig (server, CA file, admin token)
        # kube_cluster.server      "https://127.0.0.1:<port>"
        # kube_cluster.token       the admin bearer token (group system:masters)
        # kube_cluster.ca_file     the CA that signed the API server's certificate
        # kube_cluster.node_name   "127.0.0.1", the one (hollow) node
        # kube_cluster.kubectl("get", "pods", "-A")  the cached kubectl, same version
        apps = client.AppsV1Api(kube_api)
        await apps.list_namespaced_deployment(kube_namespace)

To load the kubeconfig yourself (as the Kubernetes scheduler does)::

    from kubernetes_asyncio import client, config
    configuration = client.Configuration()
    await config.load_kube_config(
        config_file=str(kube_cluster.kubeconfig), client_configuration=configuration
    )
    async with client.ApiClient(configuration) as api: ...

The node is a kubemark hollow kubelet: pods are scheduled to it and reach Running (images
are never pulled, so any image name works, e.g. ``k8s.gcr.io/pause:3.2``) and stay Running
(a ``restartPolicy: Never`` pod or a Job's pod never completes); every pod gets the fake IP
192.168.192.168. Container logs and exec fail with an error from the API server (the hollow
kubelet serves plain HTTP where the API server expects HTTPS). Deployments roll out, roll
back (``kubectl rollout undo``) and scale; pods are deleted normally.

Tests outside ``tests/kubernetes/`` can use these fixtures by living in this folder, or by
importing them into their own conftest (``from tests.kubernetes.conftest import
kube_cluster``); note that each conftest importing ``kube_cluster`` gets its own
session cluster, so prefer this folder when a run may collect both.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.kubernetes.cluster import KubeTestCluster, cache_root, find_bin_dir

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient


@pytest.fixture(scope="session")
def kube_cluster() -> Iterator[KubeTestCluster]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(
            f"Kubernetes test cluster binaries not found in {cache_root()}: "
            "run scripts/kube-test-cluster/build.sh"
        )
    cluster = KubeTestCluster(bin_dir=bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def kube_api(kube_cluster: KubeTestCluster) -> AsyncIterator[ApiClient]:
    """A kubernetes_asyncio ApiClient loaded from the cluster's kubeconfig."""
    from kubernetes_asyncio import client, config

    configuration = client.Configuration()
    await config.load_kube_config(
        config_file=str(kube_cluster.kubeconfig), client_configuration=configuration
    )
    async with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
async def kube_namespace(kube_api: ApiClient) -> AsyncIterator[str]:
    """A fresh namespace, deleted (without waiting) after the test."""
    from kubernetes_asyncio import client

    core = client.CoreV1Api(kube_api)
    name = f"dk-test-{secrets.token_hex(4)}"
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    await core.delete_namespace(name)
