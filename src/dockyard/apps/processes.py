"""An app's processes: scale, stop and start (a scale to 0 that remembers the counts, and
back), list pods, restart, one-off runs and logs. Scale, stop, start and restart run under
the app's lock (callers hold it, ``apps.service.hold_app``); reads do not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core.errors import Invalid, NotFound
from dockyard.releases import engine
from dockyard.scheduler.base import (
    DeploySpec,
    PodStatus,
    ReleaseSpec,
    RunResult,
    RunSpec,
    Scheduler,
)

NO_BUILD = "No build associated with this release"
NO_BUILD_RUN = "No build associated with this release to run this command"
NO_TYPES = "types is a required field: name at least one process type"
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


async def _current_spec(session: AsyncSession, app: App) -> ReleaseSpec:
    release = await engine.current_release(session, app)
    spec = await engine.spec_for(session, app, release)
    if spec is None:
        raise Invalid(NO_BUILD)
    return spec


async def _apply(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app: App,
    spec: ReleaseSpec,
    changes: dict[str, int],
    stopped: dict[str, int],
    event: str,
) -> None:
    """The one scale path (scale, stop and start): the scheduler runs the new structure,
    then the structure and the counts ``stop`` remembers are recorded, then the event."""
    structure = {**(app.structure or {}), **changes}
    await scheduler.scale(DeploySpec(release=spec, structure=structure))
    app.structure = structure
    app.stopped = stopped
    await session.commit()
    await engine.record(scheduler, app, event)


async def scale(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app: App,
    actor: str,
    changes: dict[str, int],
) -> None:
    spec = await _current_spec(session, app)
    for ptype in changes:
        if ptype not in spec.processes:
            raise NotFound(f"Container type {ptype} does not exist in application")
    # Scaling a stopped type sets its count anew: ``start`` has nothing to bring back.
    stopped = {t: n for t, n in (app.stopped or {}).items() if t not in changes}
    scaled = " ".join(f"{t}={n}" for t, n in sorted(changes.items()))
    await _apply(
        session=session,
        scheduler=scheduler,
        app=app,
        spec=spec,
        changes=changes,
        stopped=stopped,
        event=f"{actor} scaled pods {scaled}",
    )


def _types(types: Sequence[str], spec: ReleaseSpec) -> list[str]:
    """The process types a stop or start names, once each, all of the current release."""
    wanted = list(dict.fromkeys(types))
    unknown = [t for t in wanted if t not in spec.processes]
    if unknown:
        if len(unknown) == 1:
            raise Invalid(f"Container type {unknown[0]} does not exist in application")
        raise Invalid(f"Container types {', '.join(unknown)} do not exist in application")
    return wanted


async def stop(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app: App,
    actor: str,
    types: Sequence[str] | None,
) -> None:
    """Scale ``types`` to 0, remembering the count of each that was running. A type that is
    stopped already keeps the count remembered first; one already at 0 has none."""
    if not types:
        raise Invalid(NO_TYPES, field="types")
    spec = await _current_spec(session, app)
    wanted = _types(types, spec)
    structure = app.structure or {}
    stopped = dict(app.stopped or {})
    for ptype in wanted:
        count = int(structure.get(ptype, 0))
        if count > 0:
            stopped[ptype] = count
    await _apply(
        session=session,
        scheduler=scheduler,
        app=app,
        spec=spec,
        changes=dict.fromkeys(wanted, 0),
        stopped=stopped,
        event=f"{actor} stopped pods {' '.join(wanted)}",
    )


async def start(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app: App,
    actor: str,
    types: Sequence[str] | None,
) -> None:
    """Scale each of ``types`` that ``stop`` stopped back to its remembered count. A type
    with no remembered count (never stopped, or scaled since) is left as it is, so a start
    can be repeated, and "start everything" need not know what is stopped."""
    if not types:
        raise Invalid(NO_TYPES, field="types")
    spec = await _current_spec(session, app)
    wanted = _types(types, spec)
    remembered = dict(app.stopped or {})
    changes = {t: int(remembered[t]) for t in wanted if t in remembered}
    if not changes:
        return
    started = " ".join(f"{t}={n}" for t, n in changes.items())
    await _apply(
        session=session,
        scheduler=scheduler,
        app=app,
        spec=spec,
        changes=changes,
        stopped={t: n for t, n in remembered.items() if t not in changes},
        event=f"{actor} started pods {started}",
    )


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
