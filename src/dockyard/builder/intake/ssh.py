"""Git over SSH: ``python -m dockyard.builder.intake.ssh``, the endpoint behind the remote
``ssh://git@<host>:2222/<app>.git`` that ``dockyard apps:create`` adds. ``dockyard server``
runs it as a child, like the edge router.

Clients authenticate with a public key registered through ``/v2/keys``, under any user name
(the key says who it is). The only commands are ``git-receive-pack`` (push) and
``git-upload-pack`` (clone, fetch) of an app the user may use; a shell, or anything else, is
refused with one line and a non-zero exit. Who a key is and what they may do is asked of the
API (``POST /v2/hooks/git/access`` with the builder key), which applies the same permission
check as every request; this process holds no database connection.

The host key is made once and kept in the data dir (0600); its fingerprint is logged at
start. Once listening, it writes ``ssh.json`` (pid, address, port, fingerprint) to the data
dir. A client that disconnects mid-push does not stop git: a push that was received
finishes, so what is deployed is what the repository records.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", message=".*DSA.*", category=DeprecationWarning)
warnings.filterwarnings("ignore", module="asyncssh")

import asyncssh  # noqa: E402  (after the warning filters: it imports DSA support at once)
import httpx  # noqa: E402

from dockyard.builder import repos  # noqa: E402
from dockyard.core import layout, logs  # noqa: E402
from dockyard.core.builderkey import builder_key  # noqa: E402
from dockyard.core.tasks import TaskSet  # noqa: E402
from dockyard.scheduler.local.pods import write_json  # noqa: E402

log = logging.getLogger("dockyard.ssh")
STATE_FILE = "ssh.json"
CHUNK = 64 * 1024
NOT_A_SHELL = (
    "Hi {user}! Dockyard's SSH endpoint serves git only: git push ssh://git@<host>:<port>/<app>.git"
)


def host_key(data_dir: Path) -> asyncssh.SSHKey:
    """The endpoint's Ed25519 host key, made on first start (0600)."""
    path = data_dir / layout.SSH_HOST_KEY
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519")
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.export_private_key())
        try:
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(staging)
    return asyncssh.read_private_key(str(path))


class Api:
    """The API's ``/v2/hooks/git/access`` route, as the builder."""

    def __init__(self, url: str, key: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=url, headers={"X-Deis-Builder-Auth": key}, timeout=30.0
        )

    async def access(self, **body: str) -> tuple[int, dict[str, Any]]:
        try:
            response = await self.http.post("/v2/hooks/git/access", json=body)
        except httpx.HTTPError as exc:
            return 503, {"detail": f"the controller cannot be reached ({exc})"}
        try:
            data = response.json()
        except ValueError:
            data = {}
        return response.status_code, data if isinstance(data, dict) else {}

    async def aclose(self) -> None:
        await self.http.aclose()


def _detail(data: dict[str, Any], default: str) -> str:
    for value in data.values():
        if isinstance(value, list) and value:
            return str(value[0])
        if isinstance(value, str):
            return value
    return default


class GitServer(asyncssh.SSHServer):
    def __init__(self, api: Api) -> None:
        self.api = api
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # Called for each key the client offers; the last one validated before success is
        # the one that authenticated, so what is recorded here is who the session is.
        fingerprint = key.get_fingerprint("sha256")
        status, data = await self.api.access(fingerprint=fingerprint)
        if status != 200 or self.conn is None:
            return False
        self.conn.set_extra_info(dockyard_user=data["username"], dockyard_key=fingerprint)
        return True


class Endpoint:
    def __init__(self, *, data_dir: Path, api_url: str, key: str, max_input: int) -> None:
        self.data_dir = data_dir
        self.max_input = max_input
        self.api_url = api_url
        self.key = key
        self.api = Api(api_url, key)
        self.tasks = TaskSet("ssh")

    async def handle(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        try:
            code = await self._handle(process)
        except Exception:
            log.exception("git over SSH failed")
            code = 1
            with contextlib.suppress(Exception):
                process.stderr.write(b"Dockyard: internal error; it was logged.\n")
        with contextlib.suppress(Exception):
            process.exit(code)

    async def _handle(self, process: asyncssh.SSHServerProcess[bytes]) -> int:
        user = str(process.get_extra_info("dockyard_user"))
        fingerprint = str(process.get_extra_info("dockyard_key"))
        command = process.command
        parsed = repos.parse_command(command) if command else None
        if command is None:
            return _refuse(process, NOT_A_SHELL.format(user=user))
        if parsed is None:
            return _refuse(
                process, "Dockyard runs git-receive-pack and git-upload-pack only; refused."
            )
        service, app = parsed
        status, data = await self.api.access(fingerprint=fingerprint, app=app, service=service)
        if status == 404:
            return _refuse(process, f"Dockyard: there is no app named {app}.")
        if status == 403:
            verb = "push to" if service == "git-receive-pack" else "fetch from"
            return _refuse(process, f"Dockyard: {user} may not {verb} {app}.")
        if status != 200:
            return _refuse(process, f"Dockyard: {_detail(data, 'access refused')}")
        repo = await asyncio.to_thread(repos.ensure_repo, self.data_dir, app)
        env = repos.git_env(
            app=app,
            user=str(data["username"]),
            api_url=self.api_url,
            key=self.key,
            max_input=self.max_input,
            protocol=(process.env or {}).get("GIT_PROTOCOL"),
        )
        return await self._git(process, service, repo, env)

    async def _git(
        self,
        process: asyncssh.SSHServerProcess[bytes],
        service: str,
        repo: Path,
        env: dict[str, str],
    ) -> int:
        proc = await asyncio.create_subprocess_exec(
            "git",
            service[4:],
            str(repo),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        feeder = self.tasks.spawn(_feed(process, proc.stdin), f"stdin:{proc.pid}")
        await asyncio.gather(
            _relay(proc.stdout, process.stdout), _relay(proc.stderr, process.stderr)
        )
        code = await proc.wait()
        feeder.cancel()
        return code

    async def aclose(self) -> None:
        await self.tasks.close()
        await self.api.aclose()


def _refuse(process: asyncssh.SSHServerProcess[bytes], message: str) -> int:
    process.stderr.write(message.encode() + b"\n")
    return 1


async def _feed(process: asyncssh.SSHServerProcess[bytes], stdin: asyncio.StreamWriter) -> None:
    """The client's bytes into git, until the client's EOF (or it leaves)."""
    try:
        while data := await process.stdin.read(CHUNK):
            stdin.write(data)
            await stdin.drain()
    except (asyncssh.Error, ConnectionError, BrokenPipeError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            stdin.close()


async def _relay(source: asyncio.StreamReader, channel: asyncssh.SSHWriter[bytes]) -> None:
    """git's output to the client while it listens; read to the end either way, so git
    finishes a push whose client went away."""
    listening = True
    while data := await source.read(CHUNK):
        if not listening:
            continue
        try:
            channel.write(data)
            await channel.drain()
        except (asyncssh.Error, ConnectionError, BrokenPipeError, OSError):
            listening = False


async def serve(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir)
    key = host_key(data_dir)
    endpoint = Endpoint(
        data_dir=data_dir,
        api_url=args.api_url,
        key=builder_key(data_dir, os.environ.get("DOCKYARD_BUILDER_KEY", "")),
        max_input=args.max_input_size,
    )
    try:
        server = await asyncssh.create_server(
            lambda: GitServer(endpoint.api),
            args.host,
            args.port,
            server_host_keys=[key],
            process_factory=endpoint.handle,
            encoding=None,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            sftp_factory=None,
            reuse_address=True,
        )
    except OSError as exc:
        await endpoint.aclose()
        log.error("the git SSH endpoint cannot listen on %s:%d: %s", args.host, args.port, exc)
        raise SystemExit(1) from None
    port = int(server.sockets[0].getsockname()[1])
    fingerprint = key.get_fingerprint("sha256")
    log.info("git over SSH on %s:%d, host key %s (ed25519)", args.host, port, fingerprint)
    state = {"pid": os.getpid(), "host": args.host, "port": port, "fingerprint": fingerprint}
    write_json(data_dir / STATE_FILE, state)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        await endpoint.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dockyard.builder.intake.ssh")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2222)
    parser.add_argument("--max-input-size", type=int, default=512 * 1024**2)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logs.configure(args.log_level)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
