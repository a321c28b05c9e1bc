"""``dockyard backup FILE`` and ``dockyard restore FILE``: the server-side commands, run on
the controller's host with the server's settings (``DOCKYARD_DATA_DIR``,
``DOCKYARD_DATABASE_URL``).

A backup takes the database first (consistent on its own, see ``backup.database``), then
the data dir's files (``backup.members`` says which), into a gzipped tar written as
``FILE.partial`` (0600: it holds the secret key, the builder key and every config value)
and renamed into place when complete. The server may keep running.

A restore refuses, touching nothing, unless the data dir and the database are empty; it
reads the whole archive once to judge every entry before it writes anything, then unpacks
the files and loads the database. If that fails half-way it removes what it wrote. The next
``dockyard server`` applies any newer migrations and brings every app back to its current
release (``releases.converge``).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from dockyard import __version__
from dockyard.backup import database, members
from dockyard.core.settings import Settings

_CHUNK = 1 << 20
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _fail(message: str) -> NoReturn:
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(1)


def _add_tree(tar: tarfile.TarFile, data_dir: Path) -> int:
    """Add the data dir's entries that belong in a backup; how many files went in."""
    count = 0
    for directory, dirs, files in os.walk(data_dir):
        here = Path(directory)
        relative = here.relative_to(data_dir).parts
        dirs[:] = sorted(d for d in dirs if members.data_entry((*relative, d)))
        for name in [*dirs, *sorted(files)]:
            parts = (*relative, name)
            if not members.data_entry(parts):
                continue
            try:
                info = tar.gettarinfo(here / name, "/".join((members.DATA, *parts)))
            except FileNotFoundError:  # deleted while we walked (a pruned slug)
                continue
            if info.islnk():  # each file whole, as a restore takes no hard links
                info.type, info.linkname = tarfile.REGTYPE, ""
                info.size = (here / name).stat().st_size
            if info.isreg():
                try:
                    with (here / name).open("rb") as f:
                        tar.addfile(info, f)
                except FileNotFoundError:
                    continue
                count += 1
            elif info.isdir() or info.issym():
                tar.addfile(info)
                count += not info.isdir()
    return count


def backup(file: Path) -> None:
    settings = Settings()
    url, data_dir = settings.resolved_database_url, settings.data_dir.resolve()
    if file.exists():
        _fail(f"{file} already exists; name a new file.")
    if not data_dir.is_dir():
        _fail(f"There is no data dir at {data_dir} (DOCKYARD_DATA_DIR).")
    partial = file.with_name(file.name + ".partial")
    try:
        fd = os.open(partial, _NEW_FILE, 0o600)
    except OSError as exc:
        _fail(f"Cannot write {partial}: {exc.strerror}")
    try:
        with tempfile.TemporaryDirectory(prefix="dockyard-backup-") as scratch:
            kind = database.kind(url)
            dumped = Path(scratch) / members.DATABASES[kind]
            database.dump(url, dumped)
            os.chmod(dumped, 0o600)
            manifest = {
                "format": members.FORMAT,
                "dockyard": __version__,
                "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "database": kind,
                "data_dir": str(data_dir),
            }
            raw = json.dumps(manifest, indent=2).encode()
            with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
                info = tarfile.TarInfo(members.MANIFEST)
                info.size, info.mode, info.mtime = len(raw), 0o600, int(datetime.now().timestamp())
                tar.addfile(info, io.BytesIO(raw))
                tar.add(dumped, members.DATABASES[kind], recursive=False)
                files = _add_tree(tar, data_dir)
        os.rename(partial, file)
    except database.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        _fail(str(exc))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    size = _human(file.stat().st_size)
    print(f"Backed up the {kind} database ({database.where(url)}) and {files} files of {data_dir}")
    print(f"to {file} ({size}, mode 0600). It holds secrets: keep it safe.")


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _judge(file: Path, kind: str) -> tuple[dict[str, object], members.Tree]:
    """Read the whole archive once and judge every entry; nothing is written."""
    tree = members.Tree()
    manifest: dict[str, object] = {}
    try:
        with tarfile.open(file, mode="r:gz") as tar:
            for member in tar:
                tree.admit(member)
                if member.name == members.MANIFEST:
                    data = tar.extractfile(member)
                    assert data is not None
                    manifest = json.loads(data.read(members.MAX_MANIFEST))
                tar.members.clear()  # type: ignore[attr-defined]
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise members.BadArchive(f"{file} is not a readable backup: {exc}") from None
    stored = tree.finish()
    if not isinstance(manifest, dict) or manifest.get("format") != members.FORMAT:
        raise members.BadArchive(f"{file} is not a Dockyard backup of a format this reads.")
    if manifest.get("database") != kind or stored != members.DATABASES[kind]:
        raise members.BadArchive(
            f"{file} holds a {manifest.get('database')} database, but DOCKYARD_DATABASE_URL "
            f"names a {kind} one; restore it into the same kind of database."
        )
    if not isinstance(manifest.get("data_dir"), str):
        raise members.BadArchive(f"{file} has no data_dir in its manifest.")
    return manifest, tree


def _extract(file: Path, data_dir: Path, scratch: Path) -> Path:
    """Unpack the data entries into ``data_dir`` (created empty by the caller) and the
    database into ``scratch``; returns the database file. Entries were judged already; each
    is judged again, and no path is opened through a symbolic link."""
    tree, dumped = members.Tree(), scratch / "database"
    with tarfile.open(file, mode="r:gz") as tar:
        for member in tar:
            parts, kind = tree.admit(member)
            tar.members.clear()  # type: ignore[attr-defined]
            if parts[0] != members.DATA:
                if parts[0] in members.DATABASES.values():
                    _write(tar, member, dumped, 0o600)
                continue
            path = data_dir.joinpath(*parts[1:])
            if kind == members.DIR:
                with suppress(FileExistsError):
                    path.mkdir(mode=0o700)
                os.chmod(path, (member.mode & 0o777) | 0o700, follow_symlinks=False)
            elif kind == members.SYMLINK:
                os.symlink(member.linkname, path)
            else:
                _write(tar, member, path, member.mode & 0o777)
    return dumped


def _write(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path, mode: int) -> None:
    data = tar.extractfile(member)
    assert data is not None
    with os.fdopen(os.open(path, _NEW_FILE, 0o600), "wb") as out:
        shutil.copyfileobj(data, out, _CHUNK)
        os.fchmod(out.fileno(), mode)
    if 0 <= member.mtime < 2**34:
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)


def restore(file: Path) -> None:
    settings = Settings()
    url, data_dir = settings.resolved_database_url, settings.data_dir.absolute()
    kind = database.kind(url)
    if not file.is_file():
        _fail(f"There is no backup at {file}.")
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        _fail(f"The data dir {data_dir} is not empty; restore into an empty one.")
    try:
        empty = database.is_empty(url)
    except Exception as exc:  # any driver error, said in one line
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _fail(f"Cannot reach the database at {database.where(url)}: {reason}")
    if not empty:
        _fail(f"The database at {database.where(url)} is not empty; restore into an empty one.")
    try:
        manifest, tree = _judge(file, kind)
    except members.BadArchive as exc:
        _fail(f"Refused {file}: {exc}")
    made_dir = not data_dir.exists()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="dockyard-restore-") as scratch:
            dumped = _extract(file, data_dir, Path(scratch))
            database.load(url, dumped)
        counts = database.relocate(url, str(manifest["data_dir"]), data_dir)
        settings.ensure_dirs()
    except BaseException as exc:
        _undo(data_dir, made_dir, url)
        if isinstance(exc, (database.DatabaseError, members.BadArchive, OSError)):
            _fail(f"The restore failed and was undone: {exc}")
        raise
    print(
        f"Restored {counts['users']} users, {counts['apps']} apps and {counts['releases']} "
        f"releases ({tree.data_files} files) from {file}, made {manifest.get('created')} by "
        f"Dockyard {manifest.get('dockyard')}."
    )
    print("Start the server (dockyard server): it brings every app back to its last release.")


def _undo(data_dir: Path, made_dir: bool, url: str) -> None:
    """Remove what a failed restore wrote: the data dir was empty and so was the database
    (PostgreSQL's load is one transaction: nothing of it stays)."""
    if made_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        for entry in data_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    if database.kind(url) == "sqlite":
        with suppress(database.DatabaseError):
            path = database.sqlite_path(url)
            for suffix in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
