"""The fake cluster's one node: schedules pods (honouring ``nodeSelector``), runs their
single container as a toy program chosen by its image, evaluates readiness probes, restarts
crashed containers with a back-off, and reports pod status and Warning events the way a
kubelet does.

Programs by image (anything else behaves like ``fake/web``):

- ``fake/web`` serves HTTP on ``$PORT``: httpGet and tcpSocket probes on that port (or on the
  port named ``http``) pass; ``FakeCluster.http_get`` answers its release and env.
- ``fake/worker`` prints ``tick N`` and ``stderr tick N`` every 0.2 s.
- ``fake/sleep`` listens nowhere: httpGet/tcpSocket probes fail, exec probes pass.
- ``fake/crash`` prints ``boom`` and exits 3 at once (then ``CrashLoopBackOff``).
- an image containing ``missing`` cannot be pulled (``ErrImagePull``, ``ImagePullBackOff``),
  and an invalid reference is ``InvalidImageName``, as on a real kubelet.

A pod with ``restartPolicy: Never`` and a command (a one-off run) really runs it with
``/bin/sh -c`` and the pod's env (plus ``DOCKYARD_POD``, so leak guards can see it), and
``activeDeadlineSeconds`` kills it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from dockyard.scheduler.kubernetes.fake.store import Store, now_iso, random_suffix

Object = dict[str, Any]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TICK = 0.2
_REFERENCE = re.compile(r"^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)*$")
UNSCHEDULABLE = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity."


@dataclass
class Container:
    program: str
    scheduled: float
    started: float | None = None
    started_at: str = ""
    stopped: float | None = None
    restarts: int = 0
    exit_code: int | None = None
    last_exit: int | None = None
    log: list[tuple[str, str]] = field(default_factory=list)
    ticks: int = 0
    process: asyncio.subprocess.Process | None = None
    reader: asyncio.Task[None] | None = None
    warned: set[str] = field(default_factory=set)
    deleted: float | None = None
    deadline_hit: bool = False
    ready_since: str = ""


def program_of(image: str) -> str:
    if not _REFERENCE.match(image):
        return "invalid-image"
    if "missing" in image:
        return "pull-error"
    name = image.rsplit("/", 1)[-1].split(":")[0]
    if image.startswith("fake/") and name in ("web", "worker", "sleep", "crash"):
        return {"web": "serve", "worker": "tick"}.get(name, name)
    return "serve"


class Kubelet:
    def __init__(
        self,
        store: Store,
        *,
        node: str = "fake-node",
        labels: dict[str, str] | None = None,
        startup: float = 0.05,
        backoff: float = 0.1,
    ) -> None:
        self.store = store
        self.node = node
        self.labels = {"kubernetes.io/hostname": node, **(labels or {})}
        self.startup = startup
        self.backoff = backoff
        self.containers: dict[str, Container] = {}

    # -- helpers -----------------------------------------------------------------------

    def env(self, pod: Object) -> dict[str, str]:
        spec = pod["spec"]["containers"][0]
        namespace = pod["metadata"]["namespace"]
        env: dict[str, str] = {}
        for source in spec.get("envFrom") or []:
            ref = (source.get("secretRef") or {}).get("name")
            secret = self.store.find("secrets", namespace, ref) if ref else None
            for key, value in ((secret or {}).get("data") or {}).items():
                env[key] = base64.b64decode(value).decode()
        for item in spec.get("env") or []:
            env[item["name"]] = str(item.get("value", ""))
        return env

    def _event(self, pod: Object, c: Container, reason: str, message: str) -> None:
        if reason + message in c.warned:
            return
        c.warned.add(reason + message)
        meta = pod["metadata"]
        self.store.create(
            "events",
            meta["namespace"],
            {
                "metadata": {"name": f"{meta['name']}.{random_suffix(10)}"},
                "involvedObject": {
                    "kind": "Pod",
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                },
                "reason": reason,
                "message": message,
                "type": "Warning",
                "count": 1,
                "lastTimestamp": now_iso(precise=True),
            },
        )

    def _print(self, c: Container, line: str) -> None:
        c.log.append((now_iso(precise=True), line))

    def _probe_passes(self, pod: Object, c: Container, probe: Object) -> tuple[bool, str]:
        if "exec" in probe:
            return c.program != "crash", "exec probe failed"
        action = probe.get("httpGet") or probe.get("tcpSocket") or {}
        port = action.get("port")
        own = self.env(pod).get("PORT", "")
        listening = c.program == "serve" and not action.get("host")
        ok = listening and (str(port) == own or port == "http")
        where = f"{action.get('host') or '10.0.0.1'}:{port}"
        return ok, f"dial tcp {where}: connect: connection refused"

    # -- the step ----------------------------------------------------------------------

    async def step(self) -> None:
        now = time.monotonic()
        for pod in list(self.store.items("pods")):
            await self._pod(pod, now)

    async def _pod(self, pod: Object, now: float) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        uid = meta["uid"]
        c = self.containers.get(uid)
        if meta.get("deletionTimestamp"):
            if c is None:
                self.store.remove("pods", meta["namespace"], meta["name"])
                return
            await self._kill(c)
            c.deleted = c.deleted or now
            if now - c.deleted >= min(
                self.startup, float(meta.get("deletionGracePeriodSeconds", 1))
            ):
                self.store.remove("pods", meta["namespace"], meta["name"])
                self.containers.pop(uid, None)
            return
        if not spec.get("nodeName"):
            wanted = spec.get("nodeSelector") or {}
            if any(self.labels.get(k) != v for k, v in wanted.items()):
                message = UNSCHEDULABLE
                self.store.set_status(
                    pod,
                    {
                        "phase": "Pending",
                        "conditions": [
                            {
                                "type": "PodScheduled",
                                "status": "False",
                                "reason": "Unschedulable",
                                "message": message,
                            }
                        ],
                    },
                )
                return
            spec["nodeName"] = self.node
            image = spec["containers"][0].get("image", "")
            never = spec.get("restartPolicy") == "Never" and spec["containers"][0].get("command")
            program = program_of(image)
            if never and program not in ("invalid-image", "pull-error"):
                program = "shell"
            c = self.containers[uid] = Container(program, now)
        if c is None:
            c = self.containers[uid] = Container(program_of(spec["containers"][0]["image"]), now)
        await self._advance(pod, c, now)
        self.store.set_status(pod, self._status(pod, c, now))

    async def _advance(self, pod: Object, c: Container, now: float) -> None:
        image = pod["spec"]["containers"][0].get("image", "")
        if c.program == "invalid-image":
            return
        if c.program == "pull-error":
            if now - c.scheduled > self.startup:
                self._event(pod, c, "Failed", f'Failed to pull image "{image}": manifest unknown')
            return
        if c.started is None and c.stopped is None and now - c.scheduled >= self.startup:
            await self._start(pod, c, now)
        elif c.stopped is not None and c.exit_code is not None and c.program == "crash":
            if now - c.stopped >= self.backoff * c.restarts:
                c.restarts += 1
                c.last_exit, c.exit_code, c.stopped = c.exit_code, None, None
                await self._start(pod, c, now)
            else:
                self._event(pod, c, "BackOff", "Back-off restarting failed container")
        if c.started is None:
            return
        if c.program == "crash" and c.stopped is None and now - c.started > 0.01:
            self._print(c, "boom")
            c.exit_code, c.stopped = 3, now
        elif c.program == "tick":
            while c.ticks < int((now - c.started) / TICK) + 1:
                c.ticks += 1
                self._print(c, f"tick {c.ticks}")
                self._print(c, f"stderr tick {c.ticks}")
        elif c.program == "shell":
            deadline = pod["spec"].get("activeDeadlineSeconds")
            if deadline and c.stopped is None and now - c.started > deadline:
                c.deadline_hit = True
                await self._kill(c)
            if c.process is not None and c.process.returncode is not None and c.stopped is None:
                if c.reader is not None:
                    await c.reader
                c.exit_code, c.stopped = c.process.returncode, now
                if c.exit_code < 0:
                    c.exit_code = 128 - c.exit_code

    async def _start(self, pod: Object, c: Container, now: float) -> None:
        c.started, c.started_at = now, now_iso()
        if c.program == "serve":
            self._print(c, f"listening on {self.env(pod).get('PORT', '')}")
        if c.program != "shell":
            return
        container = pod["spec"]["containers"][0]
        env = {"PATH": DEFAULT_PATH, **self.env(pod), "DOCKYARD_POD": pod["metadata"]["name"]}
        c.process = await asyncio.create_subprocess_exec(
            *container["command"],
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        c.reader = asyncio.create_task(
            self._read(c), name=f"fake-kubelet-{pod['metadata']['name']}"
        )

    async def _read(self, c: Container) -> None:
        assert c.process is not None and c.process.stdout is not None
        async for line in c.process.stdout:
            self._print(c, line.decode(errors="replace").rstrip("\n"))
        await c.process.wait()

    async def _kill(self, c: Container) -> None:
        if c.process is not None and c.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(c.process.pid, signal.SIGKILL)
            await c.process.wait()
        if c.reader is not None:
            await c.reader

    def _status(self, pod: Object, c: Container, now: float) -> Object:
        spec = pod["spec"]["containers"][0]
        started_at = pod.get("status", {}).get("startTime") or now_iso()
        state: Object
        phase, ready = "Pending", False
        last: Object = {}
        if c.last_exit is not None:
            last = {"terminated": {"exitCode": c.last_exit, "reason": "Error"}}
        if c.program == "invalid-image":
            image = spec["image"]
            message = (
                f'Failed to apply default image tag "{image}": couldn\'t parse image reference '
                f'"{image}": invalid reference format'
            )
            state = {"waiting": {"reason": "InvalidImageName", "message": message}}
        elif c.program == "pull-error":
            late = now - c.scheduled > self.startup + self.backoff
            reason = "ImagePullBackOff" if late else "ErrImagePull"
            state = {
                "waiting": {
                    "reason": reason,
                    "message": f'Back-off pulling image "{spec["image"]}"',
                }
            }
        elif c.started is None:
            state = {"waiting": {"reason": "ContainerCreating"}}
        elif c.stopped is not None and c.exit_code is not None:
            reason = "Completed" if c.exit_code == 0 else "Error"
            if c.program == "shell":
                phase = "Succeeded" if c.exit_code == 0 and not c.deadline_hit else "Failed"
                state = {"terminated": {"exitCode": c.exit_code, "reason": reason}}
            else:
                phase = "Running"
                last = {"terminated": {"exitCode": c.exit_code, "reason": reason}}
                state = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off restarting failed container",
                    }
                }
        else:
            phase, state = "Running", {"running": {"startedAt": c.started_at}}
            ready = True
            probe = spec.get("readinessProbe")
            if probe:
                ok, why = self._probe_passes(pod, c, probe)
                assert c.started is not None
                ready = ok and now - c.started >= float(probe.get("initialDelaySeconds", 0))
                if not ok:
                    self._event(pod, c, "Unhealthy", f"Readiness probe failed: {why}")
        if ready and not c.ready_since:
            c.ready_since = now_iso(precise=True)
        elif not ready:
            c.ready_since = ""
        readiness: Object = {"type": "Ready", "status": "True" if ready else "False"}
        if ready:
            readiness["lastTransitionTime"] = c.ready_since
        status: Object = {
            "phase": phase,
            "hostIP": "127.0.0.1",
            "podIP": "10.0.0.1",
            "startTime": started_at,
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                readiness,
            ],
            "containerStatuses": [
                {
                    "name": spec["name"],
                    "image": spec["image"],
                    "ready": ready,
                    "restartCount": c.restarts,
                    "state": state,
                    "lastState": last,
                }
            ],
        }
        if c.deadline_hit:
            status["reason"] = "DeadlineExceeded"
        return status

    async def close(self) -> None:
        for c in self.containers.values():
            await self._kill(c)
        self.containers.clear()
