"""The plumbing under ``DockyardClient``: one httpx session with a controller, requests that
turn every failure into a ``ClientError`` with the server's message, JSON decoding, and
paginated lists followed through ``next``. The endpoint groups (``api``, ``deploy``,
``routing``) subclass ``BaseClient`` and add one method per endpoint.

Deploying calls (builds, config, scale, restart, rollback, run) wait for the controller to
start processes, so they use ``deploy_timeout`` instead of the short default.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from dockyard import __version__
from dockyard.client.errors import ClientError
from dockyard.client.models import ServerInfo

PAGE_SIZE = 100
MAX_PAGES = 10_000  # a guard against a server whose ``next`` never ends
DEPLOY_TIMEOUT = 900.0  # above the server's own deploy (120 s) and run (300 s) limits


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


def seg(value: str | int) -> str:
    """One path segment, escaped."""
    return quote(str(value), safe="")


def app_path(app_id: str, *rest: str | int) -> str:
    """``/v2/apps/<app>/<rest...>`` with every segment escaped."""
    return "/".join(["/v2/apps", seg(app_id), *(seg(r) for r in rest)])


class BaseClient:
    """A session with one controller. Use it as a context manager, or call ``close()``.

    ``last_release`` is the release number the controller reported (``Deis-Release``) for
    the latest config or build change."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        deploy_timeout: float = DEPLOY_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = normalize_url(url)
        self.token = token
        self.api_version: str | None = None
        self.last_release: int | None = None
        self.git_ssh_port: int | None = None
        self.deploy_timeout = deploy_timeout
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

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
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

    def _headers(self, auth: bool, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if auth and self.token:
            headers["Authorization"] = f"token {self.token}"
        return headers

    def _transport_error(self, exc: httpx.HTTPError, *, answered: bool = False) -> ClientError:
        """A readable ``ClientError`` for a timeout or a connection failure; ``answered``:
        the controller had started its answer (a streamed one) when it happened."""
        if isinstance(exc, httpx.TimeoutException):
            wait = "stopped answering" if answered else "did not answer in time"
            return ClientError(0, f"The controller at {self.url} {wait}.")
        reason = str(exc) or type(exc).__name__
        if answered:
            return ClientError(0, f"The connection to the controller at {self.url} broke: {reason}")
        return ClientError(0, f"Cannot reach the controller at {self.url}: {reason}")

    def _note(self, response: httpx.Response) -> None:
        """Keep the API version and the release number the controller reported."""
        self.api_version = response.headers.get("DEIS_API_VERSION", self.api_version)
        release = response.headers.get("Deis-Release")
        if release and release.isdigit():
            self.last_release = int(release)

    def request(
        self,
        method: str,
        path: str | httpx.URL,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request; any answer outside 2xx raises ``ClientError``. ``data`` and
        ``files`` send a form (``multipart/form-data`` with files)."""
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            response = self._http.request(
                method,
                path,
                json=json,
                params=params,
                headers=self._headers(auth, headers),
                data=data,
                files=files,
                **extra,
            )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        self._note(response)
        if response.is_success:
            return response
        raise ClientError.from_response(response)

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        content: Iterator[bytes] | bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Iterator[httpx.Response]:
        """Send one request (``content`` may be an iterator of chunks) and hand over the
        answer unread, for the caller to stream. An answer outside 2xx is read and raises
        ``ClientError``; so does a timeout or a broken connection, also while the caller
        reads."""
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        answered = False
        try:
            with self._http.stream(
                method,
                path,
                content=content,
                params=params,
                headers=self._headers(True, headers),
                **extra,
            ) as response:
                answered = True
                self._note(response)
                if not response.is_success:
                    response.read()
                    raise ClientError.from_response(response)
                yield response
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, answered=answered) from None

    def _json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        auth: bool = True,
        deploys: bool = False,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> Any:
        """The decoded answer (``None`` for 204). ``deploys``: the call may start processes,
        so it may take as long as a deploy."""
        timeout = self.deploy_timeout if deploys else None
        response = self.request(
            method, path, json=json, auth=auth, timeout=timeout, data=data, files=files
        )
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
        try:
            response = self._http.get("/v2/")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
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
