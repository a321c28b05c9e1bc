"""Build sources for the local scheduler: a directory, a ``.tar``/``.tar.gz`` archive or a
``file://`` URL on the host, accepted only under ``DOCKYARD_LOCAL_SOURCE_ROOTS`` and copied
into the data dir, so later changes to the source never affect a release.

Blocking file work; the service runs ``import_source`` in a thread.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from dockyard.core.errors import Invalid
from dockyard.releases import slugs

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")
# registry/name:tag or name@sha256:... — what a container image reference looks like.
IMAGE_RE = re.compile(r"^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)*$")
# An image tag, as ``deis builds:create`` (v1) insists every image has one.
TAG_RE = re.compile(r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")


def source_path(image: str) -> Path | None:
    """The host path an ``image`` names, or None when it is not a host path at all."""
    if image.startswith("file://"):
        parsed = urlparse(image)
        if parsed.netloc not in ("", "localhost"):
            raise Invalid("file:// URLs must name a path on this host", field="image")
        return Path(unquote(parsed.path))
    if image.startswith("/"):
        return Path(image)
    return None


def untagged(path: Path) -> Path:
    """``/src/app:latest`` names ``/src/app`` when only that exists: a client that refuses an
    image without a tag can still name a local source. A path that exists as given wins."""
    tag = TAG_RE.search(path.name)
    if tag is None or tag.start() == 0 or _exists(path):
        return path
    bare = path.with_name(path.name[: tag.start()])
    return bare if _exists(bare) else path


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long, say: it cannot be a source either
        return False


def check_local_image(image: str, roots: list[Path], *, data_dir: Path | None = None) -> Path:
    """The resolved source path of a local build, or a 400 that says what is wrong. A source
    inside the controller's data dir (other apps' builds, the database) or containing it (the
    copy would land inside the source being copied) is refused."""
    path = source_path(image)
    if path is None:
        if IMAGE_RE.match(image):
            raise Invalid(
                f"{image} looks like a container image; running container images needs the "
                "kubernetes scheduler (DOCKYARD_SCHEDULER=kubernetes). On the local scheduler "
                "pass an absolute directory, a .tar/.tar.gz archive or a file:// URL.",
                field="image",
            )
        raise Invalid(
            "image must be an absolute directory path, a .tar/.tar.gz archive or a file:// URL",
            field="image",
        )
    path = untagged(path)
    resolved = Path(os.path.realpath(path))
    allowed = [Path(os.path.realpath(r)) for r in roots]
    if not any(resolved == r or r in resolved.parents for r in allowed):
        shown = ":".join(str(r) for r in roots) or "(none configured)"
        raise Invalid(
            f"{path} is not under a directory listed in DOCKYARD_LOCAL_SOURCE_ROOTS ({shown})",
            field="image",
        )
    if data_dir is not None:
        data = Path(os.path.realpath(data_dir))
        if resolved == data or data in resolved.parents or resolved in data.parents:
            raise Invalid(
                f"{path} overlaps the controller's data directory and cannot be built",
                field="image",
            )
    if resolved.is_dir():
        return resolved
    if resolved.is_file() and resolved.name.endswith(ARCHIVE_SUFFIXES):
        return resolved
    if not resolved.exists():
        raise Invalid(f"{path} does not exist", field="image")
    raise Invalid(f"{path} is neither a directory nor a .tar/.tar.gz archive", field="image")


def import_source(source: Path, dest: Path, gid: int | None = None) -> None:
    """Copy a directory, or safely unpack an archive, into ``dest`` (which must not exist).
    The copy is sealed like a built slug: readable (not writable) by the app's own gid
    only, when the controller is root (``slugs.seal``)."""
    slugs.app_dir(dest.parent, gid)
    if source.is_dir():
        try:
            shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        except (shutil.Error, OSError) as exc:
            shutil.rmtree(dest, ignore_errors=True)
            raise Invalid(f"Could not copy {source}: {_first_error(exc)}", field="image") from exc
    else:
        try:
            with tarfile.open(source) as archive:
                archive.extractall(dest, filter="data")
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(dest, ignore_errors=True)
            raise Invalid(f"Could not unpack {source.name}: {exc}", field="image") from exc
        _flatten_single_dir(dest)
    slugs.seal(dest, gid)


def _first_error(exc: Exception) -> str:
    """``shutil.Error`` carries a list of (src, dst, why); one reason is enough to show."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        errors = exc.args[0]
        if errors and isinstance(errors[0], tuple) and len(errors[0]) == 3:
            return f"{errors[0][0]}: {errors[0][2]}"
    return str(exc)


def _flatten_single_dir(dest: Path) -> None:
    """An archive of ``app/...`` unpacks to ``dest/app``; make ``dest`` the app's root."""
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        inner = entries[0]
        tmp = dest.with_name(dest.name + ".flatten")
        inner.rename(tmp)
        dest.rmdir()
        tmp.rename(dest)


def read_procfile(root: Path) -> str | None:
    procfile = root / "Procfile"
    if procfile.is_file() and procfile.stat().st_size < 64 * 1024:
        return procfile.read_text(errors="replace")
    return None
