"""The builder key: the shared secret with which the git endpoints (the SSH server and the
git hooks) speak for a user to the API's ``/v2/hooks`` routes, sent as
``X-Deis-Builder-Auth`` as the Deis builder did. ``DOCKYARD_BUILDER_KEY`` sets it; otherwise
it is made once and kept in ``<data dir>/builder.key`` (0600), readable by the controller's
processes only."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from dockyard.core.layout import BUILDER_KEY


def builder_key(data_dir: Path, configured: str = "") -> str:
    if configured:
        return configured
    path = data_dir / BUILDER_KEY
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    key = secrets.token_urlsafe(32)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    try:
        os.link(staging, path)  # appears whole, or not at all if another process won
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        os.unlink(staging)
    return key
