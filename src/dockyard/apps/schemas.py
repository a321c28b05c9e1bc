"""Request bodies and response shapes for apps and collaborators."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dockyard.apps.models import App
from dockyard.core.timefmt import iso


class AppCreateIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str | None = Field(default=None, max_length=256)


class AppUpdateIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    owner: str | None = Field(default=None, max_length=150)


class AppOut(BaseModel):
    uuid: str
    id: str
    owner: str
    structure: dict[str, int]
    url: str
    created: str
    updated: str


class PermsOut(BaseModel):
    users: list[str]


def app_out(app: App, owner: str, domain: str) -> dict[str, Any]:
    return {
        "uuid": app.uuid,
        "id": app.id,
        "owner": owner,
        "structure": app.structure or {},
        "url": f"{app.id}.{domain}",
        "created": iso(app.created),
        "updated": iso(app.updated),
    }
