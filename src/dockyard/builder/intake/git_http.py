"""Git over HTTP: git's smart HTTP protocol at ``<controller>/git/<app>.git``, for networks
where SSH is blocked. HTTP Basic auth whose password is the user's API token (any user
name); the same permissions, the same streamed build and the same rejection as over SSH.

Each request runs ``git-receive-pack`` or ``git-upload-pack --stateless-rpc`` on the app's
repository: the request body is fed to it first, then its output streams back as it comes
(a push's build output arrives as git's sideband). A client that leaves does not stop git:
a push that got this far finishes, so what is deployed is what the repository records.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from dockyard.accounts.models import User
from dockyard.accounts.service import authenticate
from dockyard.api.deps import SessionDep, SettingsDep
from dockyard.api.errors import errors
from dockyard.apps.service import load_app
from dockyard.builder import repos
from dockyard.builder.pipeline import source_builds_supported
from dockyard.builder.routes import BuilderDep
from dockyard.core.builderkey import builder_key
from dockyard.core.errors import Invalid, NotFound, Unauthenticated
from dockyard.core.settings import Settings
from dockyard.core.tasks import TaskSet

log = logging.getLogger("dockyard.builder")
router = APIRouter(tags=["git"])
CHALLENGE = 'Basic realm="Dockyard git"'
HOW = "Use your Dockyard API token as the password (any user name): dockyard auth:token."
CHUNK = 64 * 1024


def _token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "token" and value.strip():
        return value.strip()
    if scheme.lower() != "basic":
        raise Unauthenticated(f"Authentication required. {HOW}", challenge=CHALLENGE)
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated(f"Malformed Basic credentials. {HOW}", challenge=CHALLENGE) from None
    _, _, token = decoded.partition(":")
    if not token:
        raise Unauthenticated(f"No password given. {HOW}", challenge=CHALLENGE)
    return token


async def _user(request: Request, session: SessionDep) -> User:
    try:
        return await authenticate(session=session, token=_token(request))
    except Unauthenticated as exc:
        raise Unauthenticated(f"{exc.message} {HOW}", challenge=CHALLENGE) from None


def _service(name: str | None) -> str:
    if name not in repos.SERVICES:
        raise Invalid(
            "Dockyard serves git's smart HTTP protocol: git-upload-pack or git-receive-pack.",
            field="service",
        )
    return name


def _pkt(line: str) -> bytes:
    data = line.encode()
    return f"{len(data) + 4:04x}".encode() + data


async def _prepare(
    request: Request, session: SessionDep, settings: Settings, app_id: str, service: str
) -> tuple[Path, dict[str, str]]:
    user = await _user(request, session)
    found = await load_app(session=session, user=user, app_id=app_id)
    if service == "git-receive-pack":
        source_builds_supported(settings)
    await session.commit()
    repo = await asyncio.to_thread(repos.ensure_repo, settings.data_dir, found.app.id)
    env = repos.git_env(
        app=found.app.id,
        user=user.username,
        api_url=settings.api_url,
        key=builder_key(settings.data_dir, settings.builder_key),
        max_input=settings.max_source_size,
        protocol=request.headers.get("git-protocol"),
    )
    return repo, env


def _git_content(kind: str) -> dict[str, dict[str, object]]:
    return {f"application/x-{service}-{kind}": {} for service in repos.SERVICES}


@router.get(
    "/git/{app_id}.git/info/refs",
    responses={200: {"content": _git_content("advertisement")}, **errors(400, 401, 403, 404)},
)
async def info_refs(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    app_id: str,
    service: Annotated[str | None, Query(description="git-upload-pack or git-receive-pack")] = None,
) -> Response:
    """The ref advertisement that starts a clone, fetch or push."""
    service = _service(service)
    repo, env = await _prepare(request, session, settings, app_id, service)
    proc = await _git(service, repo, env, "--advertise-refs", stdin=asyncio.subprocess.DEVNULL)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        log.warning("git %s --advertise-refs failed: %s", service, err.decode(errors="replace"))
        raise NotFound("The repository cannot be read.")
    body = (
        out
        if env.get("GIT_PROTOCOL") == "version=2"
        else (_pkt(f"# service={service}\n") + b"0000" + out)
    )
    return Response(
        body,
        media_type=f"application/x-{service}-advertisement",
        headers={"Cache-Control": "no-cache"},
    )


@router.post(
    "/git/{app_id}.git/{service}",
    responses={
        200: {"content": {"application/x-git-receive-pack-result": {}}},
        **errors(400, 401, 403, 404),
    },
)
async def rpc(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    builder: BuilderDep,
    app_id: str,
    service: str,
) -> Response:
    """One round of the protocol: the client's request in, git's answer streamed out."""
    service = _service(service)
    repo, env = await _prepare(request, session, settings, app_id, service)
    proc = await _git(service, repo, env, stdin=asyncio.subprocess.PIPE)
    output = _Output(proc, builder.tasks)
    gzipped = request.headers.get("content-encoding", "").lower() in ("gzip", "x-gzip")
    await _feed(proc, request.stream(), gzipped)
    return StreamingResponse(
        output.follow(),
        media_type=f"application/x-{service}-result",
        headers={"Cache-Control": "no-cache"},
    )


async def _git(
    service: str, repo: Path, env: dict[str, str], *extra: str, stdin: int
) -> asyncio.subprocess.Process:
    """``git receive-pack`` or ``git upload-pack`` in stateless RPC mode."""
    return await asyncio.create_subprocess_exec(
        "git", service[4:], "--stateless-rpc", *extra, str(repo),
        stdin=stdin, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip


async def _feed(
    proc: asyncio.subprocess.Process, body: AsyncIterator[bytes], gzipped: bool
) -> None:
    """The request body into git's stdin (inflated when the client gzipped it)."""
    assert proc.stdin is not None
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    try:
        async for chunk in body:
            proc.stdin.write(inflate.decompress(chunk) if inflate else chunk)
            await proc.stdin.drain()
        if inflate:
            proc.stdin.write(inflate.flush())
            await proc.stdin.drain()
    except zlib.error:
        raise Invalid("The request body is not valid gzip.") from None
    except (ConnectionError, BrokenPipeError):
        pass  # git stopped reading: its answer says why
    finally:
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            proc.stdin.close()


class _Output:
    """git's stdout, read to the end in a task of its own: handed to the response while the
    client listens, dropped once it leaves, so git is never stuck on a full pipe."""

    def __init__(self, proc: asyncio.subprocess.Process, tasks: TaskSet) -> None:
        self.proc = proc
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=64)
        self.abandoned = False
        tasks.spawn(self._pump(), f"git:{proc.pid}")

    async def _pump(self) -> None:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        errors_task = asyncio.ensure_future(self.proc.stderr.read())
        while chunk := await self.proc.stdout.read(CHUNK):
            if not self.abandoned:
                await self.queue.put(chunk)
        await self.proc.wait()
        err = await errors_task
        if self.proc.returncode and err:
            log.info("git exited %s: %s", self.proc.returncode, err.decode(errors="replace")[:2000])
        if not self.abandoned:
            await self.queue.put(None)

    async def follow(self) -> AsyncIterator[bytes]:
        try:
            while (chunk := await self.queue.get()) is not None:
                yield chunk
        finally:
            self.abandoned = True
            while not self.queue.empty():
                self.queue.get_nowait()
