"""Routes of builds from source: ``POST apps/<id>/sources`` (an upload, answered with the
build's output as ndjson), a build's log, the buildpacks administrators install, and the
``/v2/hooks/git`` routes the git endpoints call with the builder key."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from dockyard.accounts.models import User
from dockyard.accounts.service import require_superuser
from dockyard.api.body import body, takes
from dockyard.api.deps import SessionDep, SettingsDep, UserDep
from dockyard.api.errors import errors
from dockyard.api.pagination import PageDep, paginated
from dockyard.api.responses import JSON, no_content
from dockyard.apps.access import Action
from dockyard.apps.service import load_app
from dockyard.builder import access, installed
from dockyard.builder.archive import ArchiveError, Limits, check_archive
from dockyard.builder.intake.upload import receive
from dockyard.builder.pipeline import MAX_ENTRIES, Builder, SourceRequest, source_builds_supported
from dockyard.builder.stream import BuildStream
from dockyard.core import layout
from dockyard.core.errors import Invalid
from dockyard.core.settings import Settings
from dockyard.core.timefmt import iso
from dockyard.db.base import new_uuid
from dockyard.releases import builds
from dockyard.releases.procfile import check_procfile, parse_procfile

router = APIRouter()
SHA_RE = re.compile(r"^[0-9A-Za-z._-]{0,64}$")
NDJSON = "application/x-ndjson"
ARCHIVE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/gzip": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["source"],
                    "properties": {
                        "source": {"type": "string", "format": "binary"},
                        "procfile": {"type": "string"},
                        "sha": {"type": "string", "maxLength": 64},
                    },
                }
            },
        },
    }
}
STREAMED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The build's output as it runs, one JSON object per line: "
        '`{"log": "..."}`, then `{"build": {...}, "release": {...}, "url": "..."}` or '
        '`{"error": "..."}`.',
        "content": {NDJSON: {"schema": {"type": "string"}}},
    }
}


def get_builder(request: Request) -> Builder:
    builder: Builder = request.app.state.builder
    return builder


BuilderDep = Annotated[Builder, Depends(get_builder)]


def ndjson(stream: BuildStream) -> StreamingResponse:
    async def lines():  # type: ignore[no-untyped-def]
        async for event in stream.follow():
            yield orjson.dumps(event) + b"\n"

    return StreamingResponse(
        lines(), media_type=NDJSON, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def _procfile(text: str | None) -> dict[str, str] | None:
    if not text or not text.strip():
        return None
    if text.lstrip().startswith("{"):
        try:
            return check_procfile(orjson.loads(text))
        except orjson.JSONDecodeError:
            raise Invalid(
                "procfile is neither a Procfile nor a JSON object", field="procfile"
            ) from None
    return parse_procfile(text)


async def start_build(
    request: Request, settings: Settings, builder: Builder, *, app_id: str, actor: str
) -> BuildStream:
    """Receive the body as an archive, check it, and start its build."""
    source_builds_supported(settings)
    upload = await receive(
        chunks=request.stream(),
        content_type=request.headers.get("content-type", ""),
        content_length=request.headers.get("content-length"),
        query_sha=request.query_params.get("sha"),
        directory=layout.tmp_dir(settings.data_dir),
        name=f"upload-{new_uuid()}",
        limit=settings.max_source_size,
    )
    try:
        sha = upload.fields.get("sha", "").strip()
        if not SHA_RE.match(sha):
            raise Invalid("sha is at most 64 letters, digits, '.', '_' or '-'", field="sha")
        procfile = _procfile(upload.fields.get("procfile"))
        limits = Limits(max_bytes=settings.max_source_size, max_entries=MAX_ENTRIES)
        try:
            await asyncio.to_thread(check_archive, upload.path, limits)
        except ArchiveError as exc:
            raise Invalid(str(exc), field="source") from None
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    return builder.start(
        SourceRequest(app_id=app_id, actor=actor, archive=upload.path, sha=sha, procfile=procfile)
    )


async def build_as(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    builder: Builder,
    *,
    user: User,
    app_id: str,
) -> Response:
    """The body's build for ``user``, who must be allowed to use the app, streamed."""
    found = await load_app(session=session, user=user, app_id=app_id)
    await session.commit()  # nothing of the request's transaction stays open while it builds
    stream = await start_build(request, settings, builder, app_id=found.app.id, actor=user.username)
    return ndjson(stream)


# A route that takes an archive and answers with its build's stream.
BUILDS_SOURCE: dict[str, Any] = {
    "openapi_extra": ARCHIVE_BODY,
    "responses": {**STREAMED, **errors(400, 401, 403, 404, 413, 415)},
    "response_class": StreamingResponse,
}


@router.post("/apps/{app_id}/sources", tags=["builds"], **BUILDS_SOURCE)
async def upload_source(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    builder: BuilderDep,
    actor: UserDep,
    app_id: str,
) -> Response:
    """Build a source archive (`.tar.gz`) and deploy it; the answer streams the build."""
    return await build_as(request, session, settings, builder, user=actor, app_id=app_id)


@router.get(
    "/apps/{app_id}/builds/{build_uuid}/log",
    tags=["builds"],
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **errors(401, 403, 404)},
)
async def build_log(session: SessionDep, actor: UserDep, app_id: str, build_uuid: str) -> Response:
    """The output of a build from source (empty for other builds)."""
    found = await load_app(session=session, user=actor, app_id=app_id)
    build = await builds.get_build(session=session, app=found.app, build_uuid=build_uuid)
    text = await builds.build_log(session=session, build=build)
    return PlainTextResponse(text)


# -- buildpacks ------------------------------------------------------------------------------


class BuildpackOut(BaseModel):
    name: str
    owner: str
    size: int
    created: str
    updated: str


def buildpack_out(row: installed.Buildpack) -> dict[str, object]:
    return {
        "name": row.name,
        "owner": row.owner,
        "size": row.size,
        "created": iso(row.created),
        "updated": iso(row.updated),
    }


@router.get(
    "/buildpacks",
    tags=["buildpacks"],
    responses={200: {"model": list[BuildpackOut]}, **errors(401)},
)
async def list_buildpacks(
    request: Request, session: SessionDep, actor: UserDep, page: PageDep
) -> Response:
    count, rows = await installed.list_installed(
        session=session, limit=page.limit, offset=page.offset
    )
    return JSON(paginated(request, page, count, [buildpack_out(r) for r in rows]))


@router.post(
    "/buildpacks",
    status_code=201,
    tags=["buildpacks"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["name", "buildpack"],
                        "properties": {
                            "name": {"type": "string", "maxLength": 64},
                            "buildpack": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
    responses={201: {"model": BuildpackOut}, **errors(400, 401, 403, 409, 413, 415)},
)
async def add_buildpack(
    request: Request, session: SessionDep, settings: SettingsDep, actor: UserDep
) -> Response:
    """Install a buildpack (administrators): a `.tar.gz` holding `bin/compile`."""
    require_superuser(actor)
    upload = await receive(
        chunks=request.stream(),
        content_type=request.headers.get("content-type", ""),
        content_length=request.headers.get("content-length"),
        query_sha=None,
        directory=layout.tmp_dir(settings.data_dir),
        name=f"buildpack-{new_uuid()}",
        limit=settings.max_source_size,
        file_field="buildpack",
        text_fields=("name",),
        raw=False,
    )
    try:
        row = await installed.add(
            session=session,
            data_dir=settings.data_dir,
            name=upload.fields.get("name", ""),
            owner=actor.username,
            archive=upload.path,
            limit=settings.max_source_size,
        )
    finally:
        upload.path.unlink(missing_ok=True)
    return JSON(buildpack_out(row), status_code=201)


@router.delete(
    "/buildpacks/{name}", status_code=204, tags=["buildpacks"], responses=errors(401, 403, 404)
)
async def remove_buildpack(
    session: SessionDep, settings: SettingsDep, actor: UserDep, name: str
) -> Response:
    require_superuser(actor)
    await installed.remove(session=session, data_dir=settings.data_dir, name=name)
    return no_content()


# -- the git endpoints' hooks --------------------------------------------------------------


class GitAccessIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    fingerprint: str = Field(default="", max_length=128)
    username: str = Field(default="", max_length=150)
    app: str = Field(default="", max_length=253)
    service: str = Field(default="git-receive-pack", max_length=32)


class GitAccessOut(BaseModel):
    username: str
    app: str | None


@router.post(
    "/hooks/git/access",
    tags=["hooks"],
    openapi_extra=takes(GitAccessIn),
    responses={200: {"model": GitAccessOut}, **errors(400, 401, 403, 404)},
)
async def git_access(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    data: Annotated[GitAccessIn, body(GitAccessIn)],
) -> Response:
    """For the SSH endpoint (`X-Deis-Builder-Auth`): who a key (or a user name) is, and
    whether they may push to (or fetch from) `app`."""
    access.require_builder(request, settings)
    user = await access.git_user(
        session=session, fingerprint=data.fingerprint, username=data.username
    )
    app_id = None
    if data.app:
        found = await load_app(session=session, user=user, app_id=data.app, action=Action.use)
        app_id = found.app.id
    return JSON({"username": user.username, "app": app_id})


@router.post("/hooks/git/build/{app_id}", tags=["hooks"], **BUILDS_SOURCE)
async def git_build(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    builder: BuilderDep,
    app_id: str,
    user: Annotated[str, Query(max_length=150)],
) -> Response:
    """For the git hook (`X-Deis-Builder-Auth`): build a pushed commit as `user`."""
    access.require_builder(request, settings)
    actor = await access.git_user(session=session, fingerprint="", username=user)
    return await build_as(request, session, settings, builder, user=actor, app_id=app_id)
