"""The buildpacks a build can use: the built-in ones, in detection order, and those an
administrator installed (``POST /v2/buildpacks``).

The built-ins ship inside the package, which the build user may not be able to read (a
virtualenv under root's home, say), so each process copies them once into
``<data dir>/buildpacks/.builtin/<digest>/``, readable by everyone; the digest changes with
their content, so an upgraded Dockyard never runs a stale copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from dockyard.core import layout

BUILTIN = ("python", "nodejs", "go", "static")
SOURCE = Path(__file__).parent / "buildpacks"

_synced: dict[Path, list[tuple[str, Path]]] = {}


def _digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(SOURCE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _open_up(root: Path) -> None:
    for directory, _dirs, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            path = Path(directory, name)
            executable = path.parent.name == "bin" or os.stat(path).st_mode & 0o111
            os.chmod(path, 0o755 if executable else 0o644)


def builtin_buildpacks(data_dir: Path) -> list[tuple[str, Path]]:
    """(name, directory) of each built-in buildpack, in detection order. Blocking."""
    if data_dir in _synced and all(p.is_dir() for _, p in _synced[data_dir]):
        return _synced[data_dir]
    base = layout.buildpacks_dir(data_dir) / ".builtin"
    target = base / _digest()
    if not target.is_dir():
        base.mkdir(parents=True, exist_ok=True)
        os.chmod(base, 0o755)
        staging = base / f".{target.name}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(SOURCE, staging, ignore=shutil.ignore_patterns("__pycache__"))
        _open_up(staging)
        try:
            staging.rename(target)
        except OSError:  # another process made it first
            shutil.rmtree(staging, ignore_errors=True)
    result = [(name, target / name) for name in BUILTIN if (target / name).is_dir()]
    _synced[data_dir] = result
    return result


def installed_dir(data_dir: Path, name: str) -> Path:
    return layout.buildpacks_dir(data_dir) / name
