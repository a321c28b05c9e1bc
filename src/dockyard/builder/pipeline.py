"""One build from source, whatever brought the source (``git push`` over SSH or HTTP, an
upload): unpack, detect, compile, release, slug, then a release of the current config,
deployed like any other build.

``Builder.start`` runs the build as a background task and returns its ``BuildStream`` at
once; the caller formats that stream for its client. Builds of one app run one at a time
(the second says it waits); the deploy at the end takes the app's lock like every deploy.
A build that fails, and a deploy that fails, leave the release that was serving alone.

The build row is written when the build starts (``building``) and finished once
(``succeeded`` or ``failed``, with its log); the slug of a failed build is deleted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from dockyard.apps.models import App
from dockyard.apps.service import hold_app
from dockyard.builder import catalog
from dockyard.builder.buildpack_rules import process_types
from dockyard.builder.models import Buildpack
from dockyard.builder.pythons import candidate_pythons
from dockyard.builder.runner import BuildFailed, BuildJob, BuildRunner
from dockyard.builder.stream import BuildStream
from dockyard.core import layout
from dockyard.core.errors import DockyardError, Invalid, NotFound
from dockyard.core.settings import Settings
from dockyard.core.tasks import TaskSet
from dockyard.db.base import new_uuid
from dockyard.db.locks import AppLocks
from dockyard.db.session import Database
from dockyard.releases import slugs
from dockyard.releases.builds import release_build
from dockyard.releases.config_service import current_config
from dockyard.releases.models import Build, BuildLog
from dockyard.releases.procfile import parse_procfile
from dockyard.releases.schemas import build_out, release_out
from dockyard.scheduler.base import Scheduler

log = logging.getLogger("dockyard.builder")
MAX_ENTRIES = 100_000
LOG_LIMIT = 4 * 1024 * 1024  # what a build log keeps; a runaway build prints more


@dataclass(frozen=True)
class SourceRequest:
    """A source to build for ``app_id``, pushed or uploaded by ``actor`` (already allowed
    to). ``archive`` is a checked archive file the build deletes when done."""

    app_id: str
    actor: str
    archive: Path
    sha: str = ""
    procfile: dict[str, str] | None = None


def source_builds_supported(settings: Settings) -> None:
    if settings.scheduler != "local":
        raise Invalid(
            "Builds from source run on the local scheduler only for now; on Kubernetes, "
            'deploy a container image (POST /v2/apps/<app>/builds {"image": ...}).'
        )


def build_user(settings: Settings, app_uid: int | None = None) -> tuple[int | None, int | None]:
    """Who builds run as when the controller is root: the app's own uid and gid (its
    processes run as them too), else ``DOCKYARD_APP_USER``; otherwise the controller."""
    if os.geteuid() != 0 or not settings.app_user:
        return None, None
    if app_uid is not None:
        return app_uid, app_uid
    entry = pwd.getpwnam(settings.app_user)
    return entry.pw_uid, entry.pw_gid


class _Log:
    """The build's output: to the stream at once, and kept (up to a limit) for its log."""

    def __init__(self, stream: BuildStream) -> None:
        self.stream = stream
        self.lines: list[str] = []
        self.size = 0

    def __call__(self, line: str) -> None:
        self.stream.log(line)
        if self.size < LOG_LIMIT:
            self.lines.append(line)
            self.size += len(line) + 1

    def keep(self, line: str) -> None:
        """A line for the kept log only: the outcome says it to the client."""
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")


class Builder:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        scheduler: Scheduler,
        locks: AppLocks,
        runner: BuildRunner,
    ) -> None:
        self.settings = settings
        self.database = database
        self.scheduler = scheduler
        self.locks = locks
        self.runner = runner
        self.tasks = TaskSet("builder")
        self._pythons: list[str] | None = None

    def start(self, request: SourceRequest) -> BuildStream:
        stream = BuildStream()
        self.tasks.spawn(self._run(request, stream), f"build:{request.app_id}")
        return stream

    async def close(self) -> None:
        await self.tasks.close()

    async def _run(self, request: SourceRequest, stream: BuildStream) -> None:
        emit = _Log(stream)
        outcome: dict[str, Any]
        try:
            async with self.database.session() as session:
                app = await session.scalar(select(App).where(App.id == request.app_id))
                if app is None:
                    raise NotFound(f"The app {request.app_id} no longer exists.")
                key = f"build-{app.uuid}"
            waiting = f"-----> Waiting for the build of {request.app_id} already running to finish"
            async with self.locks.hold(key, on_wait=lambda: emit(waiting)):
                outcome = await self._build(request, emit)
        except DockyardError as exc:
            outcome = {"error": exc.message}
        except Exception:
            log.exception("build of %s failed unexpectedly", request.app_id)
            outcome = {"error": "The build failed on the controller; the error was logged."}
        finally:
            request.archive.unlink(missing_ok=True)
        stream.end(outcome)

    async def _build(self, request: SourceRequest, emit: _Log) -> dict[str, Any]:
        data_dir = self.settings.data_dir
        async with self.database.session() as session:
            app = await session.scalar(select(App).where(App.id == request.app_id))
            if app is None:
                raise NotFound(f"The app {request.app_id} no longer exists.")
            config = await current_config(session, app)
            build = Build(
                uuid=new_uuid(),
                app_uuid=app.uuid,
                owner=request.actor,
                image=f"{app.id}:{request.sha[:7] if request.sha else 'source'}",
                sha=request.sha,
                procfile={},
                status="building",
                source_dir=None,
            )
            session.add(build)
            session.add(BuildLog(build_uuid=build.uuid, text=""))
            installed = {
                name: str(catalog.installed_dir(data_dir, name))
                for name in await session.scalars(select(Buildpack.name))
            }
            await session.commit()
            env = {str(k): str(v) for k, v in dict(config.values or {}).items()}
        slug = layout.slug_dir(data_dir, app.id, build.uuid)
        work = layout.tmp_dir(data_dir) / f"build-{build.uuid}"
        try:
            types, buildpacks = await self._compile(request, app, build, env, installed, emit)
        except BuildFailed as exc:
            emit.keep(f" !     Build failed: {exc.message}")
            await self._finish(build, emit, status="failed")
            await asyncio.to_thread(slugs.discard, slug)
            raise Invalid(f"Build failed: {exc.message}") from None
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)
        await asyncio.to_thread(slugs.seal, slug, build_user(self.settings, app.uid)[1])
        build.procfile, build.buildpack, build.source_dir = types, buildpacks, str(slug)
        await self._finish(build, emit, status="succeeded")
        return await self._release(app, build, emit)

    async def _compile(
        self,
        request: SourceRequest,
        app: App,
        build: Build,
        env: dict[str, str],
        installed: dict[str, str],
        emit: _Log,
    ) -> tuple[dict[str, str], str]:
        settings = self.settings
        data_dir = settings.data_dir
        uid, gid = build_user(settings, app.uid)
        slug = layout.slug_dir(data_dir, app.id, build.uuid)
        work = layout.tmp_dir(data_dir) / f"build-{build.uuid}"
        cache = layout.cache_dir(data_dir, app.id)
        builtin = await asyncio.to_thread(catalog.builtin_buildpacks, data_dir)
        await asyncio.to_thread(_prepare, slug, work, cache, uid, gid)
        if self._pythons is None:
            self._pythons = await asyncio.to_thread(candidate_pythons, settings.pythons)
        job = BuildJob(
            build=build.uuid,
            app=app.id,
            source=str(request.archive),
            build_dir=str(slug),
            cache_dir=str(cache),
            work_dir=str(work),
            data_dir=str(data_dir),
            builtin=[(name, str(path)) for name, path in builtin],
            installed=installed,
            source_roots=[str(r) for r in settings.source_roots],
            max_bytes=settings.max_source_size,
            max_entries=MAX_ENTRIES,
            env=env,
            sha=request.sha,
            procfile_given=bool(request.procfile),
            pythons=self._pythons,
            uid=uid,
            gid=gid,
            max_procs=settings.app_max_procs,
        )
        result = await self.runner.run(job, emit)
        try:
            declared = parse_procfile(result.procfile) if result.procfile else {}
        except Invalid as exc:
            raise BuildFailed(f"The Procfile is not valid: {exc.message}") from None
        types = process_types(result.default_process_types, declared)
        types.update(request.procfile or {})
        if not types:
            raise BuildFailed(
                "The app declares no process types: add a Procfile (for example "
                "`web: gunicorn app:app`)"
            )
        emit("-----> Discovering process types")
        if declared:
            emit(f"       Procfile declares types -> {', '.join(sorted(declared))}")
        defaults = sorted(set(result.default_process_types) - set(declared))
        if defaults:
            emit(f"       Default types for buildpack -> {', '.join(defaults)}")
        emit(f"-----> Slug size is {_size(result.size)}")
        return types, ",".join(result.buildpacks)

    async def _finish(self, build: Build, emit: _Log, *, status: str) -> None:
        build.status = status
        async with self.database.session() as session:
            await session.execute(
                update(Build)
                .where(Build.uuid == build.uuid)
                .values(
                    status=status,
                    procfile=build.procfile,
                    buildpack=build.buildpack,
                    source_dir=build.source_dir,
                )
            )
            await session.execute(
                update(BuildLog).where(BuildLog.build_uuid == build.uuid).values(text=emit.text())
            )
            await session.commit()

    async def _release(self, app: App, build: Build, emit: _Log) -> dict[str, Any]:
        emit("-----> Launching...")
        async with self.database.session() as session:
            fresh = await session.get(App, app.uuid)
            row = await session.get(Build, build.uuid)
            if fresh is None or row is None:
                raise NotFound(f"The app {app.id} no longer exists.")
            try:
                async with hold_app(session, self.locks, fresh) as held:
                    release = await release_build(
                        session=session, scheduler=self.scheduler, app=held, build=row
                    )
            except DockyardError as exc:
                emit.keep(f" !     Deploy failed: {exc.message}")
                await self._save_log(build, emit)
                return {
                    "error": f"Deploy failed: {exc.message} The release that was serving "
                    "keeps serving.",
                    "build": build_out(row, app.id),
                }
            url = f"http://{app.id}.{self.settings.app_domain}/"
            emit(f"       Released v{release.version}")
            emit(f"       {url} deployed to Dockyard")
            await slugs.prune(
                session=session,
                app=fresh,
                data_dir=self.settings.data_dir,
                keep=self.settings.keep_releases,
            )
            await self._save_log(build, emit)
            return {
                "build": build_out(row, app.id),
                "release": release_out(release, app.id),
                "url": url,
            }

    async def _save_log(self, build: Build, emit: _Log) -> None:
        async with self.database.session() as session:
            await session.execute(
                update(BuildLog).where(BuildLog.build_uuid == build.uuid).values(text=emit.text())
            )
            await session.commit()


def _size(size: int) -> str:
    if size < 1024**2:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / 1024**2:.1f} MB"


def _prepare(slug: Path, work: Path, cache: Path, uid: int | None, gid: int | None) -> None:
    """The build's own directories, owned by the build user (0700): the slug it fills, its
    scratch space and the app's cache. A cache another user made (the shared app user of
    older versions) is dropped: the build could not write to it. Blocking."""
    slugs.app_dir(slug.parent, gid)
    for directory in (slug, work):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(mode=0o700)
    if uid is not None and cache.is_dir() and cache.stat().st_uid != uid:
        shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(mode=0o700, exist_ok=True)
    if uid is not None and gid is not None:
        for directory in (slug, work, cache):
            os.chown(directory, uid, gid)
