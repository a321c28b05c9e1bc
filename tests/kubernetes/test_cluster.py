"""The test cluster itself works: the API answers with RBAC on, namespaces come and go, a
Deployment's pods are scheduled to the hollow node and become available, and Services and
networking.k8s.io/v1 Ingresses are accepted."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kubernetes.cluster import BINARIES, ClusterError, KubeTestCluster
from tests.kubernetes.node import PAUSE_IMAGE

pytestmark = pytest.mark.kubernetes

IMAGE = "k8s.gcr.io/pause:3.2"  # never pulled: the hollow node runs no containers


async def eventually(
    probe: Callable[[], Awaitable[bool]], within: float = 60.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.5)


def test_api_answers_and_node_is_ready(kube_cluster: KubeTestCluster) -> None:
    version = kube_cluster.get("/version")
    assert version["major"] == "1" and version["minor"].startswith("20")
    node = kube_cluster.get(f"/api/v1/nodes/{kube_cluster.node_name}")
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"
    assert kube_cluster.kubeconfig.is_file()
    assert kube_cluster.server.startswith("https://127.0.0.1:")


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 403), ("not-a-token", 401)],
    ids=["anonymous-is-forbidden-by-rbac", "unknown-token-is-unauthenticated"],
)
async def test_only_the_admin_token_gets_in(
    kube_cluster: KubeTestCluster, token: str | None, status: int
) -> None:
    configuration = client.Configuration(host=kube_cluster.server)
    configuration.ssl_ca_cert = str(kube_cluster.ca_file)
    if token:
        configuration.api_key = {"BearerToken": token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
    async with ApiClient(configuration) as api:
        with pytest.raises(ApiException) as info:
            await client.CoreV1Api(api).list_namespace()
    assert info.value.status == status


async def test_namespace_create_and_delete(kube_api: ApiClient) -> None:
    core = client.CoreV1Api(kube_api)
    name = f"dk-ns-{secrets.token_hex(4)}"
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    created = await core.read_namespace(name)
    assert created.status.phase == "Active"

    await core.delete_namespace(name)

    async def gone() -> bool:
        try:
            await core.read_namespace(name)
        except ApiException as exc:
            return exc.status == 404
        return False

    # The namespace controller empties it and removes the finalizer.
    await eventually(gone, what=f"namespace {name} to be deleted")


async def test_deployment_becomes_available_on_the_hollow_node(
    kube_cluster: KubeTestCluster, kube_api: ApiClient, kube_namespace: str
) -> None:
    apps = client.AppsV1Api(kube_api)
    core = client.CoreV1Api(kube_api)
    labels = {"app": "web"}
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web", labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels=labels),
            strategy=client.V1DeploymentStrategy(
                type="RollingUpdate",
                rolling_update=client.V1RollingUpdateDeployment(max_unavailable=0, max_surge=1),
            ),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[
                        client.V1Container(
                            name="web",
                            # The real node has only the images imported at its start.
                            image=IMAGE if kube_cluster.node is None else PAUSE_IMAGE,
                            image_pull_policy="IfNotPresent",
                            ports=[client.V1ContainerPort(container_port=5000)],
                            resources=client.V1ResourceRequirements(
                                requests={"cpu": "10m", "memory": "16Mi"}
                            ),
                        )
                    ]
                ),
            ),
        ),
    )
    await apps.create_namespaced_deployment(kube_namespace, deployment)

    async def available() -> bool:
        current = await apps.read_namespaced_deployment_status("web", kube_namespace)
        return (current.status.available_replicas or 0) == 2

    await eventually(available, what="2 available replicas")

    pods = await core.list_namespaced_pod(kube_namespace, label_selector="app=web")
    assert len(pods.items) == 2
    for pod in pods.items:
        assert pod.status.phase == "Running"
        assert pod.spec.node_name == kube_cluster.node_name

    # Scaling down goes through the same controllers.
    await apps.patch_namespaced_deployment_scale("web", kube_namespace, {"spec": {"replicas": 1}})

    async def one_pod() -> bool:
        current = await core.list_namespaced_pod(kube_namespace, label_selector="app=web")
        live = [p for p in current.items if p.metadata.deletion_timestamp is None]
        return len(live) == 1

    await eventually(one_pod, what="the deployment to scale down to 1 pod")


async def test_service_and_ingress_are_accepted(kube_api: ApiClient, kube_namespace: str) -> None:
    core = client.CoreV1Api(kube_api)
    networking = client.NetworkingV1Api(kube_api)
    service = client.V1Service(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1ServiceSpec(
            selector={"app": "web"},
            ports=[client.V1ServicePort(name="http", port=80, target_port=5000)],
        ),
    )
    created = await core.create_namespaced_service(kube_namespace, service)
    assert created.spec.cluster_ip

    ingress = client.V1Ingress(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1IngressSpec(
            tls=[client.V1IngressTLS(hosts=["app.example.test"], secret_name="app-tls")],
            rules=[
                client.V1IngressRule(
                    host="app.example.test",
                    http=client.V1HTTPIngressRuleValue(
                        paths=[
                            client.V1HTTPIngressPath(
                                path="/",
                                path_type="Prefix",
                                backend=client.V1IngressBackend(
                                    service=client.V1IngressServiceBackend(
                                        name="web", port=client.V1ServiceBackendPort(number=80)
                                    )
                                ),
                            )
                        ]
                    ),
                )
            ],
        ),
    )
    await networking.create_namespaced_ingress(kube_namespace, ingress)
    read = await networking.read_namespaced_ingress("web", kube_namespace)
    assert read.spec.rules[0].host == "app.example.test"
    assert read.spec.rules[0].http.paths[0].backend.service.port.number == 80


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry))
    return found


def test_a_cluster_failing_halfway_leaves_no_process(
    kube_cluster: KubeTestCluster, tmp_path: Path
) -> None:
    """etcd, the API server, the controller manager and the scheduler are up when the
    node fails: start() raises with the node's log, and every one of them is gone."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in BINARIES:
        (bin_dir / name).symlink_to(kube_cluster.bin_dir / name)
    (bin_dir / "kubemark").unlink()
    (bin_dir / "kubemark").write_text("#!/bin/sh\necho 'hollow node refuses to start'\nexit 3\n")
    (bin_dir / "kubemark").chmod(0o755)
    workdir = tmp_path / "cluster"
    workdir.mkdir()

    cluster = KubeTestCluster(bin_dir=bin_dir, workdir=workdir)
    with pytest.raises(ClusterError, match="hollow node refuses to start"):
        cluster.start(timeout=60)

    assert _processes_mentioning(str(workdir)) == []
    assert (workdir / "logs" / "kube-apiserver.log").stat().st_size > 0


PYTHON_BASE = "docker.io/dockyard/python-base:1"  # built on the machine (oci_image.py)
SERVE = (
    "import http.server, sys\n"
    "print('serving on 8080', flush=True)\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = b'hello from the pod'\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(body)\n"
    "http.server.HTTPServer(('0.0.0.0', 8080), H).serve_forever()\n"
)


async def test_a_pod_on_the_real_node_serves_http_and_logs(
    kube_cluster: KubeTestCluster, kube_api: ApiClient, kube_namespace: str
) -> None:
    """On the real node (DOCKYARD_KUBE_NODE=real): a pod of the Python base image serves
    HTTP at its pod IP on the CNI bridge, and its stdout comes back through the API."""
    if kube_cluster.node is None:
        pytest.skip("the hollow node runs no containers (set DOCKYARD_KUBE_NODE=real)")
    core = client.CoreV1Api(kube_api)
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="web",
                    image=PYTHON_BASE,
                    image_pull_policy="Never",
                    command=["python3", "-c", SERVE],
                )
            ]
        ),
    )

    async def token_made() -> bool:  # pods are refused until the namespace has its token
        account = await core.read_namespaced_service_account("default", kube_namespace)
        return bool(account.secrets)

    await eventually(token_made, what="the default service account's token")
    await core.create_namespaced_pod(kube_namespace, pod)

    async def serving() -> bool:
        status = (await core.read_namespaced_pod("web", kube_namespace)).status
        return status.phase == "Running" and bool(status.pod_ip)

    await eventually(serving, within=90, what="the pod to run")
    pod_ip = (await core.read_namespaced_pod("web", kube_namespace)).status.pod_ip
    assert pod_ip.startswith("10.244.")

    def get() -> str:
        with urllib.request.urlopen(f"http://{pod_ip}:8080/", timeout=2) as response:
            return response.read().decode()

    async def answers() -> bool:
        try:
            return await asyncio.to_thread(get) == "hello from the pod"
        except OSError:
            return False

    await eventually(answers, within=30, what=f"HTTP from the pod at {pod_ip}")
    logs = await core.read_namespaced_pod_log("web", kube_namespace)
    assert "serving on 8080" in logs
