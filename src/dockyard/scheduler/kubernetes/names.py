"""Names and labels of the objects the kubernetes scheduler keeps in an app's namespace.

Every object lives in the namespace named after the app. A process type is the Deployment
``<app>-<type>``; its pods carry the labels ``app``, ``type`` and ``version`` (``v<N>``), and
one-off runs carry ``app`` and :data:`RUN_LABEL` but no ``type``, so the pods list never shows
them. Pod names keep the shape ``<app>-<type>-<digits>-<5 chars>`` that the Deis CLI parses
(see :func:`template_hash`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

APP = "app"
TYPE = "type"
VERSION = "version"
HERITAGE = "heritage"
HERITAGE_VALUE = "dockyard"
RUN_LABEL = "dockyard.io/run"
COMPONENT = "dockyard.io/component"
TEMPLATE_HASH = "dockyard.io/template-hash"
POD_TEMPLATE_HASH = "pod-template-hash"
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
EVENTS_CONFIGMAP = "dockyard-events"
# A note on that ConfigMap: the env Secrets of releases up to this number have been pruned.
ENV_PRUNED = "dockyard.io/env-secrets-pruned-through"


def namespace(app: str) -> str:
    return app


def deployment(app: str, ptype: str) -> str:
    return f"{app}-{ptype}"


def env_secret(app: str, version: int) -> str:
    """Config of one release: pods of an older ReplicaSet keep reading their own."""
    return f"{app}-v{version}-env"


def registry_secret(app: str) -> str:
    return f"{app}-registry"


def web_service(app: str) -> str:
    return f"{app}-web"


def maintenance_service(app: str) -> str:
    return f"{app}-maintenance"


def ingress(app: str) -> str:
    return app


def tls_secret(app: str, cert: str) -> str:
    return f"{app}-tls-{cert}"


def hpa(app: str, ptype: str) -> str:
    return f"{app}-{ptype}"


def template_hash(template: dict[str, Any]) -> str:
    """Ten decimal digits derived from a pod template. Kubernetes names a Deployment's pods
    ``<replicaset>-<5 chars>`` and its own ReplicaSets ``<deployment>-<hash>`` with letters in
    the hash since 1.8; the Deis CLI wants digits there (``[0-9]{8,10}-[a-z0-9]{5}$``). So the
    scheduler creates each ReplicaSet itself under this name and lets the Deployment adopt it
    (see ``scheduler.py``)."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    number = int.from_bytes(hashlib.sha256(canonical).digest()[:8], "big")
    return str(number % 9_000_000_000 + 1_000_000_000)


def run_pod(app: str) -> str:
    """One-off pods: ``<app>-run-<digits>-<5 chars>``, like the local backend's."""
    digits = str(secrets.randbelow(9 * 10**8) + 10**8)
    suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(5))
    return f"{app}-run-{digits}-{suffix}"


def process_selector(app: str, ptype: str | None = None) -> str:
    """Label selector of an app's process pods (all types, or one)."""
    return f"{APP}={app},{TYPE}={ptype}" if ptype else f"{APP}={app},{TYPE}"
