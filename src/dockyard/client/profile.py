"""Saved sessions: ``~/.dockyard/client.json`` holds the controller URL, the username and the
token, mode 0600. ``DOCKYARD_PROFILE=<name>`` selects ``~/.dockyard/<name>.json`` instead,
and ``DOCKYARD_URL`` / ``DOCKYARD_TOKEN`` override whatever the file says (for CI)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.client.errors import ProfileError

PROFILE_ENV = "DOCKYARD_PROFILE"
URL_ENV = "DOCKYARD_URL"
TOKEN_ENV = "DOCKYARD_TOKEN"
DEFAULT_PROFILE = "client"
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Profile:
    """One profile. ``overridden`` names the fields that came from the environment."""

    name: str = DEFAULT_PROFILE
    controller: str | None = None
    username: str | None = None
    token: str | None = None
    overridden: set[str] = field(default_factory=set)

    @property
    def path(self) -> Path:
        return profile_path(self.name)

    @property
    def logged_in(self) -> bool:
        return bool(self.controller and self.token)


def profile_dir() -> Path:
    return Path.home() / ".dockyard"


def profile_name() -> str:
    name = os.environ.get(PROFILE_ENV, "").strip() or DEFAULT_PROFILE
    if not _NAME_RE.match(name):
        raise ProfileError(
            f"{PROFILE_ENV}={name!r} is not a valid profile name "
            "(letters, digits, '_', '.' and '-')."
        )
    return name


def profile_path(name: str | None = None) -> Path:
    return profile_dir() / f"{name or profile_name()}.json"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def load_file(name: str | None = None) -> Profile:
    """The profile as saved (empty when there is no file yet), without env overrides."""
    name = name or profile_name()
    path = profile_path(name)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Profile(name=name)
    except OSError as exc:
        raise ProfileError(f"Cannot read the profile {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise ProfileError(f"The profile {path} is not valid JSON; fix or delete it.") from None
    if not isinstance(data, dict):
        raise ProfileError(f"The profile {path} is not a JSON object; fix or delete it.")
    return Profile(
        name=name,
        controller=_str(data.get("controller")),
        username=_str(data.get("username")),
        token=_str(data.get("token")),
    )


def load(name: str | None = None) -> Profile:
    """The effective profile: the file, then ``DOCKYARD_URL`` and ``DOCKYARD_TOKEN``."""
    profile = load_file(name)
    url = os.environ.get(URL_ENV, "").strip()
    token = os.environ.get(TOKEN_ENV, "").strip()
    if url:
        if profile.controller and profile.controller.rstrip("/") != url.rstrip("/"):
            profile.username = None  # the saved username belongs to another controller
        profile.controller = url
        profile.overridden.add("controller")
    if token:
        profile.token = token
        profile.overridden.add("token")
        profile.username = None  # whose token it is, only the server knows
    return profile


def save(profile: Profile) -> Path:
    """Write the profile atomically; the file is mode 0600 and its directory 0700."""
    directory = profile_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = {
        "controller": profile.controller,
        "username": profile.username,
        "token": profile.token,
    }
    path = profile.path
    fd, tmp = tempfile.mkstemp(prefix=f".{profile.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def forget_token(name: str | None = None) -> Profile:
    """Drop the saved token (log out), keeping the controller URL for the next login."""
    profile = load_file(name)
    if profile.path.exists():
        profile.token = None
        save(profile)
    return profile
