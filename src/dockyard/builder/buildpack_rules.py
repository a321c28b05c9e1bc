"""Buildpack rules (pure, standard library only, so the slug builder can use them): which
buildpack a ``BUILDPACK_URL`` or a ``.buildpacks`` line names, what a ``bin/release`` says,
and the process types a build ends up with.

A buildpack is named by the name of a built-in (``python``, ``nodejs``, ``go``, ``static``;
``heroku/python`` is accepted for ``python``), the name of one an administrator installed,
or a directory on the controller's host (a path or a ``file://`` URL) under
``DOCKYARD_LOCAL_SOURCE_ROOTS`` and outside the data dir. Nothing is fetched from the network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_RELEASE_TYPE = re.compile(r"^\s+([A-Za-z0-9_-]+)\s*:\s*(.*?)\s*$")


class BuildpackSpecError(Exception):
    """A buildpack that cannot be used; the message says why and what can be."""


def read_buildpacks_file(text: str) -> list[str]:
    """The entries of a ``.buildpacks`` file: one per line; blank lines and lines starting
    with ``#`` are skipped (a ``#`` later in a line may be part of a URL)."""
    entries = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            entries.append(line)
    return entries


def _host_path(spec: str) -> Path | None:
    if spec.startswith("file://"):
        parsed = urlparse(spec)
        if parsed.netloc not in ("", "localhost"):
            raise BuildpackSpecError(f"{spec}: file:// URLs must name a path on this host")
        return Path(unquote(parsed.path))
    if spec.startswith("/"):
        return Path(spec)
    return None


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve(
    spec: str,
    *,
    builtin: dict[str, Path],
    installed: dict[str, Path],
    roots: list[Path],
    data: Path,
) -> Path:
    """The directory of the buildpack ``spec`` names, or ``BuildpackSpecError``."""
    spec = spec.strip()
    path = _host_path(spec)
    if path is not None:
        real = Path(os.path.realpath(path))
        allowed = [Path(os.path.realpath(r)) for r in roots]
        if not any(_within(real, r) for r in allowed):
            shown = ":".join(str(r) for r in roots) or "(none configured)"
            raise BuildpackSpecError(
                f"The buildpack {spec} is not under a directory listed in "
                f"DOCKYARD_LOCAL_SOURCE_ROOTS ({shown})"
            )
        data_real = Path(os.path.realpath(data))
        if _within(real, data_real) or _within(data_real, real):
            raise BuildpackSpecError(f"The buildpack {spec} overlaps the controller's data dir")
        if not real.is_dir():
            raise BuildpackSpecError(f"The buildpack {spec} is not a directory on this host")
        return real
    if "://" in spec or spec.startswith("git@"):
        raise BuildpackSpecError(
            f"{spec} is a URL; builds use buildpacks on this host only. Name a built-in or "
            "installed buildpack (an administrator installs one with `dockyard buildpacks:add`), "
            "or a directory on the controller's host."
        )
    name = spec.removeprefix("heroku/") if spec.removeprefix("heroku/") in builtin else spec
    if name in installed:
        return installed[name]
    if name in builtin:
        return builtin[name]
    known = ", ".join(sorted({*builtin, *installed}))
    raise BuildpackSpecError(f"There is no buildpack named {spec}. Available: {known}.")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        if value[0] == '"':
            return inner.replace('\\"', '"').replace("\\\\", "\\")
        return inner.replace("''", "'")
    return value


def parse_release(text: str) -> dict[str, str]:
    """``default_process_types`` of a ``bin/release`` YAML document (the subset buildpacks
    print: a mapping of type to command, commands maybe quoted). Anything else is ignored."""
    types: dict[str, str] = {}
    inside = False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line.strip() == "---":
            continue
        if not line[0].isspace():
            key, _, rest = line.partition(":")
            inside = key.strip() == "default_process_types" and rest.strip() in ("", "{}")
            continue
        if inside:
            match = _RELEASE_TYPE.match(line)
            if match and match.group(2):
                types[match.group(1)] = _unquote(match.group(2))
    return types


def process_types(defaults: dict[str, str], procfile: dict[str, str]) -> dict[str, str]:
    """The buildpacks' default process types, each overridden by the Procfile's."""
    merged = dict(defaults)
    merged.update(procfile)
    return merged
