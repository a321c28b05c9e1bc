"""The release engine's endpoints: config, builds, releases and rollback, and an app's
processes (scale, pods, restart, one-off runs, logs).

Calls that change what runs (a config or build change, rollback, scale, restart, run) wait
for the deploy, so they use the client's ``deploy_timeout``. Config and build changes leave
the new release's number in ``last_release``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from dockyard.client.base import BaseClient, app_path
from dockyard.client.models import Build, Config, Pod, Release, RunResult

CONFIG_FIELDS = ("values", "memory", "cpu", "tags", "registry", "healthcheck")


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
        empty when there are none yet."""
        params = None if lines is None else {"log_lines": lines}
        response = self.request("GET", app_path(app_id, "logs"), params=params)
        if response.status_code == 204:
            return ""
        return response.text
