"""The kubernetes scheduler's pure parts: manifests, names, pod states and the log format."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

import pytest

from dockyard.scheduler.base import (
    Cpu,
    Memory,
    PodState,
    ReleaseSpec,
    RouteSpec,
    RunSpec,
    TLSCertificate,
)
from dockyard.scheduler.kubernetes import eventlog, ingress, manifests, names, states
from dockyard.scheduler.parse import build_processes, parse_cpu, parse_memory


def release(**overrides: Any) -> ReleaseSpec:
    fields: dict[str, Any] = {
        "app": "shop",
        "version": 3,
        "processes": build_processes(
            {"web": "gunicorn -b 0.0.0.0:$PORT app", "worker": "celery worker"},
            memory={"web": "256M/1G"},
            cpu={"web": "250m/1", "worker": "500m"},
            healthcheck={
                "web": {
                    "readinessProbe": {
                        "httpGet": {"path": "/health", "port": 5000},
                        "periodSeconds": 2,
                    },
                    "livenessProbe": {"tcpSocket": {"port": 5000}, "initialDelaySeconds": 5},
                },
                "worker": {"readinessProbe": {"exec": {"command": ["cat", "/tmp/ok"]}}},
            },
        ),
        "env": {"GREETING": "hi"},
        "image": "registry.example.com:5000/shop/web:1.2",
        "summary": "alice deployed 1.2",
        "created": datetime(2026, 1, 2, 3, 4, 5),
        "sha": "abc1234",
        "tags": {"disk": "ssd"},
        "grace_period": 12.5,
    }
    fields.update(overrides)
    return ReleaseSpec(**fields)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("text", "quantity"),
    [("512M", "512Mi"), ("1G", "1Gi"), ("100K", "100Ki"), ("1500B", "1500"), ("2048M", "2Gi")],
)
def test_memory_quantities(text: str, quantity: str) -> None:
    assert manifests.memory_quantity(parse_memory(text).limit) == quantity


def test_resources_requests_and_limits() -> None:
    assert manifests.resources(parse_memory("256M/1G"), parse_cpu("250m/1")) == {
        "limits": {"memory": "1Gi", "cpu": "1000m"},
        "requests": {"memory": "256Mi", "cpu": "250m"},
    }
    assert manifests.resources(Memory(limit=512 * 1024**2), Cpu(limit=500)) == {
        "limits": {"memory": "512Mi", "cpu": "500m"}
    }
    assert manifests.resources(None, None) == {}


def test_pod_template() -> None:
    spec = release()
    template = manifests.pod_template(spec, "web", pull_secret=True)
    assert template["metadata"]["labels"] == {
        "app": "shop",
        "type": "web",
        "version": "v3",
        "heritage": "dockyard",
    }
    pod = template["spec"]
    assert pod["terminationGracePeriodSeconds"] == 13
    assert pod["nodeSelector"] == {"disk": "ssd"}
    assert pod["imagePullSecrets"] == [{"name": "shop-registry"}]
    assert pod["automountServiceAccountToken"] is False
    (web,) = pod["containers"]
    assert web["image"] == "registry.example.com:5000/shop/web:1.2"
    assert web["command"] == ["/bin/sh", "-c", "gunicorn -b 0.0.0.0:$PORT app"]
    assert web["envFrom"] == [{"secretRef": {"name": "shop-v3-env"}}]
    assert web["env"] == [{"name": "PORT", "value": "5000"}]
    assert web["ports"] == [{"name": "http", "containerPort": 5000, "protocol": "TCP"}]
    assert web["resources"] == {
        "limits": {"memory": "1Gi", "cpu": "1000m"},
        "requests": {"memory": "256Mi", "cpu": "250m"},
    }
    assert web["readinessProbe"] == {
        "httpGet": {"path": "/health", "port": 5000, "scheme": "HTTP"},
        "initialDelaySeconds": 0,
        "periodSeconds": 2,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert web["livenessProbe"]["tcpSocket"] == {"port": 5000}
    assert web["livenessProbe"]["initialDelaySeconds"] == 5
    worker = manifests.pod_template(spec, "worker")["spec"]["containers"][0]
    assert worker["readinessProbe"]["exec"] == {"command": ["cat", "/tmp/ok"]}
    assert "env" not in worker and "ports" not in worker and "livenessProbe" not in worker
    assert worker["resources"] == {"limits": {"cpu": "500m"}}
    assert "imagePullSecrets" not in manifests.pod_template(spec, "worker")["spec"]


def test_a_config_port_wins_and_the_image_command_is_kept() -> None:
    spec = release(
        env={"PORT": "8080"}, processes=build_processes({"web": ""}), tags={}, grace_period=30
    )
    (web,) = manifests.pod_template(spec, "web")["spec"]["containers"]
    assert "command" not in web and "env" not in web  # PORT comes from the Secret
    assert web["ports"][0]["containerPort"] == 8080
    assert manifests.web_service("shop", manifests.web_port(spec))["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
    ]
    assert "nodeSelector" not in manifests.pod_template(spec, "web")["spec"]


def test_env_secret_holds_the_injected_variables_and_the_config() -> None:
    secret = manifests.env_secret(release(env={"GREETING": "hi", "DEIS_APP": "mine"}))
    assert secret["metadata"]["name"] == "shop-v3-env"
    assert secret["metadata"]["labels"]["version"] == "v3"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == {
        "DEIS_APP": "mine",
        "DRYCC_APP": "shop",
        "GREETING": "hi",
        "SOURCE_VERSION": "abc1234",
        "WORKFLOW_RELEASE": "v3",
        "WORKFLOW_RELEASE_CREATED_AT": "2026-01-02T03:04:05Z",
        "WORKFLOW_RELEASE_SUMMARY": "alice deployed 1.2",
    }


@pytest.mark.parametrize(
    ("image", "host"),
    [
        ("registry.example.com:5000/shop/web:1.2", "registry.example.com:5000"),
        ("localhost/app", "localhost"),
        ("library/nginx:1", manifests.DOCKER_HUB),
        ("nginx", manifests.DOCKER_HUB),
        ("ghcr.io/me/app@sha256:abc", "ghcr.io"),
    ],
)
def test_registry_host(image: str, host: str) -> None:
    assert manifests.registry_host(image) == host


def test_registry_secret() -> None:
    assert manifests.registry_secret("shop", {}, "nginx") is None
    assert manifests.registry_secret("shop", {"username": "u"}, "nginx") is None
    secret = manifests.registry_secret("shop", {"username": "u", "password": "p w"}, "ghcr.io/x")
    assert secret is not None
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert config == {
        "auths": {"ghcr.io": {"username": "u", "password": "p w", "auth": b64("u:p w")}}
    }
    other = manifests.registry_secret(
        "shop", {"username": "u", "password": "p", "hostname": "r.io"}, "x"
    )
    assert other is not None
    assert "r.io" in json.loads(base64.b64decode(other["data"][".dockerconfigjson"]))["auths"]


def test_registry_password_stays_out_of_the_spec_repr() -> None:
    spec = release(registry={"username": "u", "password": "hunter2"})
    assert "hunter2" not in repr(spec)


def test_deployment_and_replica_set() -> None:
    spec = release()
    template = manifests.pod_template(spec, "web")
    deploy = manifests.deployment(spec, "web", template, replicas=3, paused=True, min_ready=2)
    assert deploy["metadata"]["name"] == "shop-web"
    assert deploy["metadata"]["namespace"] == "shop"
    assert deploy["metadata"]["labels"] == {"app": "shop", "heritage": "dockyard", "type": "web"}
    s = deploy["spec"]
    assert s["replicas"] == 3 and s["paused"] is True and s["minReadySeconds"] == 2
    assert s["selector"] == {"matchLabels": {"app": "shop", "type": "web"}}
    assert s["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert s["revisionHistoryLimit"] == manifests.REVISION_HISTORY
    digits = names.template_hash(template)
    assert re.fullmatch(r"\d{10}", digits)
    assert deploy["metadata"]["annotations"] == {names.TEMPLATE_HASH: digits}
    deploy["metadata"]["uid"] = "u-1"
    rs = manifests.replica_set(deploy, template)
    assert rs["metadata"]["name"] == f"shop-web-{digits}"
    assert rs["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == digits
    labels = rs["spec"]["template"]["metadata"]["labels"]
    assert labels == {**template["metadata"]["labels"], "pod-template-hash": digits}
    assert rs["spec"]["template"]["spec"] == template["spec"]
    assert "pod-template-hash" not in template["metadata"]["labels"]  # not mutated


def test_template_hash_follows_the_template() -> None:
    a = manifests.pod_template(release(), "web")
    b = manifests.pod_template(release(version=4), "web")
    assert names.template_hash(a) == names.template_hash(manifests.pod_template(release(), "web"))
    assert names.template_hash(a) != names.template_hash(b)


def test_ingress() -> None:
    cert = TLSCertificate(name="shop-cert", certificate="CERT", key="KEY", hosts=("shop.com",))
    route = RouteSpec(
        app="shop",
        hosts=("shop.example.test", "shop.com", "*.shop.io"),
        certificates=(cert,),
        https_enforced=True,
        whitelist=("10.0.0.0/8", "1.2.3.4"),
    )
    published = ingress.ingress(route, ingress_class="nginx")
    assert published["apiVersion"] == "networking.k8s.io/v1"
    assert published["spec"]["ingressClassName"] == "nginx"
    assert [r["host"] for r in published["spec"]["rules"]] == list(route.hosts)
    backend = published["spec"]["rules"][0]["http"]["paths"][0]
    assert backend == {
        "path": "/",
        "pathType": "Prefix",
        "backend": {"service": {"name": "shop-web", "port": {"number": 80}}},
    }
    assert published["spec"]["tls"] == [{"hosts": ["shop.com"], "secretName": "shop-tls-shop-cert"}]
    notes = published["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    assert notes["nginx.ingress.kubernetes.io/whitelist-source-range"] == "10.0.0.0/8,1.2.3.4"
    plain = ingress.ingress(
        RouteSpec(app="shop", hosts=("a.b",), maintenance=True), ingress_class=""
    )
    assert "ingressClassName" not in plain["spec"] and "tls" not in plain["spec"]
    assert plain["metadata"]["annotations"] == {
        "nginx.ingress.kubernetes.io/ssl-redirect": "false",
        "nginx.ingress.kubernetes.io/force-ssl-redirect": "false",
    }
    service = plain["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
    assert service == "shop-maintenance"
    secret = ingress.tls_secret("shop", cert)
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["data"] == {"tls.crt": b64("CERT"), "tls.key": b64("KEY")}


def test_hpa_and_run_pod() -> None:
    hpa = manifests.hpa("shop", "web", minimum=2, maximum=5, cpu_percent=70)
    assert hpa["apiVersion"] == "autoscaling/v1"
    assert hpa["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-web"},
        "minReplicas": 2,
        "maxReplicas": 5,
        "targetCPUUtilizationPercentage": 70,
    }
    name = names.run_pod("shop")
    assert re.fullmatch(r"shop-run-\d{9}-[a-z0-9]{5}", name)
    pod = manifests.run_pod(RunSpec(release(), "echo hi"), name, timeout=9.5)
    assert pod["metadata"]["labels"][names.RUN_LABEL] == "true"
    assert names.TYPE not in pod["metadata"]["labels"]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["activeDeadlineSeconds"] == 10
    (c,) = pod["spec"]["containers"]
    assert c["command"] == ["/bin/sh", "-c", "echo hi"]
    assert "readinessProbe" not in c and "ports" not in c


def pod(
    phase: str = "Running", *, ready: bool = False, waiting: str = "", **extra: Any
) -> dict[str, Any]:
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [{"state": state, "restartCount": extra.pop("restarts", 0)}],
        "startTime": "2026-01-01T00:00:01Z",
    }
    status.update(extra.pop("status", {}))
    meta = {"name": "shop-web-1234567890-abcde", "labels": {"type": "web", "version": "v2"}}
    meta.update(extra.pop("meta", {}))
    return {"metadata": meta, "spec": {"nodeName": extra.pop("node", "n1")}, "status": status}


@pytest.mark.parametrize(
    ("obj", "state"),
    [
        (pod(ready=True), PodState.up),
        (pod(), PodState.starting),
        (pod("Pending", node=""), PodState.initializing),
        (pod("Pending", waiting="ContainerCreating"), PodState.creating),
        (pod("Pending", waiting="ErrImagePull"), PodState.error),
        (pod("Pending", waiting="ImagePullBackOff"), PodState.error),
        (pod("Pending", waiting="CreateContainerConfigError"), PodState.error),
        (pod(waiting="CrashLoopBackOff"), PodState.crashed),
        (pod("Succeeded"), PodState.down),
        (pod("Failed"), PodState.crashed),
        (pod("Failed", status={"reason": "Evicted"}), PodState.error),
        (pod("Unknown"), PodState.error),
        (pod(ready=True, meta={"deletionTimestamp": "2026-01-01T00:00:00Z"}), PodState.terminating),
    ],
)
def test_pod_states(obj: dict[str, Any], state: PodState) -> None:
    assert states.pod_state(obj) == state


def test_pod_status_and_failure_reasons() -> None:
    status = states.pod_status(pod(ready=True))
    assert (status.name, status.type, status.release, status.state) == (
        "shop-web-1234567890-abcde",
        "web",
        "v2",
        PodState.up,
    )
    assert status.started == datetime(2026, 1, 1, 0, 0, 1)
    assert states.fatal(pod(ready=True)) is None
    assert states.fatal(pod("Pending", waiting="ErrImagePull")) is None  # may still work
    assert "ImagePullBackOff" in (states.fatal(pod("Pending", waiting="ImagePullBackOff")) or "")
    assert states.fatal(pod(restarts=2)) is not None
    events = [
        {
            "involvedObject": {"name": "shop-web-1234567890-abcde"},
            "type": "Warning",
            "reason": "Unhealthy",
            "message": "Readiness probe failed: connection refused",
            "lastTimestamp": "2026-01-01T00:00:02Z",
        },
        {"involvedObject": {"name": "other"}, "type": "Warning", "reason": "X", "message": "y"},
        {
            "involvedObject": {"name": "shop-web-1234567890-abcde"},
            "type": "Normal",
            "reason": "Pulled",
        },
    ]
    assert (
        states.explain([pod()], events) == "Unhealthy: Readiness probe failed: connection refused"
    )


def test_parse_time() -> None:
    assert states.parse_time("2026-01-01T00:00:00.123456789Z") == datetime(
        2026, 1, 1, 0, 0, 0, 123456
    )
    assert states.parse_time("2026-01-01T00:00:00Z") == datetime(2026, 1, 1)
    assert states.parse_time(None) is None


def test_log_lines_merge_in_time_order() -> None:
    pods = eventlog.pod_entries(
        "2026-01-01T00:00:01.5Z tick 1\n2026-01-01T00:00:03.000000001Z tick 2\nnot a line\n",
        "worker.1",
    )
    events = [(datetime(2026, 1, 1, 0, 0, 2), "dockyard", "alice scaled worker=1")]
    text = eventlog.merge("shop", [events, pods], 100)
    assert text.splitlines() == [
        "2026-01-01T00:00:01Z shop[worker.1]: tick 1",
        "2026-01-01T00:00:02Z shop[dockyard]: alice scaled worker=1",
        "2026-01-01T00:00:03Z shop[worker.1]: tick 2",
    ]
    assert (
        eventlog.merge("shop", [events, pods], 1) == "2026-01-01T00:00:03Z shop[worker.1]: tick 2\n"
    )
    assert eventlog.merge("shop", [], 10) == ""
