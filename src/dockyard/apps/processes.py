"""An app's processes: scale, list pods, restart, one-off runs and logs. Scale and restart
hold the app's lock; reads do not."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core.errors import Invalid, NotFound
from dockyard.releases import engine
from dockyard.scheduler.base import DeploySpec, PodStatus, RunResult, RunSpec, Scheduler

NO_BUILD = "No build associated with this release"
NO_BUILD_RUN = "No build associated with this release to run this command"
POD_NAME_RE = re.compile(r"^[a-z0-9-]+-[a-z0-9-]+-\d+-[a-z0-9]{5}$")


def parse_structure(data: dict[str, Any]) -> dict[str, int]:
    """``{"web": 3}`` with non-negative integers (numeric strings accepted, as the
    reference did) or ``400 Invalid scaling format``."""
    if not data:
        raise Invalid("Invalid scaling format: no process types given")
    structure: dict[str, int] = {}
    for ptype, raw in data.items():
        value: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
            digits = raw.strip().lstrip("0") or "0"
            value = int(digits) if len(digits) <= 4 else None  # int() refuses 4300+ digits
        if value is None or value < 0 or value > 1000:
            raise Invalid(f"Invalid scaling format: {ptype}={raw!r} is not an integer in 0-1000")
        structure[ptype] = value
    return structure


async def scale(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app: App,
    actor: str,
    changes: dict[str, int],
) -> None:
    release = await engine.current_release(session, app)
    spec = await engine.spec_for(session, app, release)
    if spec is None:
        raise Invalid(NO_BUILD)
    for ptype in changes:
        if ptype not in spec.processes:
            raise NotFound(f"Container type {ptype} does not exist in application")
    structure = {**(app.structure or {}), **changes}
    await scheduler.scale(DeploySpec(release=spec, structure=structure))
    app.structure = structure
    await session.commit()
    scaled = " ".join(f"{t}={n}" for t, n in sorted(changes.items()))
    await engine.record(scheduler, app, f"{actor} scaled pods {scaled}")


async def pods(*, scheduler: Scheduler, app: App, ptype: str | None = None) -> list[PodStatus]:
    return await scheduler.pods(app.id, type=ptype)


async def restart(
    *,
    scheduler: Scheduler,
    app: App,
    actor: str,
    ptype: str | None = None,
    name: str | None = None,
) -> list[PodStatus]:
    restarted = await scheduler.restart(app.id, type=ptype, name=name)
    what = name or (f"{ptype} pods" if ptype else "all pods")
    await engine.record(scheduler, app, f"{actor} restarted {what}")
    return restarted


async def run(
    *, session: AsyncSession, scheduler: Scheduler, app: App, actor: str, command: str | None
) -> RunResult:
    if not command or not command.strip():
        raise Invalid("command is a required field")
    release = await engine.current_release(session, app)
    spec = await engine.spec_for(session, app, release)
    if spec is None:
        raise Invalid(NO_BUILD_RUN)
    await engine.record(scheduler, app, f"{actor} runs '{command}'")
    return await scheduler.run(RunSpec(release=spec, command=command))


async def logs(*, scheduler: Scheduler, app: App, lines: int) -> str:
    return await scheduler.logs(app.id, lines=lines)
