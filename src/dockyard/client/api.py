"""``DockyardClient``: the typed client of the controller API, one method per endpoint,
shared by the CLI and the tests. This module holds the accounts and apps endpoints (auth,
users, administrators, keys, apps, collaborators); ``deploy``, ``routing`` and
``buildpacks`` hold the rest, and ``base`` the plumbing.

Every failure becomes a ``ClientError`` carrying the server's message (or a readable
connection error); lists follow ``next`` until the last page. Methods return the JSON the
server sent, typed as the ``TypedDict``s of ``dockyard.client.models``.
"""

from __future__ import annotations

from typing import Any, cast

from dockyard.client.base import BaseClient, normalize_url, seg
from dockyard.client.buildpacks import BuildpackAPI
from dockyard.client.deploy import DeployAPI
from dockyard.client.errors import ClientError
from dockyard.client.models import Admin, App, Key, User
from dockyard.client.routing import RoutingAPI

__all__ = ["BaseClient", "DockyardClient", "normalize_url"]


class DockyardClient(DeployAPI, RoutingAPI, BuildpackAPI):
    """A session with one controller. Use it as a context manager, or call ``close()``."""

    # -- auth -----------------------------------------------------------------------------

    def register(
        self,
        username: str,
        password: str,
        email: str = "",
        *,
        first_name: str = "",
        last_name: str = "",
    ) -> User:
        body = {
            "username": username,
            "password": password,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
        }
        return cast(User, self._json("POST", "/v2/auth/register/", json=body))

    def login(self, username: str, password: str) -> str:
        """Log in and keep the token on this client; returns the token."""
        data = self._json(
            "POST", "/v2/auth/login/", json={"username": username, "password": password}, auth=False
        )
        self.token = str(data["token"])
        return self.token

    def whoami(self) -> User:
        return cast(User, self._json("GET", "/v2/auth/whoami/"))

    def passwd(
        self, new_password: str, password: str | None = None, *, username: str | None = None
    ) -> None:
        body: dict[str, Any] = {"new_password": new_password}
        if password is not None:
            body["password"] = password
        if username is not None:
            body["username"] = username
        self._json("POST", "/v2/auth/passwd/", json=body)

    def cancel(self, username: str | None = None) -> None:
        body = {"username": username} if username else None
        self._json("DELETE", "/v2/auth/cancel/", json=body)

    def regenerate_token(
        self, username: str | None = None, *, everyone: bool = False
    ) -> str | None:
        """A new token for the caller (kept on this client) or for ``username``; with
        ``everyone`` every token is revoked and ``None`` comes back."""
        body: dict[str, Any] = {}
        if username:
            body["username"] = username
        if everyone:
            body["all"] = True
        data = self._json("POST", "/v2/auth/tokens/", json=body)
        token = data.get("token") if isinstance(data, dict) else None
        if everyone:
            self.token = None
            return None
        if token is None:
            raise ClientError(0, "The controller did not send a new token.")
        if not username:
            self.token = str(token)
        return str(token)

    # -- users and admins -----------------------------------------------------------------

    def users(self) -> list[User]:
        return cast(list[User], self._list("/v2/users/"))

    def admins(self) -> list[Admin]:
        return cast(list[Admin], self._list("/v2/admin/perms/"))

    def grant_admin(self, username: str) -> Admin:
        return cast(Admin, self._json("POST", "/v2/admin/perms/", json={"username": username}))

    def revoke_admin(self, username: str) -> None:
        self._json("DELETE", f"/v2/admin/perms/{seg(username)}")

    def disable_user(self, username: str) -> None:
        """Refuse the user's tokens and logins until ``enable_user`` (administrators)."""
        self._json("PATCH", f"/v2/users/{seg(username)}/disable/")

    def enable_user(self, username: str) -> None:
        self._json("PATCH", f"/v2/users/{seg(username)}/enable/")

    # -- keys -----------------------------------------------------------------------------

    def keys(self) -> list[Key]:
        return cast(list[Key], self._list("/v2/keys/"))

    def add_key(self, key_id: str, public: str) -> Key:
        return cast(Key, self._json("POST", "/v2/keys/", json={"id": key_id, "public": public}))

    def remove_key(self, key_id: str) -> None:
        self._json("DELETE", f"/v2/keys/{seg(key_id)}")

    # -- apps -----------------------------------------------------------------------------

    def apps(self, *, limit: int | None = None) -> list[App]:
        return cast(list[App], self._list("/v2/apps/", limit=limit))

    def create_app(self, app_id: str | None = None) -> App:
        """Create an app. A Dockyard controller also says which port its git SSH endpoint
        listens on; it is kept in ``git_ssh_port`` (``None`` from other controllers)."""
        body = {"id": app_id} if app_id else {}
        response = self.request("POST", "/v2/apps/", json=body)
        port = response.headers.get("Dockyard-Git-SSH-Port", "")
        self.git_ssh_port = int(port) if port.isdigit() else None
        return cast(App, response.json())

    def app(self, app_id: str) -> App:
        return cast(App, self._json("GET", f"/v2/apps/{seg(app_id)}/"))

    def transfer_app(self, app_id: str, owner: str) -> App:
        return cast(App, self._json("POST", f"/v2/apps/{seg(app_id)}/", json={"owner": owner}))

    def destroy_app(self, app_id: str) -> None:
        self._json("DELETE", f"/v2/apps/{seg(app_id)}/")

    def stop(self, app_id: str, types: list[str]) -> None:
        """Scale the process types to 0; the controller remembers their counts."""
        self._json("POST", f"/v2/apps/{seg(app_id)}/stop/", json={"types": types}, deploys=True)

    def start(self, app_id: str, types: list[str]) -> None:
        """Bring stopped process types back to the counts they had."""
        self._json("POST", f"/v2/apps/{seg(app_id)}/start/", json={"types": types}, deploys=True)

    # -- collaborators --------------------------------------------------------------------

    def perms(self, app_id: str) -> list[str]:
        data = self._json("GET", f"/v2/apps/{seg(app_id)}/perms/")
        return [str(u) for u in data.get("users", [])]

    def add_perm(self, app_id: str, username: str) -> None:
        self._json("POST", f"/v2/apps/{seg(app_id)}/perms/", json={"username": username})

    def remove_perm(self, app_id: str, username: str) -> None:
        self._json("DELETE", f"/v2/apps/{seg(app_id)}/perms/{seg(username)}")
