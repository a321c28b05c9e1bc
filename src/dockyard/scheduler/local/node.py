"""The node: the pods of this host as the agent sees them, and the mechanics of one pod.

It creates a pod (name, port, env, ``pod.json``), starts its shim detached from the agent,
stops it (SIGTERM to the shim, which stops the app gracefully; SIGKILL for whatever is left
after the grace period), reports its status, and brings back a pod whose shim died. It knows
nothing of releases rolling or structures: that is the agent's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dockyard.core.identity import DEFAULT_MAX_PROCS
from dockyard.core.tasks import TaskSet
from dockyard.core.timefmt import utcnow
from dockyard.scheduler.base import PodState, PodStatus, ReleaseSpec, release_env
from dockyard.scheduler.local import limits
from dockyard.scheduler.local.logs import LogStore
from dockyard.scheduler.local.names import pod_name
from dockyard.scheduler.local.pods import (
    POD_ENV,
    SHIM_MODULE,
    PodConfig,
    PodDir,
    PodRuntime,
    is_shim,
    kill_pod,
)
from dockyard.scheduler.local.wire import probe_to_dict

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
WEB_TYPES = frozenset({"web"})


@dataclass
class NodeOptions:
    """``uid``/``gid``: the default app user (``DOCKYARD_APP_USER``), set only when the agent
    is root; None means app processes keep the agent's user, whatever their release says."""

    settle: float = 1.0
    uid: int | None = None
    gid: int | None = None
    max_procs: int = DEFAULT_MAX_PROCS
    log_max_bytes: int = 5 * 1024 * 1024
    log_backups: int = 2
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    use_cgroups: bool = True


@dataclass
class ShimHandle:
    pid: int
    proc: asyncio.subprocess.Process | None = None

    def alive(self, pod: PodDir) -> bool:
        if self.proc is not None:
            return self.proc.returncode is None
        return is_shim(self.pid, pod)


def base_env(cwd: str) -> dict[str, str]:
    """What every app process starts from; nothing of the controller's own environment."""
    return {"PATH": DEFAULT_PATH, "HOME": cwd, "LANG": "C.UTF-8"}


class Node:
    def __init__(self, root: Path, options: NodeOptions, tasks: TaskSet) -> None:
        self.pods_dir = root / "pods"
        self.logs = LogStore(
            root / "logs", max_bytes=options.log_max_bytes, backups=options.log_backups
        )
        self.options = options
        self.tasks = tasks
        self.configs: dict[str, PodConfig] = {}
        self.shims: dict[str, ShimHandle] = {}

    # -- inventory ------------------------------------------------------------------------

    def app_dirs(self) -> list[str]:
        if not self.pods_dir.is_dir():
            return []
        return sorted(p.name for p in self.pods_dir.iterdir() if p.is_dir())

    def pod_dirs(self, app: str) -> list[PodDir]:
        try:
            entries = sorted((self.pods_dir / app).iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [PodDir(p) for p in entries if p.is_dir()]

    def config(self, pod: PodDir) -> PodConfig | None:
        if pod.name not in self.configs:
            config = pod.config()
            if config is None:
                return None
            self.configs[pod.name] = config
        return self.configs[pod.name]

    def live(self, app: str) -> list[tuple[PodDir, PodConfig]]:
        """The app's pods that are not being stopped, with their configs."""
        result = []
        for pod in self.pod_dirs(app):
            config = self.config(pod)
            if config is not None and not pod.stopping:
                result.append((pod, config))
        return result

    def identity(self, release: ReleaseSpec) -> tuple[int | None, int | None]:
        """Who the release's processes run as: the app's own uid (and the same gid) when
        the node changes users at all, else the default app user, else the agent's."""
        if self.options.uid is None:
            return None, None
        if release.uid is not None:
            return release.uid, release.uid
        return self.options.uid, self.options.gid

    def _free_port(self) -> int:
        used = {c.port for c in self.configs.values() if c.port}
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            if port not in used:
                return port

    # -- one pod ----------------------------------------------------------------------------

    async def create(self, release: ReleaseSpec, ptype: str, index: int) -> PodDir:
        process = release.processes[ptype]
        cwd = release.source_dir or ""
        port = self._free_port() if ptype in WEB_TYPES else None
        name = pod_name(release.app, ptype, release.version)
        while (self.pods_dir / release.app / name).exists():
            name = pod_name(release.app, ptype, release.version)
        env = base_env(cwd)
        env.update(release_env(release, port=port))
        if port is not None:
            # Each local web pod needs its own port, so here the pod's PORT beats the config's.
            env["PORT"] = str(port)
        env[POD_ENV] = name
        uid, gid = self.identity(release)
        config = PodConfig(
            name=name,
            app=release.app,
            type=ptype,
            index=index,
            version=release.version,
            command=process.command,
            cwd=cwd,
            env=env,
            created=utcnow().isoformat(),
            port=port,
            readiness=probe_to_dict(process.readiness),
            liveness=probe_to_dict(process.liveness),
            memory=process.memory.limit if process.memory else None,
            cpu=process.cpu.limit if process.cpu else None,
            grace_period=release.grace_period,
            settle=self.options.settle,
            uid=uid,
            gid=gid,
            max_procs=self.options.max_procs if uid is not None else None,
            log_dir=str(self.logs.directory),
            log_max_bytes=self.options.log_max_bytes,
            log_backups=self.options.log_backups,
            backoff_base=self.options.backoff_base,
            backoff_max=self.options.backoff_max,
            use_cgroups=self.options.use_cgroups,
        )
        pod = PodDir(self.pods_dir / release.app / name)
        pod.write_config(config)
        self.configs[name] = config
        await self.spawn(pod)
        return pod

    async def spawn(self, pod: PodDir) -> None:
        """Start the pod's shim in its own session, so it outlives this process."""
        pod.write_runtime(PodRuntime(state=PodState.creating))  # nothing stale shows through
        env = {"PATH": os.environ.get("PATH", DEFAULT_PATH), "LANG": "C.UTF-8"}
        if "PYTHONPATH" in os.environ:
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        out = os.open(pod.path / "shim.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                SHIM_MODULE,
                str(pod.path),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                env=env,
                cwd="/",
            )
        finally:
            os.close(out)
        self.shims[pod.name] = ShimHandle(proc.pid, proc)
        # Reap it if it exits while we are its parent; an agent restart leaves it to init.
        self.tasks.spawn(proc.wait(), f"reap:{pod.name}")

    def adopt(self, pod: PodDir) -> bool:
        """Take over a pod whose shim is still running; False if the shim is gone."""
        runtime = pod.runtime()
        if runtime is None or not is_shim(runtime.shim_pid, pod):
            return False
        assert runtime.shim_pid is not None
        self.shims[pod.name] = ShimHandle(runtime.shim_pid)
        return True

    def shim_alive(self, pod: PodDir) -> bool:
        handle = self.shims.get(pod.name)
        return handle is not None and handle.alive(pod)

    async def revive(self, pod: PodDir) -> None:
        """Kill what is left of a pod whose shim died, and start a new shim for it."""
        await asyncio.to_thread(kill_pod, pod, pod.runtime())
        config = self.config(pod)
        if config is not None:
            self.logs.write(config.app, "dockyard", f"{config.source} supervisor restarted")
        await self.spawn(pod)

    async def stop(self, pod: PodDir) -> None:
        """Graceful stop, then remove the pod; safe to repeat after an interrupted stop."""
        pod.mark_stopping()
        config = self.config(pod)
        grace = config.grace_period if config else 30.0
        handle = self.shims.get(pod.name)
        if handle is None and self.adopt(pod):
            handle = self.shims.get(pod.name)
        if handle is not None and handle.alive(pod):
            with contextlib.suppress(ProcessLookupError):
                os.kill(handle.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace + 5.0
            for _ in iter(lambda: handle.alive(pod) and time.monotonic() < deadline, False):
                await asyncio.sleep(0.05)
        await asyncio.to_thread(kill_pod, pod, pod.runtime())
        limits.cleanup(pod.name)
        self.forget(pod)
        shutil.rmtree(pod.path, ignore_errors=True)

    def forget(self, pod: PodDir) -> None:
        self.configs.pop(pod.name, None)
        self.shims.pop(pod.name, None)

    def status(self, pod: PodDir) -> PodStatus | None:
        config = self.config(pod)
        if config is None:
            return None
        runtime = pod.runtime()
        if pod.stopping:
            state = PodState.terminating
        elif runtime is None:
            state = PodState.initializing
        elif not self.shim_alive(pod) and runtime.state != PodState.down:
            state = PodState.crashed
        else:
            state = PodState(runtime.state)
        return PodStatus(
            name=config.name,
            type=config.type,
            release=f"v{config.version}",
            state=state,
            started=datetime.fromisoformat(config.created),
            restarts=runtime.restarts if runtime else 0,
            port=config.port,
            message=runtime.message if runtime else "",
        )
