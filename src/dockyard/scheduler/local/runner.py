"""One-off commands (``POST run``): ``/bin/sh -c <command>`` in the build's directory with the
release's env, as the app user, in its own process group, waited for by the agent.

stdout and stderr are merged and kept up to ``output_limit`` bytes (1 MiB by default; the rest
is read and dropped so the command never blocks on a full pipe). When the timeout passes, the
whole process group is killed and the exit code is 124, as with timeout(1). A command killed by
signal N answers 128 + N, as a shell would. Either event is noted on the last line of output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path

from dockyard.scheduler.base import RunError, RunResult, RunSpec, release_env, with_profile
from dockyard.scheduler.local.node import base_env
from dockyard.scheduler.local.pods import POD_ENV, pod_processes

DEFAULT_OUTPUT_LIMIT = 1024 * 1024
TIMEOUT_EXIT_CODE = 124


def _build_dir(spec: RunSpec) -> str:
    cwd = spec.release.source_dir
    if not cwd or not Path(cwd).is_dir():
        raise RunError(f"The build directory of {spec.release.label} does not exist")
    return cwd


async def run_command(
    spec: RunSpec,
    *,
    name: str,
    time_limit: float,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    preexec: Callable[[], None] | None = None,
) -> RunResult:
    cwd = _build_dir(spec)
    env = base_env(cwd)
    env.update(release_env(spec.release))
    env[POD_ENV] = name
    try:
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            with_profile(spec.command),
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,
        )
    except OSError as exc:
        raise RunError(f"Cannot run the command: {exc}") from exc
    kept = bytearray()
    truncated = False

    async def drain() -> None:
        nonlocal truncated
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(64 * 1024):
            room = output_limit - len(kept)
            if len(chunk) > room:
                truncated = True
            kept.extend(chunk[: max(room, 0)])

    timed_out = False
    reader = asyncio.create_task(drain(), name=f"run-output:{name}")
    try:
        await asyncio.wait_for(proc.wait(), time_limit)
    except TimeoutError:
        timed_out = True
    finally:
        # Background children would hold the pipe open: the run ends with its command.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in await asyncio.to_thread(pod_processes, name):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        await proc.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader, 5.0)
        reader.cancel()
    output = kept.decode("utf-8", "replace")
    notes = []
    if truncated:
        notes.append(f"[output truncated at {output_limit} bytes]")
    if timed_out:
        notes.append(f"[command timed out after {time_limit:g}s]")
    if notes:
        output += ("" if output.endswith("\n") or not output else "\n") + "\n".join(notes) + "\n"
    code = proc.returncode if proc.returncode is not None else -1
    if timed_out:
        code = TIMEOUT_EXIT_CODE
    elif code < 0:
        code = 128 - code
    return RunResult(exit_code=code, output=output, truncated=truncated, timed_out=timed_out)
