"""The services of an app (``GET /v2/apps/<id>/services``): which process types are reached
from the cluster or the router, on which port, and on which port their processes listen.

Only ``web`` is. The Kubernetes scheduler makes ``Service <app>-web`` while the release has a
web type: port 80 (TCP) to the web pods' ``PORT``, the config's ``PORT`` or else 5000
(``scheduler/kubernetes/manifests.py``: ``web_service``, ``web_port``; a test holds these
numbers together). The local router answers the app's hostnames on its HTTP port with the
web pods just the same; there each pod gets a port of its own, so ``target_port`` is the
one the app is configured for, as on Kubernetes. The service exists whatever the scale: a
stopped web type keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.releases import engine

WEB = "web"
SERVICE_PORT = 80
DEFAULT_WEB_PORT = 5000
PROTOCOL = "TCP"


@dataclass(frozen=True)
class ServicePort:
    procfile_type: str
    port: int
    protocol: str
    target_port: int

    def as_api(self) -> dict[str, Any]:
        return asdict(self)


def web_target_port(env: Mapping[str, str]) -> int:
    """The port web processes listen on: the config's ``PORT``, else 5000."""
    value = env.get("PORT", "")
    return int(value) if value.isascii() and value.isdigit() else DEFAULT_WEB_PORT


async def services(*, session: AsyncSession, app: App) -> list[ServicePort]:
    """The app's services, by process type; none before the first build or without web."""
    release = await engine.current_release(session, app)
    spec = await engine.spec_for(session, app, release)
    if spec is None or WEB not in spec.processes:
        return []
    return [ServicePort(WEB, SERVICE_PORT, PROTOCOL, web_target_port(spec.env))]
