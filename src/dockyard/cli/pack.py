"""Packing an app's source for ``dockyard deploy`` (and a buildpack for ``buildpacks:add``):
which files go in, and the ``.tar.gz`` temp file that is uploaded. No HTTP here.

Inside a git work tree the files are what git would commit now: tracked files as they are in
the working tree (deleted ones skipped) plus untracked files that are not ignored, and the
sha is ``HEAD`` (none before the first commit). Anywhere else every file goes in except
``.git`` and what the directory's ``.gitignore`` and ``.dockyardignore`` exclude (see
``dockyard.cli.ignore``).

Symlinks are stored as symlinks, never followed; sockets, fifos and devices are skipped.
The archive holds files and symlinks only, sorted by path, with uid/gid 0, no user or group
names, modes 0644/0755 (the exec bit kept) and a zero gzip timestamp, so the same tree
packs to the same bytes.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dockyard.cli.ignore import IgnoreRules
from dockyard.client import ProfileError

# -- choosing the files ---------------------------------------------------------------------


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    if shutil.which("git") is None:
        return None
    return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, check=False)


def in_work_tree(directory: Path) -> bool:
    result = _git(directory, "rev-parse", "--is-inside-work-tree")
    return result is not None and result.returncode == 0 and result.stdout.strip() == b"true"


def git_head(directory: Path) -> str | None:
    """The commit checked out, or ``None`` before the first commit."""
    result = _git(directory, "rev-parse", "--verify", "--quiet", "HEAD")
    if result is None or result.returncode != 0:
        return None
    return result.stdout.decode().strip() or None


def git_files(directory: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored paths under ``directory``, relative to it."""
    result = _git(directory, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if result is None or result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip() if result else "no git"
        raise ProfileError(f"Cannot list the files of the git repository at {directory}: {reason}")
    names = {os.fsdecode(raw) for raw in result.stdout.split(b"\0") if raw}
    return sorted(names)


def walk(root: Path, rules: IgnoreRules, prefix: str = "") -> Iterator[str]:
    """Every path under ``root`` (relative, sorted) that the rules keep; ``.git`` and
    ignored directories are not descended into, symlinks not followed."""
    try:
        entries = sorted(os.scandir(root / prefix if prefix else root), key=lambda e: e.name)
    except OSError as exc:
        raise ProfileError(f"Cannot read {root / prefix}: {exc.strerror}") from None
    for entry in entries:
        if entry.name == ".git":
            continue
        relpath = f"{prefix}{entry.name}"
        is_dir = entry.is_dir(follow_symlinks=False)
        if rules.matches(relpath, is_dir):
            continue
        if is_dir:
            yield from walk(root, rules, f"{relpath}/")
        else:
            yield relpath


# -- the archive ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Packed:
    """A packed source: the ``.tar.gz`` temp file (the caller deletes it, ``remove()``),
    its size in bytes, the paths it holds and the commit it came from, if any."""

    path: Path
    size: int
    names: tuple[str, ...]
    sha: str | None

    @property
    def files(self) -> int:
        return len(self.names)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _tarinfo(root: Path, relpath: str) -> tarfile.TarInfo | None:
    """The header of one entry; ``None`` for what is not stored (gone, a directory, a
    socket, a fifo, a device)."""
    try:
        st = os.lstat(root / relpath)
        link = os.readlink(root / relpath) if stat.S_ISLNK(st.st_mode) else ""
    except FileNotFoundError:
        return None  # deleted since git listed it
    except OSError as exc:
        raise ProfileError(f"Cannot read {root / relpath}: {exc.strerror or exc}") from None
    info = tarfile.TarInfo(relpath)
    info.mtime = int(st.st_mtime)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if stat.S_ISLNK(st.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = link
        info.mode = 0o777
    elif stat.S_ISREG(st.st_mode):
        info.size = st.st_size
        info.mode = 0o755 if st.st_mode & stat.S_IXUSR else 0o644
    else:
        return None
    return info


def write_archive(root: Path, relpaths: Iterable[str], target: Path) -> tuple[str, ...]:
    """Write the entries to ``target`` as a deterministic ``.tar.gz``; the names stored."""
    stored: list[str] = []
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for relpath in sorted(set(relpaths)):
            info = _tarinfo(root, relpath)
            if info is None:
                continue
            try:
                if info.isreg():
                    with (root / relpath).open("rb") as handle:
                        tar.addfile(info, handle)
                else:
                    tar.addfile(info)
            except OSError as exc:
                raise ProfileError(f"Cannot read {root / relpath}: {exc.strerror or exc}") from None
            stored.append(relpath)
    return tuple(stored)


def pack(directory: str | Path, *, use_git: bool = True) -> Packed:
    """Pack ``directory`` into a temp ``.tar.gz``: git's view of it inside a work tree
    (unless ``use_git`` is false), else the files the ignore files keep."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise ProfileError(f"{root} {what}: nothing to pack.")
    root = root.resolve()
    sha = None
    if use_git and in_work_tree(root):
        relpaths: Iterable[str] = git_files(root)
        sha = git_head(root)
    else:
        relpaths = walk(root, IgnoreRules.for_directory(root))
    fd, name = tempfile.mkstemp(prefix="dockyard-source-", suffix=".tar.gz")
    os.close(fd)
    target = Path(name)
    try:
        names = write_archive(root, relpaths, target)
        if not names:
            raise ProfileError(f"Nothing to pack in {root}: no files, or all of them ignored.")
        return Packed(target, target.stat().st_size, names, sha)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def human_size(size: int) -> str:
    """``1536`` -> ``1.5 KB``."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
