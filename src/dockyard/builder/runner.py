"""Where a build runs. ``BuildRunner`` is the interface the pipeline uses; ``LocalRunner``
runs the slug builder (``python -m dockyard.builder.slugbuilder``) as a contained process
on this host: its own session, the build's memory limit (a cgroup when the host allows it,
else ``RLIMIT_DATA``), the time limit, and the build user (the app's own uid and gid, with
its process limit), which the slug builder drops to itself once it has read its job. A
Kubernetes runner (a Job per build) is the other implementation to come; nothing here
assumes the slug runs on this host.

Whatever the build leaves running (background processes of a buildpack) is killed when it
ends: the whole process group, and what escaped it into the cgroup.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from dockyard.scheduler.local import limits

SLUGBUILDER = "dockyard.builder.slugbuilder"
# An unusually long line (a minified file echoed by a buildpack) is cut, not buffered whole.
LINE_LIMIT = 64 * 1024
EXIT_POLL = 0.05


@dataclass(frozen=True)
class BuildJob:
    """One build, as the slug builder reads it (see ``slugbuilder``). ``env`` is the app's
    config: it goes to the buildpacks as ENV_DIR files, never into their environment."""

    build: str
    app: str
    source: str
    build_dir: str
    cache_dir: str
    work_dir: str
    data_dir: str
    builtin: list[tuple[str, str]]
    installed: dict[str, str]
    source_roots: list[str]
    max_bytes: int
    max_entries: int
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    sha: str = ""
    # The request names the process types itself, so a source with no Procfile and no
    # buildpack is still buildable.
    procfile_given: bool = False
    pythons: list[str] = field(default_factory=list)
    uid: int | None = None
    gid: int | None = None
    max_procs: int | None = None


@dataclass(frozen=True)
class BuildResult:
    buildpacks: list[str]
    procfile: str | None
    default_process_types: dict[str, str]
    size: int


class BuildFailed(Exception):
    """The build did not produce a slug; ``message`` says why (its output says more)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Emit = Callable[[str], None]


class BuildRunner(Protocol):
    async def run(self, job: BuildJob, emit: Emit) -> BuildResult:
        """Run the build, passing each line of its output to ``emit``."""
        ...


class LocalRunner:
    def __init__(self, *, memory: int, timeout: float, use_cgroups: bool = True) -> None:
        self.memory = memory
        self.timeout = timeout
        self.use_cgroups = use_cgroups

    async def run(self, job: BuildJob, emit: Emit) -> BuildResult:
        job_file = Path(job.work_dir).with_suffix(".json")
        fd = os.open(job_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({**asdict(job), "env": dict(job.env)}, f)
        applied = limits.prepare(
            f"build-{job.build}", memory=self.memory, cpu=None, use_cgroups=self.use_cgroups
        )
        try:
            code, timed_out = await self._spawn(job_file, applied, emit)
            out_of_memory = limits.oom_kills(applied) > 0
        finally:
            job_file.unlink(missing_ok=True)
            limits.release(applied)
        if timed_out:
            raise BuildFailed(f"it took longer than {self.timeout:g}s (DOCKYARD_BUILD_TIMEOUT).")
        if code != 0 and out_of_memory:
            raise BuildFailed(
                "it ran out of memory: a process was killed for using more than the build's "
                f"limit of {self.memory // 1024**2}M (DOCKYARD_BUILD_MEMORY)."
            )
        if code == -signal.SIGKILL:
            raise BuildFailed(
                "it was killed, most likely for using more than its memory limit of "
                f"{self.memory // 1024**2}M (DOCKYARD_BUILD_MEMORY)."
            )
        if code != 0:
            raise BuildFailed(_reason(Path(job.work_dir)))
        try:
            data = json.loads((Path(job.work_dir) / "result.json").read_text())
            return BuildResult(
                buildpacks=[str(b) for b in data["buildpacks"]],
                procfile=data["procfile"] if isinstance(data["procfile"], str) else None,
                default_process_types={
                    str(k): str(v) for k, v in dict(data["default_process_types"]).items()
                },
                size=int(data["size"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BuildFailed(f"it left no readable result ({exc}).") from exc

    async def _spawn(self, job_file: Path, applied: limits.Applied, emit: Emit) -> tuple[int, bool]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        if "PYTHONPATH" in os.environ:
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            SLUGBUILDER,
            str(job_file),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: limits.enter(applied),
            env=env,
            cwd="/",
            limit=LINE_LIMIT,
        )
        timed_out = False
        reader = asyncio.create_task(_pump(proc, emit), name=f"build-output:{proc.pid}")
        deadline = time.monotonic() + self.timeout
        try:
            # Not ``proc.wait()``: it also waits for the pipes to close, which a process the
            # build left in the background would hold open until the deadline.
            while proc.returncode is None:
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                await asyncio.sleep(EXIT_POLL)
        finally:
            _kill_all(proc.pid, applied)
            await proc.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader, 5.0)
            reader.cancel()
        return (proc.returncode if proc.returncode is not None else -1), timed_out


async def _pump(proc: asyncio.subprocess.Process, emit: Emit) -> None:
    assert proc.stdout is not None
    while True:
        try:
            line = await proc.stdout.readline()
        except ValueError:  # over LINE_LIMIT: take what is there
            line = await proc.stdout.read(LINE_LIMIT)
        if not line:
            return
        emit(line.decode("utf-8", "replace").rstrip("\r\n"))


def _kill_all(pid: int, applied: limits.Applied) -> None:
    """Kill the build's process group and whatever escaped it into the build's cgroup."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for other in applied.pids():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(other, signal.SIGKILL)


def _reason(work_dir: Path) -> str:
    """Why the slug builder gave up, as it wrote it (else: see the output)."""
    try:
        data = json.loads((work_dir / "result.json").read_text())
        return str(data["error"])[:2000]
    except (OSError, ValueError, KeyError, TypeError):
        return "see the output above."
