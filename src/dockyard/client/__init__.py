"""The typed HTTP client of the Dockyard controller API, shared by the CLI and the tests.

It talks HTTP only (httpx) and never imports server code: ``DockyardClient`` has one method
per endpoint, ``ClientError`` carries the server's message, and ``profile`` keeps the saved
controller URL, username and token.
"""

from dockyard.client.api import DockyardClient, normalize_url
from dockyard.client.errors import ClientError, ProfileError
from dockyard.client.profile import Profile

__all__ = [
    "ClientError",
    "DockyardClient",
    "Profile",
    "ProfileError",
    "normalize_url",
]
