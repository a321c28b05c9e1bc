"""The scheduler interface: what the services ask of a backend that runs app processes.

A backend makes the world match a release and a structure (``{"web": 2}``). Everything it is
given is a frozen dataclass built by the services from database rows; nothing here knows about
the ORM or HTTP. The shapes follow Kubernetes, the second backend: a process type is a
Deployment, a pod is one replica of it, a one-off run is a pod with ``restartPolicy: Never``.

Errors. Scheduler errors subclass both ``SchedulerError`` and the matching
``dockyard.core.errors`` class, so a service can catch every scheduler failure with
``except SchedulerError`` (to mark a release failed, say) while one that escapes still maps to
the right HTTP status without a translation table::

    SchedulerError (DockyardError)
    ├── DeployError         Invalid      400   pods did not become ready; the old ones still serve
    ├── RunError            Invalid      400   a one-off command could not be started
    ├── PodNotFound         NotFound     404   restart named a pod the app does not have
    └── SchedulerUnavailable Unavailable 503   the backend (node agent, cluster) cannot be reached

Optional capabilities (exec into a pod, autoscaling) are separate protocols, checked with
``isinstance`` at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from dockyard.core.errors import DockyardError, Invalid, NotFound, Unavailable
from dockyard.core.timefmt import iso

DEFAULT_GRACE_PERIOD = 30.0


class SchedulerError(DockyardError):
    """Base of every error a scheduler raises."""


class DeployError(SchedulerError, Invalid):
    """The release could not be brought up; ``message`` is the human-readable reason."""


class RunError(SchedulerError, Invalid):
    """A one-off command could not be started at all (not: it failed, that is an exit code)."""


class PodNotFound(SchedulerError, NotFound):
    pass


class SchedulerUnavailable(SchedulerError, Unavailable):
    pass


class PodState(StrEnum):
    initializing = "initializing"
    creating = "creating"
    starting = "starting"
    up = "up"
    terminating = "terminating"
    down = "down"
    crashed = "crashed"
    error = "error"


def _frozen_map(obj: object, name: str) -> None:
    object.__setattr__(obj, name, MappingProxyType(dict(getattr(obj, name))))


@dataclass(frozen=True)
class HttpGet:
    path: str = "/"
    port: int | str = 0
    host: str = ""
    scheme: str = "HTTP"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TcpSocket:
    port: int | str = 0
    host: str = ""


@dataclass(frozen=True)
class Exec:
    command: tuple[str, ...]


@dataclass(frozen=True)
class Probe:
    """A Kubernetes probe. For the local backend, a port means the pod's own ``PORT``."""

    action: HttpGet | TcpSocket | Exec
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3


@dataclass(frozen=True)
class Memory:
    """Bytes. ``request`` is what Kubernetes schedules on; ``limit`` is enforced."""

    limit: int
    request: int | None = None


@dataclass(frozen=True)
class Cpu:
    """Millicores (``500m`` is 500, ``2`` is 2000)."""

    limit: int
    request: int | None = None


@dataclass(frozen=True)
class ProcessSpec:
    """One process type of a release: its command, probes and limits."""

    type: str
    command: str
    readiness: Probe | None = None
    liveness: Probe | None = None
    memory: Memory | None = None
    cpu: Cpu | None = None


@dataclass(frozen=True)
class ReleaseSpec:
    """What a release runs. ``env`` holds the config values only: backends add the injected
    variables with :func:`release_env`. ``source_dir`` is the build's directory (local backend),
    ``image`` the container image (Kubernetes); a backend uses the one it understands.
    ``uid`` is the app's own user and group id: the local backend, when it runs as root, runs
    the app's processes as that uid and gid so one app cannot read another's environment,
    files or logs (None: the backend's default user). Kubernetes ignores it (an image has
    its own user)."""

    app: str
    version: int
    processes: Mapping[str, ProcessSpec]
    env: Mapping[str, str] = field(default_factory=dict)
    source_dir: str | None = None
    image: str | None = None
    summary: str = ""
    created: datetime | None = None
    sha: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    grace_period: float = DEFAULT_GRACE_PERIOD
    # Credentials of a private image registry (``username``, ``password``, maybe ``hostname``);
    # kept out of the repr so that logging a spec never shows the password.
    registry: Mapping[str, str] = field(default_factory=dict, repr=False)
    uid: int | None = None

    def __post_init__(self) -> None:
        for name in ("processes", "env", "tags", "registry"):
            _frozen_map(self, name)

    @property
    def label(self) -> str:
        return f"v{self.version}"


@dataclass(frozen=True)
class DeploySpec:
    """A release and the number of pods per process type it should run with."""

    release: ReleaseSpec
    structure: Mapping[str, int]

    def __post_init__(self) -> None:
        _frozen_map(self, "structure")


@dataclass(frozen=True)
class RunSpec:
    """A one-off command. ``timeout`` None means the backend's configured default."""

    release: ReleaseSpec
    command: str
    timeout: float | None = None


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    output: str
    truncated: bool = False
    timed_out: bool = False


@dataclass(frozen=True)
class PodStatus:
    """One pod as the pods list shows it. ``started`` is naive UTC."""

    name: str
    type: str
    release: str
    state: PodState
    started: datetime
    restarts: int = 0
    port: int | None = None
    message: str = ""

    def as_api(self) -> dict[str, str]:
        return {
            "name": self.name,
            "state": str(self.state),
            "release": self.release,
            "type": self.type,
            "started": iso(self.started),
        }


@dataclass(frozen=True)
class TLSCertificate:
    """A certificate attached to some of an app's domains. ``certificate`` is the PEM chain
    (leaf first) and ``key`` its PEM private key: a backend keeps the key where app processes
    cannot read it (a 0600 file of the controller's, a Kubernetes TLS Secret)."""

    name: str
    certificate: str
    key: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class RouteSpec:
    """How an app's web pods are reached from outside. ``hosts`` holds the platform hostname
    (``<app>.<platform domain>``) and the custom domains, IDNA-encoded, maybe ``*.``-wildcarded.
    ``whitelist`` holds client addresses and CIDRs; empty means everyone."""

    app: str
    hosts: tuple[str, ...]
    certificates: tuple[TLSCertificate, ...] = ()
    https_enforced: bool = False
    maintenance: bool = False
    routable: bool = True
    whitelist: tuple[str, ...] = ()


def release_env(release: ReleaseSpec, *, port: int | None = None) -> dict[str, str]:
    """The environment of a process: injected variables, overridden by the config values."""
    env: dict[str, str] = {
        "DEIS_APP": release.app,
        "DRYCC_APP": release.app,
        "WORKFLOW_RELEASE": release.label,
        "WORKFLOW_RELEASE_SUMMARY": release.summary,
    }
    if release.created is not None:
        env["WORKFLOW_RELEASE_CREATED_AT"] = iso(release.created)
    if release.sha:
        env["SOURCE_VERSION"] = release.sha
    if port is not None:
        env["PORT"] = str(port)
    env.update(release.env)
    return env


# Heroku's slug convention: every ``.profile.d/*.sh`` of the app (buildpacks put PATH and
# other run-time settings there) is sourced before a process's command runs.
_PROFILE = 'for _f in ./.profile.d/*.sh; do [ -f "$_f" ] && . "$_f"; done; unset _f; '


def with_profile(command: str) -> str:
    """The shell text that runs ``command`` after the app's ``.profile.d`` scripts, in the
    slug's directory (a no-op for an app without any)."""
    return _PROFILE + command


def check_structure(spec: DeploySpec) -> None:
    """Raise ``DeployError`` unless every type asked to run has a command."""
    for ptype, count in spec.structure.items():
        if count < 0:
            raise DeployError(f"Invalid scaling format: {ptype}={count}")
        if count and ptype not in spec.release.processes:
            raise DeployError(f"Container type {ptype} does not exist in application")


@runtime_checkable
class Scheduler(Protocol):
    """The core every backend implements. Calls for one app are serialised by the backend;
    calls for different apps may run in parallel."""

    async def deploy(self, spec: DeploySpec) -> None:
        """Roll the app to ``spec.release``: start new pods, wait until they are ready, then stop
        the old ones (web never drops to zero). Types missing from the structure, or at 0, end
        with no pods. On failure raise ``DeployError`` and leave the previous pods serving."""
        ...

    async def scale(self, spec: DeploySpec) -> None:
        """Match the pod counts to ``spec.structure`` for the running release; new pods must
        become ready (else ``DeployError``). If the app runs another release, this deploys."""
        ...

    async def restart(
        self, app: str, *, type: str | None = None, name: str | None = None
    ) -> list[PodStatus]:
        """Replace the app's pods (all, of one type, or the one named) with new pods, and
        return the new pods. An unknown ``name`` raises ``PodNotFound``."""
        ...

    async def pods(self, app: str, *, type: str | None = None) -> list[PodStatus]:
        """The app's pods, sorted by type then name."""
        ...

    async def run(self, spec: RunSpec) -> RunResult:
        """Run a one-off command with the release's env in its build and wait for it."""
        ...

    async def logs(self, app: str, *, lines: int = 100) -> str:
        """The last ``lines`` lines of the app's log ("" when there is none)."""
        ...

    async def log_event(self, app: str, source: str, message: str) -> None:
        """Append a controller event to the app's log as ``<ts> <app>[<source>]: <message>``."""
        ...

    async def route(self, spec: RouteSpec) -> None:
        """Publish how the app's web pods are reached (hostnames, certificates, HTTPS, access
        rules), replacing what was published before. It takes effect within a second and
        follows the web pods as they come and go. Idempotent."""
        ...

    async def destroy(self, app: str) -> None:
        """Stop every process of the app and delete its logs and route. Idempotent."""
        ...

    async def aclose(self) -> None:
        """Release the client's resources; app processes keep running."""
        ...


@runtime_checkable
class SupportsExec(Protocol):
    async def exec(self, app: str, pod: str, command: tuple[str, ...]) -> RunResult: ...


@runtime_checkable
class SupportsAutoscale(Protocol):
    async def autoscale(
        self, app: str, type: str, *, minimum: int, maximum: int, cpu_percent: int
    ) -> None: ...

    async def remove_autoscale(self, app: str, type: str) -> None: ...
