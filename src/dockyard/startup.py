"""The database work of each ``dockyard server`` start: apply the migrations, publish
every app's route again (one lost while the agent was away comes back), and deploy again
every app that should run but of which the scheduler has no pod (after a restore:
``releases.converge``).

``dockyard server`` runs this as a short-lived child process (``python -m dockyard.startup``)
rather than in its own process, which stays up for the server's whole life: that way the
supervisor never loads Alembic, the ORM or the models, and stays small. ``dockyard migrate``
runs it too, without ``--publish``.

The child exits 0 when the database is ready (an unreachable scheduler only logs, since
routes are published again on the next change to an app), and 1 with a one-line reason when
the database cannot be reached or migrated (``SystemExit``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dockyard.api.runtime import make_scheduler
from dockyard.core import layout, logs
from dockyard.core.settings import Settings
from dockyard.db.locks import AppLocks
from dockyard.db.migrate import upgrade
from dockyard.db.session import Database
from dockyard.releases.converge import converge_all
from dockyard.releases.slugs import interrupted_builds, reseal_all
from dockyard.routing.publish import publish_all
from dockyard.scheduler.base import SchedulerUnavailable

log = logging.getLogger("dockyard")


def _where(url: str) -> str:
    """The database URL as it is safe to show: never its password."""
    return make_url(url).render_as_string(hide_password=True)


def migrate(settings: Settings) -> None:
    """Apply the migrations; a database that cannot be used ends the process with the reason
    in one line (and never the password of its URL)."""
    url = settings.resolved_database_url
    try:
        upgrade(url)
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise SystemExit(
            f"The database at {_where(url)} cannot be used (DOCKYARD_DATABASE_URL): {reason}"
        ) from exc


def publish_routes(settings: Settings) -> None:
    """Publish every app's route, then bring every app to its current release and scale
    (``releases.converge``)."""

    async def publish() -> int:
        database = Database(settings.resolved_database_url, pool_size=1)
        scheduler = make_scheduler(settings)
        try:
            async with database.session() as session:
                count = await publish_all(
                    session=session, scheduler=scheduler, platform_domain=settings.platform_domain
                )
                locks = AppLocks(database, settings.data_dir / "locks")
                await converge_all(session=session, scheduler=scheduler, locks=locks)
            return count
        finally:
            await scheduler.aclose()
            await database.close()

    try:
        count = asyncio.run(publish())
    except SchedulerUnavailable as exc:
        # The API still serves (and answers 503 where it needs the scheduler); every route
        # is published again on the next change to its app, or at the next start.
        log.warning("could not publish the apps' routes: %s", exc.message)
        return
    log.info("published the routes of %d apps", count)


def recover_builds(settings: Settings) -> None:
    """Builds that were running when the server last stopped died with their API worker:
    mark them failed, delete their half-made slugs, and empty the builds' scratch space.
    Slugs from before per-app uids become their app's alone."""

    async def recover() -> tuple[int, int]:
        database = Database(settings.resolved_database_url, pool_size=1)
        try:
            async with database.session() as session:
                count = await interrupted_builds(session=session, data_dir=settings.data_dir)
                return count, await reseal_all(session=session, data_dir=settings.data_dir)
        finally:
            await database.close()

    count, resealed = asyncio.run(recover())
    if count:
        log.warning("%d builds were interrupted by the last stop; marked failed", count)
    if resealed:
        log.info("the slugs of %d apps were made readable by their own app only", resealed)
    scratch = layout.tmp_dir(settings.data_dir)
    for entry in scratch.iterdir() if scratch.is_dir() else ():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="The database work of a server start.")
    parser.add_argument("--publish", action="store_true", help="also publish every app's route")
    parser.add_argument(
        "--converge",
        action="store_true",
        help="only publish the routes and converge the apps (after the agent restarted)",
    )
    args = parser.parse_args()
    settings = Settings()
    logs.configure(settings.log_level)
    if args.converge:
        publish_routes(settings)
        return 0
    migrate(settings)
    if args.publish:
        recover_builds(settings)
        publish_routes(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
