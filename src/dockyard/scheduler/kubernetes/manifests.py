"""Kubernetes manifests as plain dicts, built from the scheduler's frozen dataclasses.

Pure functions, no I/O: what the scheduler sends is decided here and tested without a cluster.
The shapes are the API's own JSON (camelCase), for apps/v1 Deployments and ReplicaSets, v1
Namespaces, Secrets, Services, ConfigMaps and Pods, networking.k8s.io/v1 Ingresses and
autoscaling/v1 HorizontalPodAutoscalers.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

from dockyard.scheduler import parse
from dockyard.scheduler.base import (
    Cpu,
    Exec,
    HttpGet,
    Memory,
    Probe,
    ProcessSpec,
    ReleaseSpec,
    RunSpec,
    TcpSocket,
    release_env,
)
from dockyard.scheduler.kubernetes import names

Object = dict[str, Any]

REVISION_HISTORY = 5
MAX_SURGE = "25%"
SHELL = ("/bin/sh", "-c")
DOCKER_HUB = "https://index.docker.io/v1/"
_UNITS = (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024))


def meta(name: str, app: str, **labels: str) -> Object:
    return {
        "name": name,
        "namespace": names.namespace(app),
        "labels": {names.APP: app, names.HERITAGE: names.HERITAGE_VALUE, **labels},
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def memory_quantity(value: int) -> str:
    """Bytes as a Kubernetes quantity: ``536870912`` is ``512Mi``."""
    for suffix, size in _UNITS:
        if value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)


def cpu_quantity(millicores: int) -> str:
    return f"{millicores}m"


def resources(memory: Memory | None, cpu: Cpu | None) -> Object:
    """Requests and limits. With no request given Kubernetes requests the limit."""
    result: dict[str, dict[str, str]] = {}
    for key, value, fmt in (("memory", memory, memory_quantity), ("cpu", cpu, cpu_quantity)):
        if value is None:
            continue
        result.setdefault("limits", {})[key] = fmt(value.limit)
        if value.request is not None:
            result.setdefault("requests", {})[key] = fmt(value.request)
    return result


def probe(spec: Probe) -> Object:
    action = spec.action
    result: Object
    if isinstance(action, HttpGet):
        get: Object = {"path": action.path, "port": action.port, "scheme": action.scheme}
        if action.host:
            get["host"] = action.host
        if action.headers:
            get["httpHeaders"] = [{"name": n, "value": v} for n, v in action.headers]
        result = {"httpGet": get}
    elif isinstance(action, TcpSocket):
        tcp: Object = {"port": action.port}
        if action.host:
            tcp["host"] = action.host
        result = {"tcpSocket": tcp}
    else:
        assert isinstance(action, Exec)
        result = {"exec": {"command": list(action.command)}}
    result.update(
        initialDelaySeconds=math.ceil(spec.initial_delay),
        periodSeconds=max(1, math.ceil(spec.period)),
        timeoutSeconds=max(1, math.ceil(spec.timeout)),
        successThreshold=spec.success_threshold,
        failureThreshold=spec.failure_threshold,
    )
    return result


def web_port(release: ReleaseSpec) -> int:
    """The port web pods listen on: the config's ``PORT``, else 5000."""
    return parse.web_port(release.env)


def namespace(app: str) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": names.namespace(app),
            "labels": {names.APP: app, names.HERITAGE: names.HERITAGE_VALUE},
        },
    }


def env_secret(release: ReleaseSpec) -> Object:
    """The release's environment (injected variables overridden by the config values)."""
    env = release_env(release)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": meta(
            names.env_secret(release.app, release.version),
            release.app,
            **{names.VERSION: release.label, names.COMPONENT: "env"},
        ),
        "data": {k: b64(v) for k, v in sorted(env.items())},
    }


def registry_host(image: str) -> str:
    """The registry an image reference names (Docker Hub when the first part is no host)."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def registry_secret(app: str, registry: Mapping[str, str], image: str) -> Object | None:
    """An image pull secret from the config's ``registry`` (``username``, ``password``, and
    optionally ``hostname``), or None when it holds no credentials."""
    username, password = registry.get("username", ""), registry.get("password", "")
    if not username or not password:
        return None
    host = registry.get("hostname") or registry_host(image)
    auth = b64(f"{username}:{password}")
    config = {"auths": {host: {"username": username, "password": password, "auth": auth}}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": meta(names.registry_secret(app), app, **{names.COMPONENT: "registry"}),
        "data": {".dockerconfigjson": b64(json.dumps(config, sort_keys=True))},
    }


def container(release: ReleaseSpec, proc: ProcessSpec, *, command: str | None = None) -> Object:
    assert release.image, "the kubernetes scheduler runs container images"
    result: Object = {
        "name": proc.type,
        "image": release.image,
        "envFrom": [{"secretRef": {"name": names.env_secret(release.app, release.version)}}],
    }
    line = proc.command if command is None else command
    if line:
        result["command"] = [*SHELL, line]
    if proc.type == "web" and command is None:
        port = web_port(release)
        result["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        if "PORT" not in release.env:  # a user value of PORT (in the Secret) wins
            result["env"] = [{"name": "PORT", "value": str(port)}]
    if command is None:
        if proc.readiness is not None:
            result["readinessProbe"] = probe(proc.readiness)
        if proc.liveness is not None:
            result["livenessProbe"] = probe(proc.liveness)
    limits = resources(proc.memory, proc.cpu)
    if limits:
        result["resources"] = limits
    return result


def _pod_spec(release: ReleaseSpec, containers: list[Object], *, pull_secret: bool) -> Object:
    spec: Object = {
        "containers": containers,
        "terminationGracePeriodSeconds": math.ceil(release.grace_period),
        "automountServiceAccountToken": False,
    }
    if release.tags:
        spec["nodeSelector"] = dict(sorted(release.tags.items()))
    if pull_secret:
        spec["imagePullSecrets"] = [{"name": names.registry_secret(release.app)}]
    return spec


def pod_template(release: ReleaseSpec, ptype: str, *, pull_secret: bool = False) -> Object:
    proc = release.processes[ptype]
    return {
        "metadata": {
            "labels": {
                names.APP: release.app,
                names.TYPE: ptype,
                names.VERSION: release.label,
                names.HERITAGE: names.HERITAGE_VALUE,
            }
        },
        "spec": _pod_spec(release, [container(release, proc)], pull_secret=pull_secret),
    }


def deployment(
    release: ReleaseSpec,
    ptype: str,
    template: Object,
    *,
    replicas: int,
    paused: bool = False,
    min_ready: int = 1,
) -> Object:
    """The Deployment of one process type: rolls with maxUnavailable 0, so a web type never
    drops below its count, and keeps :data:`REVISION_HISTORY` old ReplicaSets. A new pod must
    stay ready ``min_ready`` seconds before an old one is stopped: without it, a container
    that crashes right after starting counts as available for a moment, which is enough for
    the controller to stop a pod of the previous release."""
    app = release.app
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            **meta(names.deployment(app, ptype), app, **{names.TYPE: ptype}),
            "annotations": {names.TEMPLATE_HASH: names.template_hash(template)},
        },
        "spec": {
            "replicas": replicas,
            "paused": paused,
            "selector": {"matchLabels": {names.APP: app, names.TYPE: ptype}},
            "revisionHistoryLimit": REVISION_HISTORY,
            "minReadySeconds": min_ready,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": MAX_SURGE, "maxUnavailable": 0},
            },
            "template": template,
        },
    }


def replica_set(deploy: Object, template: Object) -> Object:
    """A ReplicaSet for ``template`` named ``<deployment>-<digits>``, owned by ``deploy`` (a
    Deployment as read back, with its uid). Its template equals the Deployment's but for the
    ``pod-template-hash`` label, which is how the Deployment controller adopts it."""
    digits = names.template_hash(template)
    meta = deploy["metadata"]
    labels = {**template["metadata"]["labels"], names.POD_TEMPLATE_HASH: digits}
    selector = {**deploy["spec"]["selector"]["matchLabels"], names.POD_TEMPLATE_HASH: digits}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta['name']}-{digits}",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": selector},
            "template": {**template, "metadata": {**template["metadata"], "labels": labels}},
        },
    }


def web_service(app: str, port: int) -> Object:
    """Port 80 of the Service reaches the web pods' ``PORT``."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(names.web_service(app), app, **{names.TYPE: "web"}),
        "spec": {
            "type": "ClusterIP",
            "selector": {names.APP: app, names.TYPE: "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": port, "protocol": "TCP"}],
        },
    }


def hpa(app: str, ptype: str, *, minimum: int, maximum: int, cpu_percent: int) -> Object:
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta(names.hpa(app, ptype), app, **{names.TYPE: ptype}),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": names.deployment(app, ptype),
            },
            "minReplicas": minimum,
            "maxReplicas": maximum,
            "targetCPUUtilizationPercentage": cpu_percent,
        },
    }


def run_pod(spec: RunSpec, name: str, *, timeout: float, pull_secret: bool = False) -> Object:
    """A one-off pod: the release's image and env, ``restartPolicy: Never``, killed by the
    kubelet after ``timeout`` seconds (``activeDeadlineSeconds``)."""
    release = spec.release
    proc = ProcessSpec(type="run", command=spec.command)
    pod_spec = _pod_spec(
        release, [container(release, proc, command=spec.command)], pull_secret=pull_secret
    )
    pod_spec["restartPolicy"] = "Never"
    pod_spec["activeDeadlineSeconds"] = max(1, math.ceil(timeout))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(
            name, release.app, **{names.VERSION: release.label, names.RUN_LABEL: "true"}
        ),
        "spec": pod_spec,
    }


def events_configmap(app: str, events: list[list[str]]) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(names.EVENTS_CONFIGMAP, app, **{names.COMPONENT: "events"}),
        "data": {"events.json": json.dumps(events, separators=(",", ":"))},
    }
