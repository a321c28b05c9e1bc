"""Request bodies and response shapes for apps and collaborators."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

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


class AppFields(Protocol):
    """What an app's representation is made of: an ``App`` row, or the plain columns the
    app list selects (loading ORM objects there cost more than the rest of the request)."""

    @property
    def uuid(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def structure(self) -> dict[str, Any]: ...
    @property
    def created(self) -> datetime: ...
    @property
    def updated(self) -> datetime: ...


def app_out(app: AppFields, owner: str, domain: str) -> dict[str, Any]:
    return {
        "uuid": app.uuid,
        "id": app.id,
        "owner": owner,
        "structure": app.structure or {},
        "url": f"{app.id}.{domain}",
        "created": iso(app.created),
        "updated": iso(app.updated),
    }
