"""The services of an app (``GET /v2/apps/<id>/services``): which process types are reached
from the cluster or the router, on which port, and on which port their processes listen.

Only ``web`` is. The Kubernetes scheduler makes ``Service <app>-web`` while the release has a
web type: port 80 (TCP) to the web pods' ``PORT``, the config's ``PORT`` or else 5000
(``scheduler/kubernetes/manifests.py``: ``web_service``; both take the port from
``scheduler.parse.web_port``). The local router answers the app's hostnames on its HTTP
port with the web pods just the same; there each pod gets a port of its own, so
``target_port`` is the one the app is configured for, as on Kubernetes. The service exists
whatever the scale: a stopped web type keeps it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.releases import engine
from dockyard.scheduler.parse import web_port

WEB = "web"
SERVICE_PORT = 80
PROTOCOL = "TCP"


@dataclass(frozen=True)
class ServicePort:
    procfile_type: str
    port: int
    protocol: str
    target_port: int

    def as_api(self) -> dict[str, Any]:
        return asdict(self)


async def services(*, session: AsyncSession, app: App) -> list[ServicePort]:
    """The app's services, by process type; none before the first build or without web."""
    release = await engine.current_release(session, app)
    spec = await engine.spec_for(session, app, release)
    if spec is None or WEB not in spec.processes:
        return []
    return [ServicePort(WEB, SERVICE_PORT, PROTOCOL, web_port(spec.env))]
