"""Each app's bare git repository, ``<data dir>/repos/<app>.git``, and how git runs on it.

A push to ``main`` or ``master`` is built and deployed by the repository's ``pre-receive``
hook (``python -m dockyard.builder.hook``) before git accepts it, as on Heroku: the output
streams to the pusher, and a failed build or deploy rejects the push (the ref stays where
it was). Other branches are stored without a build. Both git endpoints (SSH and HTTP) run
``git-receive-pack`` and ``git-upload-pack`` through ``git_env``, which tells the hook who
pushes to which app and how to reach the API.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from dockyard.core import layout

SERVICES = ("git-receive-pack", "git-upload-pack")
HOOK_MODULE = "dockyard.builder.hook"
# What an app name can be (the API decides whether the app exists); never ".", ".." or "~".
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,252}")
_COMMAND = re.compile(r"^(git-receive-pack|git-upload-pack|git receive-pack|git upload-pack) (.+)$")


def hook_script() -> str:
    return f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m {HOOK_MODULE}\n"


def ensure_repo(data_dir: Path, app: str) -> Path:
    """The app's repository, made on first use; its hook is rewritten when it changed (a
    new Python after an upgrade, say). Blocking."""
    repo = layout.repo_dir(data_dir, app)
    if not (repo / "HEAD").is_file():
        repo.parent.mkdir(mode=0o700, exist_ok=True)
        subprocess.run(
            ["git", "init", "--bare", "--quiet", "--initial-branch=main", str(repo)],
            check=True,
            env=_plain_env(),
            stdin=subprocess.DEVNULL,
        )
        subprocess.run(
            ["git", "config", "receive.denyDeleteCurrent", "refuse"],
            check=True,
            cwd=repo,
            env=_plain_env(),
        )
    hook = repo / "hooks" / "pre-receive"
    script = hook_script()
    if not hook.is_file() or hook.read_text() != script:
        staging = hook.with_name(".pre-receive.new")
        staging.write_text(script)
        os.chmod(staging, 0o755)
        os.replace(staging, hook)
    return repo


def _plain_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }


def git_env(
    *,
    app: str,
    user: str,
    api_url: str,
    key: str,
    max_input: int,
    protocol: str | None = None,
) -> dict[str, str]:
    """The environment of ``git-receive-pack``/``git-upload-pack`` and so of the hook:
    nothing of the controller's own, plus who pushes where. git itself refuses a pushed
    pack larger than ``max_input`` bytes (``receive.maxInputSize``)."""
    env = _plain_env()
    env.update(
        DOCKYARD_APP=app,
        DOCKYARD_PUSH_USER=user,
        DOCKYARD_API_URL=api_url,
        DOCKYARD_BUILDER_KEY=key,
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0="receive.maxInputSize",
        GIT_CONFIG_VALUE_0=str(max_input),
    )
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if protocol and re.fullmatch(r"[A-Za-z0-9=:._-]{1,64}", protocol):
        env["GIT_PROTOCOL"] = protocol
    return env


def parse_command(command: str) -> tuple[str, str] | None:
    """``git-receive-pack '/shop.git'`` (or ``git receive-pack``, quoted or not, with or
    without the slash and ``.git``) -> ``("git-receive-pack", "shop")``; None for anything
    else."""
    match = _COMMAND.match(command.strip())
    if match is None:
        return None
    service = match.group(1).replace(" ", "-")
    try:
        words = shlex.split(match.group(2))
    except ValueError:
        return None
    if len(words) != 1:
        return None
    name = words[0].strip("/").removeprefix("~/")
    name = name.removesuffix("/").removesuffix(".git")
    if not _NAME.fullmatch(name):
        return None
    return service, name
