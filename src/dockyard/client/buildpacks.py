"""The buildpacks endpoints: the buildpacks that builds of uploaded sources can use. Anyone
logged in may list them; adding and removing is for administrators."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from dockyard.client.base import BaseClient, seg
from dockyard.client.models import Buildpack

BUILDPACKS = "/v2/buildpacks/"


class BuildpackAPI(BaseClient):
    def buildpacks(self) -> list[Buildpack]:
        return cast(list[Buildpack], self._list(BUILDPACKS))

    def add_buildpack(self, name: str, archive_path: str | Path) -> Buildpack:
        """Upload a buildpack: a ``.tar.gz`` whose root holds ``bin/compile`` (and maybe
        ``bin/detect`` and ``bin/release``)."""
        with Path(archive_path).open("rb") as archive:
            upload = (f"{name}.tar.gz", archive, "application/gzip")
            data = self._json("POST", BUILDPACKS, data={"name": name}, files={"buildpack": upload})
        return cast(Buildpack, data)

    def remove_buildpack(self, name: str) -> None:
        self._json("DELETE", f"{BUILDPACKS}{seg(name)}")
