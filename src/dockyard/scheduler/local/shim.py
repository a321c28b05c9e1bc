"""The per-pod supervisor: ``python -m dockyard.scheduler.local.shim <pod dir>``.

One shim runs one pod for its whole life, independent of the agent that started it (its own
session, no pipes to the agent), so app processes survive restarts of the agent and of the API.
It runs the Procfile command as ``/bin/sh -c <command>`` in the build's directory, in its own
process group, with the pod's env, cgroup or rlimits, as the app's own uid and gid (with a
process limit and ``no_new_privs``, see ``dockyard.core.identity``); it writes the output to
the app's log line by line (readable by the app's group, see ``logs``); it decides readiness
(the readiness probe, or the process staying alive for the settle time) and runs the liveness
probe; a process that exits or fails liveness is restarted with exponential backoff, showing
``crashed`` meanwhile. On SIGTERM it sends SIGTERM to the process group, SIGKILL after the
grace period, reports ``down`` and exits.
All it says to the agent goes through ``state.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dockyard.core import identity
from dockyard.scheduler.base import PodState, with_profile
from dockyard.scheduler.local import limits
from dockyard.scheduler.local.logs import LogStore, format_lines
from dockyard.scheduler.local.pods import PodConfig, PodDir, PodRuntime, pod_processes
from dockyard.scheduler.local.probes import Target, Tracker, check
from dockyard.scheduler.local.wire import probe_from_dict

STARTUP_PROBE_INTERVAL = 0.1

_READ_CHUNK = 64 * 1024


class Shim:
    def __init__(self, pod: PodDir, config: PodConfig) -> None:
        self.pod = pod
        self.config = config
        self.logs = LogStore(
            Path(config.log_dir), max_bytes=config.log_max_bytes, backups=config.log_backups
        )
        self.runtime = PodRuntime(state=PodState.creating, shim_pid=os.getpid())
        self.stop = asyncio.Event()
        self.proc: asyncio.subprocess.Process | None = None
        self.applied = limits.Applied("rlimit")
        self.readiness = probe_from_dict(config.readiness)
        self.liveness = probe_from_dict(config.liveness)

    def set(self, state: PodState, message: str | None = None, **fields: object) -> None:
        self.runtime.state = state
        if message is not None:
            self.runtime.message = message
        for key, value in fields.items():
            setattr(self.runtime, key, value)
        self.pod.write_runtime(self.runtime)

    def log(self, text: str) -> None:
        """The app's own output, as ``<app>[web.1]: ...``."""
        lines = format_lines(self.config.app, self.config.source, text)
        self.logs.append(self.config.app, lines, gid=self.config.gid)

    def event(self, text: str) -> None:
        """What the supervisor did, as ``<app>[dockyard]: web.1 ...``."""
        line = f"{self.config.source} {text}"
        lines = format_lines(self.config.app, "dockyard", line)
        self.logs.append(self.config.app, lines, gid=self.config.gid)

    def _preexec(self) -> None:
        # Runs in the forked child as root: join the cgroup, then drop privileges for good.
        limits.enter(self.applied)
        self._demote()

    def _demote(self) -> None:
        identity.drop(self.config.uid, self.config.gid, max_procs=self.config.max_procs)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        self.applied = limits.prepare(
            self.config.name,
            memory=self.config.memory,
            cpu=self.config.cpu,
            use_cgroups=self.config.use_cgroups,
        )
        self.event(self.applied.description)
        failures = 0
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                outcome = await self._run_once()
                if outcome == "stopped":
                    break
                if time.monotonic() - started > max(60.0, self.config.backoff_max):
                    failures = 0
                failures += 1
                self.runtime.restarts += 1
                delay = min(self.config.backoff_base * 2 ** (failures - 1), self.config.backoff_max)
                state = PodState.error if outcome.startswith("error") else PodState.crashed
                self.set(state, f"{outcome}; restarting in {delay:g}s", ready=False, child_pid=None)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self.stop.wait()
        finally:
            self._kill_leftovers()
            limits.release(self.applied)
            self.set(PodState.down, "stopped", ready=False, child_pid=None)

    async def _run_once(self) -> str:
        """Run the command until it exits, fails liveness, or we are told to stop. The last
        failure stays in the message until the process is ready again."""
        self.set(PodState.creating, ready=False)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                with_profile(self.config.command),
                cwd=self.config.cwd,
                env=self.config.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=self._preexec,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            self.event(f"cannot start: {exc}")
            return f"error: cannot start: {exc}"
        proc = self.proc
        self.set(PodState.starting, child_pid=proc.pid)
        self.event(f"starting process with command `{self.config.command}`")
        pump = asyncio.create_task(self._pump(proc), name="pump")
        exited = asyncio.create_task(proc.wait(), name="wait")
        stop = asyncio.create_task(self.stop.wait(), name="stop")
        health = asyncio.create_task(self._health(), name="health")
        try:
            done, _ = await asyncio.wait(
                {exited, stop, health}, return_when=asyncio.FIRST_COMPLETED
            )
            if exited in done:
                outcome = f"exited with status {proc.returncode}"
            elif stop in done:
                await self._terminate(proc)
                outcome = "stopped"
            else:
                self.event("liveness probe failed, restarting")
                await self._terminate(proc)
                outcome = "liveness probe failed"
        finally:
            for task in (exited, stop, health):
                task.cancel()
            self._kill_leftovers()
            # The pipe closes once the group is gone; give the last lines a moment to land.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(pump, 2.0)
            pump.cancel()
        if outcome != "stopped":
            self.event(f"process {outcome}")
        return outcome

    async def _terminate(self, proc: asyncio.subprocess.Process) -> None:
        self.set(PodState.terminating, "", ready=False)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), self.config.grace_period)
        except TimeoutError:
            self.event(f"process did not stop in {self.config.grace_period:g}s, killing it")
        self._kill_leftovers()
        await proc.wait()

    def _kill_leftovers(self) -> None:
        """SIGKILL the process group, then anything of the pod that escaped it."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in self.applied.pids() | set(pod_processes(self.config.name)):
            if pid != os.getpid():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    async def _pump(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        partial = b""
        while True:
            chunk = await proc.stdout.read(_READ_CHUNK)
            if not chunk:
                break
            data = partial + chunk
            *lines, partial = data.split(b"\n")
            if lines:
                self.log("\n".join(line.decode("utf-8", "replace") for line in lines))
        if partial:
            self.log(partial.decode("utf-8", "replace"))

    def _target(self) -> Target:
        return Target(
            port=self.config.port, cwd=self.config.cwd, env=self.config.env, preexec=self._demote
        )

    async def _health(self) -> None:
        """Mark the pod ready, keep probing its readiness, and return only when liveness
        fails."""
        await self._until_ready()
        self.set(PodState.up, "", ready=True)
        readiness = asyncio.create_task(self._watch_readiness(), name="readiness")
        try:
            await self._until_liveness_fails()
        finally:
            readiness.cancel()

    async def _until_liveness_fails(self) -> None:
        if self.liveness is None:
            await asyncio.Event().wait()
            return
        probe = self.liveness
        tracker = Tracker(probe)
        await asyncio.sleep(probe.initial_delay)
        while True:
            if tracker.record(await check(probe, self._target())) is False:
                return
            await asyncio.sleep(probe.period)

    async def _watch_readiness(self) -> None:
        """As in Kubernetes, readiness is probed for the pod's whole life: after
        ``failureThreshold`` failures the pod leaves the router's rotation and shows as
        ``starting`` (Running but not ready, as the kubernetes scheduler maps it) while the
        process keeps running; after ``successThreshold`` successes it is ``up`` again."""
        probe = self.readiness
        if probe is None:
            return
        tracker = Tracker(probe)
        while True:
            await asyncio.sleep(probe.period)
            result = tracker.record(await check(probe, self._target()))
            if result is False and self.runtime.ready:
                self.event("readiness probe failed, out of rotation until it passes")
                self.set(PodState.starting, "readiness probe failing", ready=False)
            elif result is True and not self.runtime.ready:
                self.event("readiness probe passes again, back in rotation")
                self.set(PodState.up, "", ready=True)

    async def _until_ready(self) -> None:
        probe = self.readiness
        if probe is None:
            await asyncio.sleep(self.config.settle)
            return
        tracker = Tracker(probe)
        await asyncio.sleep(probe.initial_delay)
        while True:
            result = tracker.record(await check(probe, self._target()))
            if result:
                return
            if result is False:
                # Kubernetes keeps probing an unready pod; reset and keep trying.
                tracker = Tracker(probe)
                self.runtime.message = "readiness probe failing"
                self.pod.write_runtime(self.runtime)
            # Until the pod is first ready, probe more often than the period: a deploy then
            # waits for the app to come up, not for the next tick of a 10 s default period.
            await asyncio.sleep(min(probe.period, STARTUP_PROBE_INTERVAL))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m dockyard.scheduler.local.shim <pod dir>", file=sys.stderr)
        return 2
    pod = PodDir(Path(args[0]))
    config = pod.config()
    if config is None:
        print(f"no pod config in {pod.path}", file=sys.stderr)
        return 1
    asyncio.run(Shim(pod, config).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
