"""A local pod on disk, and the process checks the agent needs to trust what it finds there.

Each pod is a directory ``<root>/pods/<app>/<pod name>/`` holding ``pod.json`` (what to run,
written once by the agent), ``state.json`` (written by the shim at every transition, atomically)
and ``stopping`` (the agent's intent to stop it, so an agent that restarts mid-stop finishes
the job rather than reviving the pod). Pids are only trusted after checking the process is the
one we mean: a shim's command line names its pod directory and an app process carries
``DOCKYARD_POD=<name>`` in its environment, so a recycled pid is never killed or adopted.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SHIM_MODULE = "dockyard.scheduler.local.shim"
POD_ENV = "DOCKYARD_POD"


@dataclass
class PodConfig:
    """Everything a shim needs to run one pod; ``env`` is complete (injected vars included)."""

    name: str
    app: str
    type: str
    index: int
    version: int
    command: str
    cwd: str
    env: dict[str, str]
    created: str
    port: int | None = None
    readiness: dict[str, Any] | None = None
    liveness: dict[str, Any] | None = None
    memory: int | None = None
    cpu: int | None = None
    grace_period: float = 30.0
    settle: float = 1.0
    uid: int | None = None
    gid: int | None = None
    max_procs: int | None = None
    log_dir: str = ""
    log_max_bytes: int = 0
    log_backups: int = 0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    use_cgroups: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"{self.type}.{self.index}"


@dataclass
class PodRuntime:
    """What the shim reports. ``state`` is a ``PodState`` value."""

    state: str = "creating"
    shim_pid: int | None = None
    child_pid: int | None = None
    ready: bool = False
    restarts: int = 0
    message: str = ""


def write_json(path: Path, data: Any) -> None:
    """Write atomically: readers see the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def pid_in(path: Path) -> int | None:
    """The ``pid`` a JSON file records (agent.pid, the router's ports.json), if any."""
    data = read_json(path)
    pid = data.get("pid") if isinstance(data, dict) else None
    return pid if isinstance(pid, int) and pid > 0 else None


class PodDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def name(self) -> str:
        return self.path.name

    def config(self) -> PodConfig | None:
        data = read_json(self.path / "pod.json")
        return PodConfig(**data) if isinstance(data, dict) else None

    def write_config(self, config: PodConfig) -> None:
        # Every directory on the way is the agent's alone (``parents`` alone would make the
        # app's directory with the umask's mode).
        for directory in (self.path.parent, self.path):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_json(self.path / "pod.json", asdict(config))

    def runtime(self) -> PodRuntime | None:
        data = read_json(self.path / "state.json")
        return PodRuntime(**data) if isinstance(data, dict) else None

    def write_runtime(self, runtime: PodRuntime) -> None:
        write_json(self.path / "state.json", asdict(runtime))

    @property
    def stopping(self) -> bool:
        return (self.path / "stopping").exists()

    def mark_stopping(self) -> None:
        (self.path / "stopping").touch()


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields start after the last ")".
    return raw[raw.rfind(")") + 2 :].split()


def alive(pid: int | None) -> bool:
    """Running and not a zombie."""
    if not pid or pid <= 0:
        return False
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _environ_has(pid: int, entry: str) -> bool:
    try:
        return entry.encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def is_shim(pid: int | None, pod: PodDir) -> bool:
    if not alive(pid):
        return False
    assert pid is not None
    args = _cmdline(pid)
    return SHIM_MODULE in args and str(pod.path) in args


def pod_processes(name: str) -> list[int]:
    """Live processes of the pod's app process tree (found by their environment marker)."""
    entry = f"{POD_ENV}={name}"
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit() and _environ_has(int(d), entry) and alive(int(d)):
            found.append(int(d))
    return found


def _real_uid(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((x for x in status.splitlines() if x.startswith("Uid:")), "")
    fields = line.split()
    return int(fields[1]) if len(fields) > 1 else None


def kill_uid(uid: int) -> int:
    """SIGKILL every process of an app's own uid (what escaped its pods and runs, a daemon
    that cleared its environment, say); never root's or our own. Returns how many."""
    if uid in (0, os.geteuid()):
        return 0
    found = [int(d) for d in os.listdir("/proc") if d.isdigit() and _real_uid(int(d)) == uid]
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(found)


def kill_pod(pod: PodDir, runtime: PodRuntime | None) -> None:
    """SIGKILL whatever is left of a pod: its shim and every process of its app."""
    if runtime and is_shim(runtime.shim_pid, pod):
        assert runtime.shim_pid is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(runtime.shim_pid, signal.SIGKILL)
    for pid in pod_processes(pod.name):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
