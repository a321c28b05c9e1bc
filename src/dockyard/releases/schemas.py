"""Request bodies and response shapes for config, builds and releases."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dockyard.core.timefmt import iso
from dockyard.releases.models import Build, Config, Release


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


class ConfigIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    values: dict[str, Any] | None = None
    memory: dict[str, Any] | None = None
    cpu: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None
    registry: dict[str, Any] | None = None
    healthcheck: dict[str, Any] | None = None


class ConfigOut(BaseModel):
    uuid: str
    app: str
    owner: str
    values: dict[str, str]
    memory: dict[str, str]
    cpu: dict[str, str]
    tags: dict[str, str]
    registry: dict[str, str]
    healthcheck: dict[str, Any]
    created: str
    updated: str


class BuildIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    image: str = Field(max_length=4096)
    procfile: dict[str, Any] | None = None
    sha: str = Field(default="", max_length=64)
    dockerfile: str = Field(default="", max_length=65536)


class BuildOut(BaseModel):
    uuid: str
    app: str
    owner: str
    image: str
    sha: str
    procfile: dict[str, str]
    dockerfile: str
    created: str
    updated: str
    status: str
    buildpack: str


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: int | None = None


class VersionOut(BaseModel):
    version: int


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


def masked_registry(registry: dict[str, Any]) -> dict[str, Any]:
    """Registry credentials are secrets: a password is never sent back."""
    return {k: ("********" if "password" in k.lower() else v) for k, v in registry.items()}


def config_out(config: Config, app_id: str) -> dict[str, Any]:
    return {
        "uuid": config.uuid,
        "app": app_id,
        "owner": config.owner,
        "values": dict(config.values or {}),
        "memory": dict(config.memory or {}),
        "cpu": dict(config.cpu or {}),
        "tags": dict(config.tags or {}),
        "registry": masked_registry(config.registry_info or {}),
        "healthcheck": dict(config.healthcheck or {}),
        "created": iso(config.created),
        "updated": iso(config.updated),
    }


def build_out(build: Build, app_id: str) -> dict[str, Any]:
    return {
        "uuid": build.uuid,
        "app": app_id,
        "owner": build.owner,
        "image": build.image,
        "sha": build.sha,
        "procfile": dict(build.procfile or {}),
        "dockerfile": build.dockerfile,
        "created": iso(build.created),
        "updated": iso(build.updated),
        "status": build.status,
        "buildpack": build.buildpack,
    }
