"""Response shapes for releases."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from dockyard.core.timefmt import iso
from dockyard.releases.models import Release


class ReleaseOut(BaseModel):
    uuid: str
    app: str
    owner: str
    version: int
    summary: str
    failed: bool
    config: str
    build: str | None
    created: str
    updated: str


def release_out(release: Release, app_id: str) -> dict[str, Any]:
    return {
        "uuid": release.uuid,
        "app": app_id,
        "owner": release.owner,
        "version": release.version,
        "summary": release.summary,
        "failed": release.failed,
        "config": release.config_uuid,
        "build": release.build_uuid,
        "created": iso(release.created),
        "updated": iso(release.updated),
    }
