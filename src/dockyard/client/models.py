"""The shapes the controller answers with, as ``TypedDict``s: plain dicts (ready for
``--json``) that mypy can still check."""

from __future__ import annotations

from typing import Any, TypedDict


class User(TypedDict):
    id: int
    last_login: str | None
    is_superuser: bool
    username: str
    first_name: str
    last_name: str
    email: str
    is_staff: bool
    is_active: bool
    date_joined: str
    groups: list[Any]
    user_permissions: list[Any]


class Admin(TypedDict):
    username: str
    is_superuser: bool


class Key(TypedDict):
    uuid: str
    id: str
    owner: str
    public: str
    fingerprint: str
    fingerprint_sha256: str
    created: str
    updated: str


class App(TypedDict):
    uuid: str
    id: str
    owner: str
    structure: dict[str, int]
    url: str
    created: str
    updated: str


class Release(TypedDict):
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


class ServerInfo(TypedDict):
    url: str
    api_version: str | None
    platform_version: str | None
