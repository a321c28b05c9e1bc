"""``DockyardClient``: one method per controller endpoint over a synchronous httpx client.

Every failure becomes a ``ClientError`` carrying the server's message (or a readable
connection error); lists follow ``next`` until the last page. Methods return the JSON the
server sent, typed as the ``TypedDict``s of ``dockyard.client.models``.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any, cast
from urllib.parse import quote

import httpx

from dockyard import __version__
from dockyard.client.errors import ClientError
from dockyard.client.models import Admin, App, Key, Release, ServerInfo, User

PAGE_SIZE = 100
MAX_PAGES = 10_000  # a guard against a server whose ``next`` never ends


def normalize_url(url: str) -> str:
    """``example.com`` -> ``http://example.com``; no trailing slash."""
    url = url.strip()
    if not url:
        raise ClientError(0, "The controller URL is empty.")
    if "://" not in url:
        url = f"http://{url}"
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ClientError(0, f"Not a valid controller URL: {url}")
    return url.rstrip("/")


def _seg(value: str | int) -> str:
    """One path segment, escaped."""
    return quote(str(value), safe="")


class DockyardClient:
    """A session with one controller. Use it as a context manager, or call ``close()``."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = normalize_url(url)
        self.token = token
        self.api_version: str | None = None
        headers = {
            "Accept": "application/json",
            "User-Agent": f"dockyard-cli/{__version__}",
        }
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    # -- plumbing -------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DockyardClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def host(self) -> str:
        return httpx.URL(self.url).host

    def request(
        self,
        method: str,
        path: str | httpx.URL,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        """Send one request; any answer outside 2xx raises ``ClientError``."""
        headers = {}
        if auth and self.token:
            headers["Authorization"] = f"token {self.token}"
        try:
            response = self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TimeoutException:
            raise ClientError(0, f"The controller at {self.url} did not answer in time.") from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise ClientError(0, f"Cannot reach the controller at {self.url}: {reason}") from None
        self.api_version = response.headers.get("DEIS_API_VERSION", self.api_version)
        if response.is_success:
            return response
        raise ClientError.from_response(response)

    def _json(self, method: str, path: str, *, json: Any = None, auth: bool = True) -> Any:
        response = self.request(method, path, json=json, auth=auth)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ClientError(
                response.status_code, f"The controller sent a response that is not JSON: {path}"
            ) from None

    def _pages(self, path: str, *, limit: int | None = None) -> Iterator[Any]:
        """Every item of a paginated list, following ``next``. Only the path and query of
        ``next`` are used, so the token never goes to another host than ours."""
        url: str | httpx.URL = path
        params: dict[str, Any] | None = {"limit": PAGE_SIZE}
        seen = 0
        for _ in range(MAX_PAGES):
            page = self.request("GET", url, params=params).json()
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise ClientError(0, f"The controller sent an unexpected list from {path}")
            for item in page["results"]:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            nxt = page.get("next")
            if not nxt:
                return
            target = httpx.URL(str(nxt))
            url = httpx.URL(self.url).copy_with(raw_path=target.raw_path)
            params = None

    def _list(self, path: str, *, limit: int | None = None) -> list[Any]:
        return list(self._pages(path, limit=limit))

    # -- controller -----------------------------------------------------------------------

    def probe(self) -> ServerInfo:
        """Check that ``url`` is a controller: the v2 API root answers 401 without a token
        (the Deis v2 CLI performs the same check before register and login)."""
        response = self._http_get_root()
        api = response.headers.get("DEIS_API_VERSION") or response.headers.get("DRYCC_API_VERSION")
        if response.status_code != 401 or api is None:
            raise ClientError(
                response.status_code,
                f"{self.url} does not look like a Dockyard (Deis Workflow v2) controller.",
            )
        self.api_version = api
        return {
            "url": self.url,
            "api_version": api,
            "platform_version": response.headers.get("DEIS_PLATFORM_VERSION"),
        }

    def _http_get_root(self) -> httpx.Response:
        try:
            return self._http.get("/v2/")
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise ClientError(0, f"Cannot reach the controller at {self.url}: {reason}") from None

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
        self._json("DELETE", f"/v2/admin/perms/{_seg(username)}")

    # -- keys -----------------------------------------------------------------------------

    def keys(self) -> list[Key]:
        return cast(list[Key], self._list("/v2/keys/"))

    def add_key(self, key_id: str, public: str) -> Key:
        return cast(Key, self._json("POST", "/v2/keys/", json={"id": key_id, "public": public}))

    def remove_key(self, key_id: str) -> None:
        self._json("DELETE", f"/v2/keys/{_seg(key_id)}")

    # -- apps -----------------------------------------------------------------------------

    def apps(self, *, limit: int | None = None) -> list[App]:
        return cast(list[App], self._list("/v2/apps/", limit=limit))

    def create_app(self, app_id: str | None = None) -> App:
        body = {"id": app_id} if app_id else {}
        return cast(App, self._json("POST", "/v2/apps/", json=body))

    def app(self, app_id: str) -> App:
        return cast(App, self._json("GET", f"/v2/apps/{_seg(app_id)}/"))

    def transfer_app(self, app_id: str, owner: str) -> App:
        return cast(App, self._json("POST", f"/v2/apps/{_seg(app_id)}/", json={"owner": owner}))

    def destroy_app(self, app_id: str) -> None:
        self._json("DELETE", f"/v2/apps/{_seg(app_id)}/")

    # -- collaborators --------------------------------------------------------------------

    def perms(self, app_id: str) -> list[str]:
        data = self._json("GET", f"/v2/apps/{_seg(app_id)}/perms/")
        return [str(u) for u in data.get("users", [])]

    def add_perm(self, app_id: str, username: str) -> None:
        self._json("POST", f"/v2/apps/{_seg(app_id)}/perms/", json={"username": username})

    def remove_perm(self, app_id: str, username: str) -> None:
        self._json("DELETE", f"/v2/apps/{_seg(app_id)}/perms/{_seg(username)}")

    # -- releases -------------------------------------------------------------------------

    def releases(self, app_id: str, *, limit: int | None = None) -> list[Release]:
        return cast(list[Release], self._list(f"/v2/apps/{_seg(app_id)}/releases/", limit=limit))

    def release(self, app_id: str, version: str | int) -> Release:
        return cast(
            Release, self._json("GET", f"/v2/apps/{_seg(app_id)}/releases/{_seg(version)}/")
        )
