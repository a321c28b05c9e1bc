"""The typed HTTP client of the Dockyard controller API, shared by the CLI and the tests.

It talks HTTP only (httpx) and never imports server code: ``DockyardClient`` has one method
per endpoint, ``ClientError`` carries the server's message, and ``profile`` keeps the saved
controller URL, username and token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dockyard.client.errors import ClientError, ProfileError
from dockyard.client.profile import Profile

if TYPE_CHECKING:
    from dockyard.client.api import DockyardClient, normalize_url


def __getattr__(name: str) -> Any:
    # ``DockyardClient`` brings httpx (about half of the CLI's start time): loaded when a
    # command first uses it, not when the CLI starts.
    if name in ("DockyardClient", "normalize_url"):
        from dockyard.client import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ClientError",
    "DockyardClient",
    "Profile",
    "ProfileError",
    "normalize_url",
]
