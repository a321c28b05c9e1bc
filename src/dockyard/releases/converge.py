"""Bring apps back at a server's start: an app that should be running (a current release
with a build, and a structure with some pods) but of which the scheduler has no pod at all
is deployed again with its current release and recorded structure.

The local node agent re-adopts the pods it finds in its own state, so after an ordinary
restart every app has its pods and nothing is done here. This is for a scheduler that lost
them: a restored backup (which leaves the agent's state out), a data dir whose ``local/``
was removed, a Kubernetes namespace deleted behind the controller's back. Unlike a deploy
from the API, a failure here marks no release failed (the release did run before); it is
logged and in the app's log, and the API can deploy or scale the app as usual.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.releases import engine
from dockyard.scheduler.base import DeploySpec, Scheduler, SchedulerError

log = logging.getLogger("dockyard")


def wanted(structure: dict[str, int] | None, types: set[str]) -> dict[str, int]:
    """The structure to run the release with (pure): the recorded counts of the types the
    release has; empty when none of them is above 0."""
    kept = {t: int(n) for t, n in (structure or {}).items() if t in types}
    return kept if any(n > 0 for n in kept.values()) else {}


async def redeploy_missing(*, session: AsyncSession, scheduler: Scheduler) -> list[str]:
    """Deploy every app that should run but has no pod; the ids of those brought back."""
    restored = []
    for app in list(await session.scalars(select(App).order_by(App.id))):
        release = await engine.current_release(session, app)
        spec = await engine.spec_for(session, app, release)
        if spec is None:
            continue
        structure = wanted(app.structure, set(spec.processes))
        if not structure or await scheduler.pods(app.id):
            continue
        try:
            await scheduler.deploy(DeploySpec(release=spec, structure=structure))
        except SchedulerError as exc:
            log.warning("could not start %s v%d again: %s", app.id, release.version, exc.message)
            await engine.record(
                scheduler, app, f"starting v{release.version} again failed: {exc.message}"
            )
            continue
        counts = " ".join(f"{t}={n}" for t, n in sorted(structure.items()))
        await engine.record(
            scheduler, app, f"v{release.version} started again ({counts}): no pod was running"
        )
        restored.append(app.id)
    return restored
