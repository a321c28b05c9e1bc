"""Runtime configuration, read from ``DOCKYARD_*`` environment variables.

One ``Settings`` object is built at start-up and passed down explicitly; nothing reads the
environment anywhere else, so tests can build their own settings without patching.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dockyard.core.identity import DEFAULT_MAX_PROCS, parse_uid_range

DEFAULT_RESERVED_NAMES = "admin,api,dockyard,deis,drycc,controller,router,registry,builder,www"


_SIZE_RE = re.compile(r"^\s*(\d+)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: object) -> int:
    """Bytes from ``1073741824``, ``512M``, ``1G``, ``1GB`` or ``1GiB`` (powers of 1024)."""
    if isinstance(value, int):
        return value
    match = _SIZE_RE.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a size such as 512M or 1G")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


class RegistrationMode(StrEnum):
    enabled = "enabled"
    disabled = "disabled"
    admin_only = "admin_only"


def default_data_dir() -> Path:
    """``~/.local/share/dockyard``; ``/var/lib/dockyard`` for root, whose home is private
    (0700 on Debian): app processes, which run as their own uids when the controller is
    root, could not reach their build copies inside it."""
    if os.geteuid() == 0:
        return Path("/var/lib/dockyard")
    return Path(os.path.expanduser("~/.local/share/dockyard"))


def unreachable_by_others(path: Path) -> Path | None:
    """The first directory on the way to ``path`` that users other than its owner cannot
    traverse (no ``o+x``), if any."""
    for directory in [*reversed(path.parents), path]:
        try:
            if not directory.stat().st_mode & 0o001:
                return directory
        except OSError:
            return directory
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCKYARD_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: default_data_dir(),
        description="Where the database, builds and logs live.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means SQLite at <data_dir>/dockyard.db.",
    )
    registration_mode: RegistrationMode = RegistrationMode.enabled
    reserved_names: str = Field(
        default=DEFAULT_RESERVED_NAMES,
        description="Comma-separated app names nobody may take.",
    )
    platform_domain: str = Field(
        default="dockyard.localhost",
        description="Apps are served as <app>.<platform_domain>.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=2, ge=1, description="API worker processes.")
    log_level: str = "info"
    db_pool_size: int = Field(default=10, ge=1)
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65536, ge=1024, le=4 * 1024 * 1024)
    scheduler: str = Field(default="local", description="local or kubernetes.")
    deploy_timeout: float = Field(
        default=120.0, gt=0, description="Seconds a new pod may take to become ready."
    )
    run_timeout: float = Field(default=300.0, gt=0, description="Seconds a one-off run may take.")
    app_user: str = Field(
        default="nobody",
        description="User of app processes that have no uid of their own, when the controller "
        "runs as root; empty keeps the controller's user (no isolation at all).",
    )
    app_uid_range: str = Field(
        default="200000-299999",
        description="The uids (and gids) given to apps, one each, when the controller runs as "
        "root; no /etc/passwd entry is needed.",
    )
    app_max_procs: int = Field(
        default=DEFAULT_MAX_PROCS,
        ge=16,
        description="Processes an app may have at once (RLIMIT_NPROC of its uid).",
    )
    settle_time: float = Field(
        default=0.3,
        gt=0,
        le=60,
        description="Seconds a pod without a readiness probe must stay alive to count as ready.",
    )
    kubeconfig: str = Field(
        default="",
        description="Kubeconfig file of the kubernetes scheduler; empty means the in-cluster "
        "service account, else ~/.kube/config.",
    )
    ingress_class: str = Field(
        default="nginx", description="ingressClassName of the Ingress objects on Kubernetes."
    )
    router_host: str = Field(
        default="127.0.0.1",
        description="Where the local scheduler's edge router listens (0.0.0.0 for every address).",
    )
    router_http_port: int = Field(default=8080, ge=0, le=65535)
    router_https_port: int = Field(default=8443, ge=0, le=65535)
    local_source_roots: str = Field(
        default_factory=lambda: os.path.expanduser("~"),
        description="Colon-separated host directories local builds may read sources from.",
    )
    ssh_host: str = Field(default="127.0.0.1", description="Where the git SSH endpoint listens.")
    ssh_port: int = Field(default=2222, ge=0, le=65535)
    max_source_size: int = Field(
        default=512 * 1024**2,
        gt=0,
        description="Largest source archive accepted, packed and unpacked (bytes, or 512M, 1G).",
    )
    build_memory: int = Field(
        default=1024**3, gt=0, description="Memory limit of a build (bytes, or 512M, 1G)."
    )
    build_timeout: float = Field(default=900.0, gt=0, description="Seconds a build may take.")
    keep_releases: int = Field(
        default=20, ge=1, description="The releases whose slugs are kept for rollback."
    )
    builder_key: str = Field(
        default="",
        description="Shared secret of the git endpoints and the API (X-Deis-Builder-Auth); "
        "empty means one made once and kept in the data dir.",
        repr=False,
    )
    pythons: str = Field(
        default="",
        description="Colon-separated extra Python interpreters the python buildpack may use.",
    )

    @field_validator("max_source_size", "build_memory", mode="before")
    @classmethod
    def _size(cls, value: object) -> int:
        return parse_size(value)

    @field_validator("app_uid_range")
    @classmethod
    def _uid_range(cls, value: str) -> str:
        parse_uid_range(value)
        return value.strip()

    @property
    def uid_range(self) -> tuple[int, int]:
        return parse_uid_range(self.app_uid_range)

    @field_validator("platform_domain")
    @classmethod
    def _strip_domain(cls, value: str) -> str:
        return value.strip().strip(".").lower()

    @cached_property
    def reserved(self) -> frozenset[str]:
        return frozenset(n.strip().lower() for n in self.reserved_names.split(",") if n.strip())

    @property
    def app_domain(self) -> str:
        """What an app's URL is under: the platform domain, with the edge router's port
        when the local scheduler serves apps on a port other than 80."""
        port = self.router_http_port
        if self.scheduler == "local" and port not in (0, 80):
            return f"{self.platform_domain}:{port}"
        return self.platform_domain

    @property
    def api_url(self) -> str:
        """Where processes on this host reach the API (the git hooks, the SSH endpoint)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def source_roots(self) -> list[Path]:
        return [Path(p) for p in self.local_source_roots.split(":") if p.strip()]

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'dockyard.db'}"

    def ensure_dirs(self) -> None:
        """The data dir is traverse-only for others (0711): app processes, which run as their
        app's own uid when the controller is root, must reach their build copies under
        ``builds/<app>/`` (their gid's alone) but can list nothing and read neither the
        database nor the agent's state, which are created 0600/0700 under a 077 umask."""
        missing = [p for p in (self.data_dir, *self.data_dir.parents) if not p.exists()]
        for directory in reversed(missing):  # parents we make are plain 0755 directories
            directory.mkdir(exist_ok=True)
            os.chmod(directory, 0o755)
        os.chmod(self.data_dir, 0o711)
        # builds/ (slugs), cache/ (build caches, each owned by the build user) and tmp/
        # (builds in progress) are traversed by the app user; repos/ is the controller's.
        for name, mode in (("builds", 0o711), ("cache", 0o711), ("tmp", 0o711), ("repos", 0o700)):
            directory = self.data_dir / name
            directory.mkdir(exist_ok=True)
            os.chmod(directory, mode)
        buildpacks = self.data_dir / "buildpacks"
        buildpacks.mkdir(exist_ok=True)
        os.chmod(buildpacks, 0o755)
