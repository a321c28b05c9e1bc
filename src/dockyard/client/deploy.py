"""The release engine's endpoints: config, builds (and uploading a source to build with
its streamed build output), releases and rollback, and an app's processes (scale, pods,
restart, one-off runs, logs).

Calls that change what runs (a config or build change, rollback, scale, restart, run) wait
for the deploy, so they use the client's ``deploy_timeout``. Config and build changes leave
the new release's number in ``last_release``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO, cast

import httpx

from dockyard.client.base import BaseClient, app_path
from dockyard.client.errors import ClientError
from dockyard.client.models import Build, Config, Pod, Release, RunResult, SourceEvent

CONFIG_FIELDS = ("values", "memory", "cpu", "tags", "registry", "healthcheck")
UPLOAD_CHUNK = 64 * 1024


def _event(line: str) -> SourceEvent:
    """One line of a build's stream, decoded."""
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise ClientError(
            0, f"The controller sent a build line that is not a JSON object: {line[:200]}"
        )
    return cast(SourceEvent, event)


def _chunks(stream: BinaryIO, on_progress: Callable[[int], None] | None) -> Iterator[bytes]:
    """``stream`` in chunks; ``on_progress`` gets the bytes sent after each one went out."""
    sent = 0
    while chunk := stream.read(UPLOAD_CHUNK):
        yield chunk
        sent += len(chunk)
        if on_progress is not None:
            on_progress(sent)


class DeployAPI(BaseClient):
    # -- config ---------------------------------------------------------------------------

    def config(self, app_id: str) -> Config:
        return cast(Config, self._json("GET", app_path(app_id, "config")))

    def set_config(
        self,
        app_id: str,
        *,
        values: Mapping[str, str | None] | None = None,
        memory: Mapping[str, str | None] | None = None,
        cpu: Mapping[str, str | None] | None = None,
        tags: Mapping[str, str | None] | None = None,
        registry: Mapping[str, str | None] | None = None,
        healthcheck: Mapping[str, Any] | None = None,
    ) -> Config:
        """Merge changes into the config (``None`` unsets a key) and deploy a new release.
        A change that changes nothing is a 409 from the controller."""
        fields = {
            "values": values,
            "memory": memory,
            "cpu": cpu,
            "tags": tags,
            "registry": registry,
            "healthcheck": healthcheck,
        }
        body = {k: dict(v) for k, v in fields.items() if v is not None}
        return cast(Config, self._json("POST", app_path(app_id, "config"), json=body, deploys=True))

    # -- builds ---------------------------------------------------------------------------

    def builds(self, app_id: str, *, limit: int | None = None) -> list[Build]:
        return cast(list[Build], self._list(app_path(app_id, "builds"), limit=limit))

    def build(self, app_id: str, build_uuid: str) -> Build:
        return cast(Build, self._json("GET", app_path(app_id, "builds", build_uuid)))

    def create_build(
        self,
        app_id: str,
        image: str,
        *,
        procfile: Mapping[str, str] | None = None,
        sha: str = "",
        dockerfile: str = "",
    ) -> Build:
        """Build ``image`` (on the local scheduler: a directory or archive on the controller's
        host) and deploy it as a new release."""
        body: dict[str, Any] = {"image": image}
        if procfile is not None:
            body["procfile"] = dict(procfile)
        if sha:
            body["sha"] = sha
        if dockerfile:
            body["dockerfile"] = dockerfile
        return cast(Build, self._json("POST", app_path(app_id, "builds"), json=body, deploys=True))

    def build_log(self, app_id: str, build_uuid: str) -> str:
        """The output of a build (of an uploaded source)."""
        path = app_path(app_id, "builds", build_uuid, "log")
        return self.request("GET", path, headers={"Accept": "text/plain, */*"}).text

    def upload_source(
        self,
        app_id: str,
        stream: BinaryIO,
        size: int,
        *,
        sha: str | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> Iterator[SourceEvent]:
        """Upload a ``.tar.gz`` of the app's source (``size`` bytes from ``stream``) to be
        built and deployed; yield the controller's answer one line at a time as it comes:
        ``{"log": ...}`` for each line of build output, then the result, ``build`` and
        ``release`` or ``error``. Nothing is sent before the first ``next()``.

        ``on_progress`` gets the number of bytes sent so far. Waits between lines may be
        as long as ``deploy_timeout``. A stream that ends without a result raises
        ``ClientError``, as does an answer outside 2xx (before the build starts)."""
        headers = {
            "Content-Type": "application/gzip",
            "Content-Length": str(size),
            "Accept": "application/x-ndjson, application/json",
        }
        timeout = httpx.Timeout(self.deploy_timeout, connect=self._http.timeout.connect)
        with self.stream(
            "POST",
            app_path(app_id, "sources") + "/",
            content=_chunks(stream, on_progress),
            params={"sha": sha} if sha else None,
            headers=headers,
            timeout=timeout,
        ) as response:
            for line in response.iter_lines():
                if not line.strip():
                    continue
                event = _event(line)
                yield event
                if "build" in event or "error" in event:
                    return
        raise ClientError(
            0,
            f"The connection to the controller at {self.url} ended before the build finished "
            "(no result came back). Check `dockyard builds:list` and `dockyard releases`.",
        )

    # -- releases -------------------------------------------------------------------------

    def releases(self, app_id: str, *, limit: int | None = None) -> list[Release]:
        return cast(list[Release], self._list(app_path(app_id, "releases"), limit=limit))

    def release(self, app_id: str, version: str | int) -> Release:
        return cast(Release, self._json("GET", app_path(app_id, "releases", version)))

    def rollback(self, app_id: str, version: int | None = None) -> int:
        """Roll back to ``version`` (default: the previous good release); returns the number
        of the new release."""
        body = {} if version is None else {"version": version}
        data = self._json("POST", app_path(app_id, "releases", "rollback"), json=body, deploys=True)
        return int(data["version"])

    # -- processes ------------------------------------------------------------------------

    def scale(self, app_id: str, structure: Mapping[str, int]) -> None:
        self._json("POST", app_path(app_id, "scale"), json=dict(structure), deploys=True)

    def pods(self, app_id: str, ptype: str | None = None) -> list[Pod]:
        path = app_path(app_id, "pods", ptype) if ptype else app_path(app_id, "pods")
        return cast(list[Pod], self._list(path))

    def restart(self, app_id: str, target: str | None = None) -> list[Pod]:
        """Restart every pod, the pods of a process type, or one pod by name."""
        path = (
            app_path(app_id, "pods", target, "restart")
            if target
            else app_path(app_id, "pods", "restart")
        )
        return cast(list[Pod], self._json("POST", path, deploys=True) or [])

    def run(self, app_id: str, command: str) -> RunResult:
        """Run a one-off command in the app's environment and wait for it to finish."""
        return cast(
            RunResult,
            self._json("POST", app_path(app_id, "run"), json={"command": command}, deploys=True),
        )

    def logs(self, app_id: str, lines: int | None = None) -> str:
        """The last ``lines`` lines of the app's log (the controller's default: 100);
        empty when there are none yet. Asks for ``text/plain``: to the client's default
        ``Accept: application/json`` the controller answers the log as a JSON string."""
        params = None if lines is None else {"log_lines": lines}
        response = self.request(
            "GET", app_path(app_id, "logs"), params=params, headers={"Accept": "text/plain"}
        )
        if response.status_code == 204:
            return ""
        return response.text
