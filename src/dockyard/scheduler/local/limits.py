"""Memory and CPU limits of local pods, enforced with what the host allows.

In order of preference: a cgroup v2 child of the shim's own cgroup (``memory.max``,
``cpu.max``), cgroup v1 children in the ``memory`` and ``cpu`` hierarchies
(``memory.limit_in_bytes``, ``cpu.cfs_quota_us``), or else rlimits: ``RLIMIT_DATA`` for memory
(private writable memory, unlike ``RLIMIT_AS`` it does not count reserved address space, so
threaded programs and Go/JVM runtimes still start) and nothing for CPU, since no rlimit caps a
rate. A pod gets its own cgroup whenever cgroups are writable, even without limits, so stopping
it can kill processes that escaped the process group. ``prepare`` runs in the shim (as root);
``enter`` runs in the forked child before ``exec``.
"""

from __future__ import annotations

import contextlib
import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000


@dataclass
class Applied:
    mode: str  # "cgroup v2", "cgroup v1", "rlimit"
    dirs: list[Path] = field(default_factory=list)
    memory_rlimit: int | None = None
    description: str = ""

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
        return found


def _own_cgroups() -> dict[str, str]:
    """Controller (``""`` for v2) -> this process's cgroup path."""
    result: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                result[c] = path
    return result


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _try_v2(name: str, memory: int | None, cpu: int | None) -> Applied | None:
    if not (CGROUP_ROOT / "cgroup.controllers").is_file():
        return None
    own = _own_cgroups().get("", "/")
    parent = CGROUP_ROOT / own.lstrip("/") / "dockyard"
    try:
        _mkdir(parent)
        available = (parent / "cgroup.controllers").read_text().split()
        wanted = [c for c in ("memory", "cpu") if c in available]
        if wanted:
            _write(parent / "cgroup.subtree_control", " ".join("+" + c for c in wanted))
        pod = _mkdir(parent / name)
        if memory is not None:
            _write(pod / "memory.max", str(memory))
        if cpu is not None:
            _write(pod / "cpu.max", f"{cpu * CPU_PERIOD_US // 1000} {CPU_PERIOD_US}")
    except OSError:
        return None
    return Applied("cgroup v2", [pod])


def _try_v1(name: str, memory: int | None, cpu: int | None) -> Applied | None:
    own = _own_cgroups()
    dirs: list[Path] = []
    try:
        for controller in ("memory", "cpu"):
            mount = CGROUP_ROOT / controller
            if controller not in own or not (mount / "cgroup.procs").is_file():
                return None
            dirs.append(_mkdir(mount / own[controller].lstrip("/") / "dockyard" / name))
        if memory is not None:
            _write(dirs[0] / "memory.limit_in_bytes", str(memory))
        if cpu is not None:
            _write(dirs[1] / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(dirs[1] / "cpu.cfs_quota_us", str(cpu * CPU_PERIOD_US // 1000))
    except OSError:
        release(Applied("cgroup v1", dirs))
        return None
    return Applied("cgroup v1", dirs)


def prepare(name: str, *, memory: int | None, cpu: int | None, use_cgroups: bool = True) -> Applied:
    """Create the pod's cgroup (or plan rlimits) and describe what is in effect."""
    applied = None
    if use_cgroups and os.geteuid() == 0:
        applied = _try_v2(name, memory, cpu) or _try_v1(name, memory, cpu)
    if applied is None:
        applied = Applied("rlimit", memory_rlimit=memory)
    parts = []
    if memory is not None:
        parts.append(f"memory {memory // (1024 * 1024)}M")
    if cpu is not None:
        enforced = applied.mode != "rlimit"
        parts.append(f"cpu {cpu}m" + ("" if enforced else " (not enforced without cgroups)"))
    applied.description = f"limits via {applied.mode}: " + (", ".join(parts) or "none set")
    return applied


def probe(*, use_cgroups: bool = True) -> str:
    """What will enforce pod limits on this host, found by making (and removing) a trial
    pod cgroup the way ``prepare`` does; for the agent's start-up log line."""
    applied = prepare(f"_probe-{os.getpid()}", memory=None, cpu=None, use_cgroups=use_cgroups)
    release(applied)
    if applied.mode == "rlimit":
        why = "cgroups are off" if not use_cgroups else "no writable cgroup hierarchy"
        return f"rlimits ({why}): memory as RLIMIT_DATA, cpu not enforced"
    return f"{applied.mode}: memory and cpu enforced"


def enter(applied: Applied) -> None:
    """In the child, before exec: join the cgroups and set rlimits."""
    pid = str(os.getpid())
    for d in applied.dirs:
        with open(d / "cgroup.procs", "w") as f:
            f.write(pid)
    if applied.memory_rlimit is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (applied.memory_rlimit, applied.memory_rlimit))


def oom_kills(applied: Applied) -> int:
    """How many processes the kernel killed in these cgroups for passing the memory limit
    (0 under rlimits, where an allocation fails instead)."""
    kills = 0
    for d in applied.dirs:
        for name in ("memory.events", "memory.oom_control"):  # cgroup v2, v1
            with contextlib.suppress(OSError, ValueError):
                for line in (d / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        kills += int(value)
    return kills


def release(applied: Applied) -> None:
    """Remove the pod's cgroups once its processes are gone."""
    for d in applied.dirs:
        with contextlib.suppress(OSError):
            d.rmdir()


def cleanup(name: str) -> None:
    """Remove a pod's cgroups when its shim could not (it was killed)."""
    own = _own_cgroups()
    candidates = [CGROUP_ROOT / own.get("", "/").lstrip("/") / "dockyard" / name]
    for controller in ("memory", "cpu"):
        if controller in own:
            candidates.append(
                CGROUP_ROOT / controller / own[controller].lstrip("/") / "dockyard" / name
            )
    release(Applied("cleanup", [c for c in candidates if c.is_dir()]))
