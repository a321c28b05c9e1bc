"""Running the built-in buildpacks' scripts, and what they build, as the builder and platform do.

Shared by the buildpack test modules (``test_go_buildpack``, ``test_nodejs_buildpack``,
``test_python_buildpack``, ``test_static_buildpack``):

- ``copy_buildpack``: a buildpack copied out of ``src/dockyard/builder/buildpacks/<name>`` into a
  directory of its own (the builder does the same before it runs one);
- ``minimal_env``: the builder's minimal environment (``PATH``, ``HOME``, ``LANG``, and any more);
- ``builder_env``: that environment with a ``HOME`` of its own beside the buildpacks' directory;
- ``run``: a ``bin/<script>`` run as a subprocess, stdin from ``/dev/null``, stderr merged into
  stdout (or kept apart), with a timeout;
- ``compile_app``: ``bin/compile BUILD_DIR CACHE_DIR ENV_DIR``, ENV_DIR holding the app's config;
- ``assert_posix_sh_scripts``: a buildpack's scripts are executable POSIX ``sh``;
- ``write_files``: an app's files written into its directory;
- ``link_tools``: a directory to put on PATH with only the given tools in it;
- ``free_port``, ``start_in_slug``, ``body_when_serving`` and ``stop_session``: a compiled slug's
  process started as the platform starts it, read over HTTP and stopped with its whole session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

BUILDPACKS = Path(__file__).resolve().parents[2] / "src/dockyard/builder/buildpacks"
SCRIPTS = ("detect", "compile", "release")
RUN_PATH = "/usr/local/bin:/usr/bin:/bin"


def copy_buildpack(name: str, parent: Path, *ignore: str) -> Path:
    """``parent/<name>``: a copy of the built-in buildpack ``name`` (without the files matching
    the ``ignore`` glob patterns); ``parent`` is made if need be."""
    copy = parent / name
    patterns = shutil.ignore_patterns(*ignore) if ignore else None
    shutil.copytree(BUILDPACKS / name, copy, ignore=patterns)
    return copy


def minimal_env(home: Path, path: str = RUN_PATH, **extra: str) -> dict[str, str]:
    """The builder's minimal environment with ``HOME`` = ``home``, and ``extra`` added."""
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", **extra}


def builder_env(buildpack: Path, path: str = RUN_PATH, **extra: str) -> dict[str, str]:
    """``minimal_env`` with ``path`` and ``extra``, ``HOME`` a directory (made) beside the
    buildpacks' directory."""
    home = buildpack.parent.parent / "home"
    home.mkdir(exist_ok=True)
    return minimal_env(home, path, **extra)


def run(
    buildpack: Path,
    script: str,
    *args: Path,
    path: str = RUN_PATH,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    merge_stderr: bool = True,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    """A buildpack script run as the builder runs it: stderr merged into stdout (kept apart with
    ``merge_stderr=False``), stdin from ``/dev/null``.

    The environment is ``env`` when given; else ``builder_env`` with ``path`` and ``extra``."""
    return subprocess.run(
        [str(buildpack / "bin" / script), *map(str, args)],
        env=env or builder_env(buildpack, path, **extra),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )


def compile_app(
    buildpack: Path,
    app: Path,
    cache: Path,
    config: Mapping[str, str] | None = None,
    path: str = RUN_PATH,
    *,
    timeout: float = 300,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    """``bin/compile BUILD_DIR CACHE_DIR ENV_DIR`` run by ``run`` in ``builder_env`` (with
    ``path`` and ``extra``), ENV_DIR (beside the app) holding ``config``, one file per var."""
    env_dir = app.parent / f"{app.name}-env"
    env_dir.mkdir(exist_ok=True)
    for key, value in (config or {}).items():
        (env_dir / key).write_text(value)
    env = builder_env(buildpack, path, **extra)
    return run(buildpack, "compile", app, cache, env_dir, env=env, timeout=timeout)


def assert_posix_sh_scripts(source: Path, names: Iterable[str] = SCRIPTS) -> None:
    """Each of the buildpack's ``bin/<name>`` is mode 755, starts ``#!/bin/sh`` and parses with
    ``/bin/sh -n``."""
    for name in names:
        script = source / "bin" / name
        assert script.stat().st_mode & 0o777 == 0o755, name
        assert script.read_text().startswith("#!/bin/sh\n"), name
        checked = subprocess.run(["/bin/sh", "-n", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, (name, checked.stderr)


def write_files(app: Path, files: Mapping[str, str]) -> Path:
    """``app``, with each of ``files`` (a relative path: its text) written into it."""
    for name, text in files.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_text(text)
    return app


def link_tools(directory: Path, *tools: str) -> Path:
    """``directory``, made, holding a symlink to each of ``tools`` as found on ``RUN_PATH`` (else
    ``/usr/bin/<tool>``): a PATH with those tools only."""
    directory.mkdir()
    for tool in tools:
        (directory / tool).symlink_to(shutil.which(tool, path=RUN_PATH) or f"/usr/bin/{tool}")
    return directory


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_in_slug(
    slug: Path, command: str, env: Mapping[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """``command`` started as the platform starts a process: ``/bin/sh -c`` in the slug with
    ``.profile.d/*.sh`` sourced first, in a session of its own, its output written to ``log``."""
    script = f'for f in ./.profile.d/*.sh; do . "$f"; done; {command}'
    with log.open("wb") as out:
        return subprocess.Popen(
            ["/bin/sh", "-c", script],
            cwd=slug,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def body_when_serving(
    proc: subprocess.Popen[bytes], port: int, path: str, log: Path, timeout: float = 30
) -> str:
    """The body of ``GET path`` on ``port`` (no proxy), asked until ``proc`` answers 200; fails
    with its ``log`` if it exits first or is not serving within ``timeout`` seconds."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {log.read_text(errors='replace')}")
        try:
            with opener.open(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                assert response.status == 200
                return response.read().decode()
        except OSError:
            assert time.monotonic() < deadline, f"not serving: {log.read_text(errors='replace')}"
            time.sleep(0.1)


def stop_session(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's whole session (it leads its group), then SIGKILL if it has not
    exited within 10 seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue
