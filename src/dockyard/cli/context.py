"""What a command needs to know before it calls the controller: the session from the
profile, and which app it is about (``-a/--app``, else the ``dockyard`` git remote of the
current directory). Also the git remote helpers that ``apps:create``/``apps:destroy`` use.

Shared option types live here too, so every command spells ``-a/--app`` and ``--json`` alike.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from dockyard.client import ProfileError, profile
from dockyard.client.profile import Profile

if TYPE_CHECKING:
    from dockyard.client.api import DockyardClient

REMOTE = "dockyard"
BUILDER_PORT = 2222


def complete_app(incomplete: str) -> list[str]:
    """Shell completion of app names; silent (no names) on any failure."""
    try:
        from dockyard.client.api import DockyardClient

        prof = profile.load()
        if not prof.logged_in or prof.controller is None:
            return []
        with DockyardClient(prof.controller, prof.token, timeout=3.0) as client:
            names = [a["id"] for a in client.apps()]
    except Exception:  # completion must never print an error into the shell
        return []
    return [n for n in names if n.startswith(incomplete)]


AppOpt = Annotated[
    str | None,
    typer.Option(
        "--app",
        "-a",
        help="The app. Default: the app of the git remote named 'dockyard' in this directory.",
        show_default=False,
        autocompletion=complete_app,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]


def current_profile() -> Profile:
    return profile.load()


def session() -> DockyardClient:
    """An authenticated client for the current profile, or a clear error."""
    prof = current_profile()
    if not prof.controller:
        raise ProfileError(
            "Not logged in. Run `dockyard login <controller URL>` "
            "(or `dockyard register <controller URL>`) first."
        )
    if not prof.token:
        raise ProfileError(f"Not logged in to {prof.controller}. Run `dockyard login` first.")
    from dockyard.client.api import DockyardClient

    return DockyardClient(prof.controller, prof.token)


# -- git ------------------------------------------------------------------------------------


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str] | None:
    """Run git; ``None`` when git is not installed."""
    if shutil.which("git") is None:
        return None
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def in_git_repo() -> bool:
    result = _git("rev-parse", "--is-inside-work-tree")
    return result is not None and result.returncode == 0 and result.stdout.strip() == "true"


def remote_url(name: str = REMOTE) -> str | None:
    result = _git("config", "--get", f"remote.{name}.url")
    if result is None or result.returncode != 0:
        return None
    return result.stdout.strip() or None


def app_from_remote_url(url: str) -> str | None:
    """``ssh://git@host:2222/my-app.git`` or ``git@host:my-app.git`` -> ``my-app``."""
    path = url.rstrip("/")
    if "://" not in path and ":" in path:
        path = path.split(":", 1)[1]  # scp-like syntax
    name = path.rsplit("/", 1)[-1]
    name = name.removesuffix(".git")
    return name or None


def builder_remote(controller: str, app_id: str, port: int | None = None) -> str:
    """Where ``git push`` goes: the builder's SSH endpoint on the controller host, on the
    port the controller named (Deis's 2222 when it named none)."""
    host = urlsplit(controller).hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"ssh://git@{host}:{port or BUILDER_PORT}/{app_id}.git"


def add_remote(url: str, name: str = REMOTE) -> None:
    result = _git("remote", "add", name, url)
    if result is None:
        raise ProfileError("git is not installed: no remote added.")
    if result.returncode != 0:
        raise ProfileError(result.stderr.strip() or f"git remote add {name} failed.")


def remove_remote(name: str = REMOTE) -> bool:
    result = _git("remote", "remove", name)
    return result is not None and result.returncode == 0


def app_name(app: str | None) -> str:
    """The app a command is about: ``-a/--app``, else the ``dockyard`` git remote."""
    if app:
        return app
    url = remote_url()
    if url:
        inferred = app_from_remote_url(url)
        if inferred:
            return inferred
    raise ProfileError(
        "No app given. Pass -a/--app <app>, or run the command in a git repository "
        f"with a remote named '{REMOTE}'."
    )
