"""The node agent: the one process that owns the local pods of every app, like a kubelet.

API workers talk to it over ``<root>/agent.sock`` (see ``protocol``); ``Agent`` also has the
``Scheduler`` methods itself, for in-process use. It serialises deploy, scale, restart and
destroy per app, rolls releases (new pods ready before old pods stop), watches that every
pod's shim is alive, and on start re-adopts the pods it finds on disk: a live shim is kept, a
dead one is replaced, pods that do not belong to the app's recorded release (an interrupted
deploy) are stopped, and the counts are brought back to the recorded structure. The recorded
release and structure (``<root>/apps/<app>.json``) are written only once a rollout succeeded,
so they always name what is serving. An ``flock`` on ``<root>/agent.lock`` keeps a second
agent off the same root. Stopping the agent leaves app processes running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import pwd
import signal
import time
from collections import defaultdict
from pathlib import Path

from dockyard.core import identity, logs
from dockyard.core.tasks import TaskSet
from dockyard.scheduler.base import (
    DeployError,
    DeploySpec,
    PodNotFound,
    PodState,
    PodStatus,
    ReleaseSpec,
    RouteSpec,
    RunResult,
    RunSpec,
    SchedulerError,
    check_structure,
)
from dockyard.scheduler.local import limits, wire
from dockyard.scheduler.local.names import run_name
from dockyard.scheduler.local.node import Node, NodeOptions
from dockyard.scheduler.local.offline import lock_root
from dockyard.scheduler.local.plan import plan_scale
from dockyard.scheduler.local.pods import PodDir, kill_uid, read_json, write_json
from dockyard.scheduler.local.protocol import MESSAGE_LIMIT, SOCKET_NAME, handle
from dockyard.scheduler.local.routes import RouteFeed, RouteStore
from dockyard.scheduler.local.runner import DEFAULT_OUTPUT_LIMIT, run_command

log = logging.getLogger("dockyard.scheduler")
_FAILED = (PodState.crashed, PodState.error, PodState.down)
PID_FILE = "agent.pid"
# How long a web pod stays out of the route table before it is sent SIGTERM, so the router
# stops sending it new requests first.
ROUTE_DRAIN = 0.2


class Agent:
    def __init__(
        self,
        root: Path,
        *,
        deploy_timeout: float = 120.0,
        run_timeout: float = 1200.0,
        run_output_limit: int = DEFAULT_OUTPUT_LIMIT,
        app_user: str | None = "nobody",
        monitor_interval: float = 1.0,
        options: NodeOptions | None = None,
    ) -> None:
        """``app_user`` (root only) runs app processes as the app's own uid from its release,
        or as that user when the release has none; None keeps the agent's user."""
        self.root = Path(root)
        self.socket_path = self.root / SOCKET_NAME
        self.deploy_timeout = deploy_timeout
        self.run_timeout = run_timeout
        self.run_output_limit = run_output_limit
        self.monitor_interval = monitor_interval
        options = options or NodeOptions()
        if app_user and os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(app_user)
            except KeyError:
                raise SchedulerError(f"The app user {app_user} does not exist") from None
            options.uid, options.gid = entry.pw_uid, entry.pw_gid
        self.tasks = TaskSet("agent")
        self.node = Node(self.root, options, self.tasks)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._server: asyncio.AbstractServer | None = None
        self._lock_fd: int | None = None
        self.feed = RouteFeed(RouteStore(self.root / "routes"), self._ready_ports)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        if len(str(self.socket_path)) > 100:
            raise SchedulerError(f"Socket path too long for a unix socket: {self.socket_path}")
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Traverse-only: an app reaches its own log (logs/<app>.log, readable by its gid) by
        # name; everything else here is 0700 or 0600, the agent's alone.
        os.chmod(self.root, 0o711)
        for name, mode in (("apps", 0o700), ("pods", 0o700), ("logs", 0o711)):
            (self.root / name).mkdir(exist_ok=True, mode=mode)
            os.chmod(self.root / name, mode)
        self._lock_fd = lock_root(self.root)
        write_json(self.root / PID_FILE, {"pid": os.getpid()})
        self.socket_path.unlink(missing_ok=True)
        self.feed.load()
        await self.adopt()
        self._server = await asyncio.start_unix_server(
            functools.partial(handle, self), path=str(self.socket_path), limit=MESSAGE_LIMIT
        )
        os.chmod(self.socket_path, 0o600)
        self.tasks.spawn(self._monitor(), "monitor")
        log.info("scheduler agent serving on %s", self.socket_path)
        log.info("pod limits via %s", limits.probe(use_cgroups=self.node.options.use_cgroups))
        log.info("app processes run as %s", self._who())

    async def close(self) -> None:
        """Stop serving; app processes keep running for the next agent to adopt."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.feed.close()
        await self.tasks.close()
        self.socket_path.unlink(missing_ok=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- records ------------------------------------------------------------------------------

    def _record_path(self, app: str) -> Path:
        return self.root / "apps" / f"{app}.json"

    def record(self, app: str) -> DeploySpec | None:
        data = read_json(self._record_path(app))
        return wire.deploy_from_dict(data) if isinstance(data, dict) else None

    def _save(self, spec: DeploySpec) -> None:
        structure = {k: v for k, v in spec.structure.items() if v}
        write_json(
            self._record_path(spec.release.app),
            wire.deploy_to_dict(DeploySpec(release=spec.release, structure=structure)),
        )

    # -- rollouts -----------------------------------------------------------------------------

    async def deploy(self, spec: DeploySpec) -> None:
        async with self.locks[spec.release.app]:
            await self._deploy(spec)

    async def _deploy(self, spec: DeploySpec) -> None:
        check_structure(spec)
        self._check_source(spec)
        old = self.node.live(spec.release.app)
        plan = [(t, i) for t, n in sorted(spec.structure.items()) for i in range(1, n + 1)]
        await self._start_ready(spec.release, plan)
        self._save(spec)
        await self._stop([pod for pod, _ in old])

    async def scale(self, spec: DeploySpec) -> None:
        async with self.locks[spec.release.app]:
            current = self.record(spec.release.app)
            if current is None or current.release.version != spec.release.version:
                await self._deploy(spec)
                return
            check_structure(spec)
            self._check_source(spec)
            to_start, to_stop = plan_scale(self.node.live(spec.release.app), spec)
            await self._start_ready(spec.release, to_start)
            self._save(spec)
            await self._stop(to_stop)

    async def restart(
        self, app: str, *, type: str | None = None, name: str | None = None
    ) -> list[PodStatus]:
        async with self.locks[app]:
            targets = [
                (pod, c)
                for pod, c in self.node.live(app)
                if (type is None or c.type == type) and (name is None or c.name == name)
            ]
            if name is not None and not targets:
                raise PodNotFound(f"Pod {name} does not exist in application {app}")
            current = self.record(app)
            if not targets or current is None:
                return []
            new = await self._start_ready(current.release, [(c.type, c.index) for _, c in targets])
            await self._stop([pod for pod, _ in targets])
            return [s for s in (self.node.status(p) for p in new) if s is not None]

    def _check_source(self, spec: DeploySpec) -> None:
        source = spec.release.source_dir
        if any(spec.structure.values()) and not (source and Path(source).is_dir()):
            raise DeployError(f"The build directory of {spec.release.label} does not exist")

    async def _start_ready(self, release: ReleaseSpec, plan: list[tuple[str, int]]) -> list[PodDir]:
        """Start pods and wait until all are ready; on failure stop them and raise."""
        new: list[PodDir] = []
        try:
            for ptype, index in plan:
                new.append(await self.node.create(release, ptype, index))
            await self._await_ready(new)
            # The router hears of the new backends now, not at its next poll: a client
            # that calls as soon as the deploy returns reaches them.
            self.feed.notify()
        except BaseException:
            await asyncio.shield(self._stop(new))
            raise
        return new

    async def _await_ready(self, pods: list[PodDir]) -> None:
        deadline = time.monotonic() + self.deploy_timeout
        pending = list(pods)
        while pending:
            for pod in list(pending):
                status = self.node.status(pod)
                if status is None:
                    raise DeployError(f"Pod {pod.name} has no configuration")
                label = f"{status.type} pod {status.name}"
                if status.state == PodState.up:
                    pending.remove(pod)
                elif status.restarts or status.state in _FAILED:
                    # Fail fast: a process that dies before it is ready will not serve.
                    reason = status.message.split(";")[0] or "crashed"
                    if reason.startswith("error: "):
                        reason = reason[len("error: ") :]
                    raise DeployError(f"{label} {reason} before becoming ready")
            if pending and time.monotonic() > deadline:
                status = self.node.status(pending[0])
                name = status.name if status else pending[0].name
                raise DeployError(
                    f"{name} did not become ready within {self.deploy_timeout:g} seconds"
                )
            if pending:
                await asyncio.sleep(0.1)

    async def _stop(self, pods: list[PodDir]) -> None:
        web = [p for p in pods if (c := self.node.config(p)) is not None and c.port]
        if web and self.feed.watched:
            for pod in web:
                pod.mark_stopping()
            self.feed.notify()
            await asyncio.sleep(ROUTE_DRAIN)
        await asyncio.gather(*(self.node.stop(p) for p in pods))

    # -- the rest of the interface ----------------------------------------------------------

    async def pods(self, app: str, *, type: str | None = None) -> list[PodStatus]:
        found = [self.node.status(p) for p in self.node.pod_dirs(app)]
        result = [s for s in found if s is not None and (type is None or s.type == type)]
        return sorted(result, key=lambda s: (s.type, s.name))

    async def destroy(self, app: str) -> None:
        async with self.locks[app]:
            current = self.record(app)
            await self._stop(self.node.pod_dirs(app))
            own = current.release.uid if current is not None else None
            if own is not None and self.node.options.uid is not None:
                # The uid is the app's alone: whatever still runs under it goes too.
                await asyncio.to_thread(kill_uid, own)
            with contextlib.suppress(OSError):
                (self.node.pods_dir / app).rmdir()
            self._record_path(app).unlink(missing_ok=True)
            await asyncio.to_thread(self.node.logs.delete, app)
            self.feed.remove(app)

    async def run(self, spec: RunSpec) -> RunResult:
        return await run_command(
            spec,
            name=run_name(spec.release.app),
            time_limit=spec.timeout or self.run_timeout,
            output_limit=self.run_output_limit,
            preexec=functools.partial(self._demote, *self.node.identity(spec.release)),
        )

    async def logs(self, app: str, *, lines: int = 100) -> str:
        return await asyncio.to_thread(self.node.logs.tail, app, lines)

    async def log_event(self, app: str, source: str, message: str) -> None:
        current = self.record(app)
        _, gid = self.node.identity(current.release) if current else (None, None)
        await asyncio.to_thread(self.node.logs.write, app, source, message, gid=gid)

    # -- routes -------------------------------------------------------------------------------

    async def route(self, spec: RouteSpec) -> None:
        await self.feed.put(spec)

    def _ready_ports(self, app: str) -> list[int]:
        ports = []
        for pod, config in self.node.live(app):
            if config.port is not None:
                status = self.node.status(pod)
                if status is not None and status.state == PodState.up:
                    ports.append(config.port)
        return ports

    def _demote(self, uid: int | None, gid: int | None) -> None:
        identity.drop(uid, gid, max_procs=self.node.options.max_procs)

    def _who(self) -> str:
        options = self.node.options
        if options.uid is None:
            return (
                f"the agent's own user (uid {os.geteuid()}): apps are NOT isolated from each "
                "other or from the controller (run the server as root to give each app its "
                "own uid)"
            )
        return (
            f"each app's own uid and gid, else uid {options.uid}; at most "
            f"{options.max_procs} processes per app, no_new_privs"
        )

    # -- re-adoption and monitoring ---------------------------------------------------------

    async def adopt(self) -> None:
        """Converge every app on disk to its record: no orphans and no duplicates."""
        for app in self.node.app_dirs():
            async with self.locks[app]:
                await self._converge(app)

    async def _converge(self, app: str) -> None:
        current = self.record(app)
        stray: list[PodDir] = []
        for pod in self.node.pod_dirs(app):
            config = self.node.config(pod)
            adopted = self.node.adopt(pod)
            if (
                config is None
                or pod.stopping
                or current is None
                or config.version != current.release.version
            ):
                stray.append(pod)
            elif not adopted:
                log.info("pod %s lost its supervisor; restarting it", pod.name)
                await self.node.revive(pod)
            else:
                log.info("re-adopted pod %s", pod.name)
        await self._stop(stray)
        if current is not None:
            to_start, to_stop = plan_scale(self.node.live(app), current)
            await self._stop(to_stop)
            for ptype, index in to_start:
                await self.node.create(current.release, ptype, index)

    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self.monitor_interval)
            for app in self.node.app_dirs():
                if self.locks[app].locked():
                    continue
                async with self.locks[app]:
                    for pod, _ in self.node.live(app):
                        if not self.node.shim_alive(pod):
                            log.warning("supervisor of pod %s died; restarting it", pod.name)
                            await self.node.revive(pod)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dockyard.scheduler.local.agent")
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--deploy-timeout", type=float, default=120.0)
    parser.add_argument("--run-timeout", type=float, default=1200.0)
    parser.add_argument("--app-user", default="nobody", help="'' to keep the agent's user")
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument(
        "--max-procs",
        type=int,
        # The server's environment reaches its agent: DOCKYARD_APP_MAX_PROCS is the default.
        default=int(os.environ.get("DOCKYARD_APP_MAX_PROCS") or identity.DEFAULT_MAX_PROCS),
    )
    args = parser.parse_args(argv)
    logs.configure("info")

    async def serve() -> None:
        agent = Agent(
            args.root,
            deploy_timeout=args.deploy_timeout,
            run_timeout=args.run_timeout,
            app_user=args.app_user or None,
            options=NodeOptions(settle=args.settle, max_procs=args.max_procs),
        )
        await agent.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await agent.close()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
