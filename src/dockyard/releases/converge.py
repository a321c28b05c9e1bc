"""Make the scheduler run what the database says (desired state lives in the database):
each app's current release (the newest one not failed) with its recorded structure.

It runs at every server start and whenever the node agent has been restarted. Usually it
finds nothing to do: the local agent re-adopts the pods it finds in its own state. It acts
when the scheduler and the database disagree:

- the scheduler has no pod of an app that should run: a restored backup (which leaves the
  agent's state out), a data dir whose ``local/`` was removed, a namespace deleted behind
  the controller's back. The release is deployed again;
- pods run another release than the current one: a deploy that the server's or the agent's
  death cut off after the agent had switched, but before the database heard (the release
  was marked failed), or the other way round. The current release is deployed;
- the pod counts differ from the structure: a scale cut off the same way. The app is scaled.

Unlike a deploy from the API, a failure here marks no release failed (the release did run
before); it is logged and written to the app's log, and the API can deploy or scale the app
as usual.
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.db.locks import AppLocks
from dockyard.releases import engine
from dockyard.scheduler.base import DeploySpec, PodState, PodStatus, Scheduler, SchedulerError

log = logging.getLogger("dockyard")


def wanted(structure: dict[str, int] | None, types: set[str]) -> dict[str, int]:
    """The structure to run the release with (pure): the recorded counts of the types the
    release has; empty when none of them is above 0."""
    kept = {t: int(n) for t, n in (structure or {}).items() if t in types}
    return kept if any(n > 0 for n in kept.values()) else {}


def repair(label: str, structure: dict[str, int], pods: list[PodStatus]) -> tuple[str, str] | None:
    """What an app needs (pure), and why: ``deploy`` when pods should run but none does or
    some run another release, ``scale`` when only the counts differ; None if nothing."""
    live = [p for p in pods if p.state != PodState.terminating]
    if not live:
        return ("deploy", "no pod was running") if structure else None
    others = sorted({p.release for p in live if p.release != label})
    if others:
        return "deploy", f"pods ran {', '.join(others)}"
    counts = Counter(p.type for p in live)
    if any(counts[t] != structure.get(t, 0) for t in set(counts) | set(structure)):
        return "scale", f"pods were {_counts(counts)}"
    return None


def _counts(structure: dict[str, int] | Counter[str]) -> str:
    return " ".join(f"{t}={n}" for t, n in sorted(structure.items())) or "none"


async def converge_all(
    *, session: AsyncSession, scheduler: Scheduler, locks: AppLocks
) -> list[str]:
    """Bring every app to its current release and structure; the ids of those changed."""
    changed = []
    for uuid, name in (await session.execute(select(App.uuid, App.id).order_by(App.id))).all():
        # Under the app's lock, as every deploy and scale is: none is half-way through.
        async with locks.hold(uuid):
            if await _converge(session, scheduler, uuid):
                changed.append(name)
    return changed


async def _converge(session: AsyncSession, scheduler: Scheduler, uuid: str) -> bool:
    session.expire_all()  # what the last deploy or scale committed, not an older read
    app = await session.get(App, uuid)
    if app is None:
        return False
    release = await engine.current_release(session, app)
    spec = await engine.spec_for(session, app, release)
    if spec is None:
        return False
    structure = wanted(app.structure, set(spec.processes))
    needed = repair(spec.label, structure, await scheduler.pods(app.id))
    if needed is None:
        return False
    action, why = needed
    target = DeploySpec(release=spec, structure=structure)
    try:
        if action == "deploy":
            await scheduler.deploy(target)
        else:
            await scheduler.scale(target)
    except SchedulerError as exc:
        log.warning("could not bring %s back to v%d: %s", app.id, release.version, exc.message)
        await engine.record(
            scheduler, app, f"bringing back v{release.version} failed: {exc.message}"
        )
        return False
    message = f"v{release.version} started again ({_counts(structure)}): {why}"
    log.info("%s: %s", app.id, message)
    await engine.record(scheduler, app, message)
    return True
