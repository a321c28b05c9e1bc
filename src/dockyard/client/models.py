"""The shapes the controller answers with, as ``TypedDict``s: plain dicts (ready for
``--json``) that mypy can still check."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


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


class Config(TypedDict):
    """An app's config. ``values`` are the environment; ``memory``/``cpu`` map a process
    type to a limit; ``healthcheck`` maps a process type to its Kubernetes probes."""

    uuid: str
    app: str
    owner: str
    values: dict[str, str]
    memory: dict[str, str]
    cpu: dict[str, str]
    tags: dict[str, str]
    registry: dict[str, str]
    healthcheck: dict[str, dict[str, Any]]
    created: str
    updated: str


class Build(TypedDict):
    """``status`` and ``buildpack`` come with builds of uploaded sources (``deploy``)."""

    uuid: str
    app: str
    owner: str
    image: str
    sha: str
    procfile: dict[str, str]
    dockerfile: str
    created: str
    updated: str
    status: NotRequired[str]
    buildpack: NotRequired[str | None]


class SourceEvent(TypedDict, total=False):
    """One line of the stream that answers a source upload: a ``log`` line of the build,
    else the last line: ``build`` and ``release`` on success, ``error`` (perhaps with the
    ``build``) on failure."""

    log: str
    build: Build
    release: Release
    error: str


class Buildpack(TypedDict):
    name: str
    owner: str
    size: int
    created: str
    updated: str


class Pod(TypedDict):
    name: str
    state: str
    release: str
    type: str
    started: str


class RunResult(TypedDict):
    exit_code: int
    output: str


class Domain(TypedDict):
    uuid: str
    app: str
    owner: str
    domain: str
    created: str
    updated: str


class Cert(TypedDict):
    id: int
    uuid: str
    name: str
    owner: str
    common_name: str
    fingerprint: str
    san: list[str]
    domains: list[str]
    starts: str
    expires: str
    issuer: str
    subject: str
    created: str
    updated: str


class TLS(TypedDict):
    uuid: str
    app: str
    owner: str
    https_enforced: bool
    created: str
    updated: str


class AutoscaleRule(TypedDict):
    min: int
    max: int
    cpu_percent: int


class AppSettings(TypedDict):
    uuid: str
    app: str
    owner: str
    maintenance: bool
    routable: bool
    whitelist: list[str]
    autoscale: dict[str, AutoscaleRule]
    label: dict[str, Any]
    created: str
    updated: str
