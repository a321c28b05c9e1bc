"""Untrusted source archives: what an uploaded ``.tar.gz`` (or plain ``.tar``) may contain.

Owns the rules and both places they are applied: ``check_archive`` vets an upload before a
build starts, and ``extract_archive`` unpacks it into an empty build directory, applying every
rule again as it goes rather than trusting the earlier check. Archives are read as a stream,
so a huge or compressed-bomb upload stops being read as soon as it passes a limit.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tarfile
import zlib
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

_NOT_VALID = "The source is not a valid .tar.gz archive"
# tarfile reads pax records and GNU long names into memory whole, so each header (and the
# padding after the last entry) may take at most this much of the decompressed stream.
_HEADER_ALLOWANCE = 1 << 20
_PER_ENTRY_OVERHEAD = 4096  # header, pax record and padding of an ordinary entry, generously
_CHUNK = 1 << 20
_WORK_NAME = ".dockyard-unpack"
_FILE, _DIR, _IMPLICIT_DIR, _SYMLINK, _HARDLINK = "file", "dir", "implicit", "symlink", "link"
_KINDS = {tarfile.REGTYPE: _FILE, tarfile.AREGTYPE: _FILE, tarfile.CONTTYPE: _FILE}
_KINDS |= {tarfile.DIRTYPE: _DIR, tarfile.SYMTYPE: _SYMLINK, tarfile.LNKTYPE: _HARDLINK}
_SPECIAL = (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class ArchiveError(Exception):
    """Why an archive is refused; ``str()`` is a message for a person, naming the entry."""

    def __init__(self, message: str, entry: str | None = None) -> None:
        super().__init__(message)
        self.message, self.entry = message, entry


@dataclass(frozen=True)
class Limits:
    max_bytes: int  # total unpacked size (sum of regular file sizes)
    max_entries: int = 100_000


@dataclass(frozen=True)
class Summary:
    entries: int
    unpacked_bytes: int
    strip: str | None  # the single top-level directory that extraction strips, if any


class _Overflow(Exception):
    """The decompressed stream ran past what the entries' headers account for."""


class _Prefixed:
    """A stream with the bytes read to sniff its format put back in front."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head, self._raw = head, raw

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._raw.read(size)
        size = len(self._head) if size < 0 else size
        data, self._head = self._head[:size], self._head[size:]
        return data


class _Meter:
    """The decompressed tar stream, refusing to hand over more than ``limit`` bytes in all."""

    def __init__(self, raw: BinaryIO) -> None:
        head = b""
        while len(head) < 2 and (more := raw.read(2 - len(head))):
            head += more
        plain = _Prefixed(head, raw)
        gzipped = head == b"\x1f\x8b"
        self._inner = gzip.GzipFile(fileobj=cast(BinaryIO, plain), mode="rb") if gzipped else plain
        self.count, self.limit = 0, _HEADER_ALLOWANCE

    def read(self, size: int = -1) -> bytes:
        room = self.limit + 1 - self.count
        if room <= 0:
            raise _Overflow
        # Never ask for more than one byte past the limit, so a bomb is never decompressed.
        data = self._inner.read(min(size if size >= 0 else _CHUNK, room))
        self.count += len(data)
        if self.count > self.limit:
            raise _Overflow
        return data


def _refuse(entry: str, problem: str) -> ArchiveError:
    return ArchiveError(f"Archive entry {entry!r} {problem}.", entry)


def _parts(path: str, entry: str, what: str) -> tuple[str, ...]:
    if "\x00" in path:
        raise _refuse(entry, f"has a NUL byte in its {what}")
    if path.startswith("/"):
        raise _refuse(entry, f"has an absolute {what}")
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _refuse(entry, f"has a '..' component in its {what}")
    return parts


def _symlink_target(linkname: str, entry: str, depth: int) -> tuple[str, int]:
    """The normalised target, and how many directories deep it climbs back up to."""
    if "\x00" in linkname:
        raise _refuse(entry, "has a NUL byte in its link target")
    if linkname.startswith("/"):
        raise _refuse(entry, f"is a symbolic link to an absolute path ({linkname!r})")
    parts = [p for p in linkname.split("/") if p not in ("", ".")]
    ups = 0
    while ups < len(parts) and parts[ups] == "..":
        ups += 1
    # The kernel resolves 'a/..' through 'a', which may itself be a link, so 'a/..' cannot be
    # judged by normalising the text; only leading '..' (through real directories) is allowed.
    if ".." in parts[ups:]:
        raise _refuse(entry, f"is a symbolic link with '..' inside its target ({linkname!r})")
    if ups > depth:
        raise _refuse(entry, f"is a symbolic link pointing outside the archive ({linkname!r})")
    return "/".join(parts) or ".", depth - ups


class _Tree:
    """What the archive has put where so far, to judge each following entry against."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.kinds: dict[tuple[str, ...], str] = {}
        self.tops: set[str] = set()
        self.climbers: list[str] = []  # symlinks whose target climbs to the archive's root
        self.seen = self.entries = self.unpacked = 0

    def admit(self, member: tarfile.TarInfo) -> tuple[tuple[str, ...], str, str] | None:
        """The entry's path, kind and link target, or None for the root; or ArchiveError."""
        name, limits = member.name, self.limits
        self.seen += 1
        if self.seen > limits.max_entries:
            raise ArchiveError(f"The archive has more than {limits.max_entries:,} entries.", name)
        parts = _parts(name, name, "path")
        kind = _KINDS.get(member.type)
        if member.issparse():  # tarfile counts sparse files as regular ones
            raise _refuse(name, "is a sparse file, which is not supported")
        if kind is None:
            special = member.type in _SPECIAL
            raise _refuse(name, "is a device or FIFO" if special else f"has type {member.type!r}")
        if not parts:  # the archive's root, './'
            if kind == _DIR:
                return None
            raise _refuse(name, "names the archive's root but is not a directory")
        for i in range(1, len(parts)):
            above = self.kinds.setdefault(parts[:i], _IMPLICIT_DIR)
            if above == _SYMLINK:
                raise _refuse(name, f"passes through the symbolic link {'/'.join(parts[:i])!r}")
            if above == _FILE:
                raise _refuse(name, f"is inside {'/'.join(parts[:i])!r}, which is a file")
        existing, is_file = self.kinds.get(parts), kind in (_FILE, _HARDLINK)
        if existing is not None and not (
            (kind == _DIR and existing in (_DIR, _IMPLICIT_DIR)) or (is_file and existing == _FILE)
        ):
            what = {_FILE: "a file", _SYMLINK: "a symbolic link"}.get(existing, "a directory")
            raise _refuse(name, f"would replace {what} of the same name")
        target = ""
        if kind == _FILE:
            if member.size < 0:
                raise _refuse(name, "has a negative size")
            self.unpacked += member.size
            if self.unpacked > limits.max_bytes:
                size = _human(limits.max_bytes)
                raise ArchiveError(f"The archive unpacks to more than {size}.", name)
        elif kind == _HARDLINK:
            linked = _parts(member.linkname, name, "link target")
            if linked == parts or self.kinds.get(linked) != _FILE:
                problem = f"is a hard link to {member.linkname!r}, not to a file before it"
                raise _refuse(name, problem)
            target = "/".join(linked)
        elif kind == _SYMLINK:
            target, lowest = _symlink_target(member.linkname, name, len(parts) - 1)
            if lowest == 0:
                self.climbers.append(name)
        self.kinds[parts] = _FILE if is_file else kind
        self.tops.add(parts[0])
        self.entries += 1
        return parts, kind, target

    def strip(self) -> str | None:
        top = next(iter(self.tops)) if len(self.tops) == 1 else ""
        if self.kinds.get((top,)) not in (_DIR, _IMPLICIT_DIR):
            return None
        if self.climbers:  # once the top directory is gone, such a link would leave dest
            problem = f"is a symbolic link pointing outside {top + '/'!r}, which is stripped"
            raise _refuse(self.climbers[0], problem)
        return top


def _human(size: int) -> str:
    value, unit = float(size), "bytes"
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"


class _Writer:
    """Writes admitted entries under ``work``, never following a symlink on the way."""

    def __init__(self, tar: tarfile.TarFile, work: Path) -> None:
        work.mkdir(mode=0o700)
        self._tar, self._work, self._root = tar, str(work), os.open(work, _DIR_FLAGS)

    def close(self) -> None:
        os.close(self._root)

    def _open_dir(self, parts: tuple[str, ...]) -> int:
        fd = os.dup(self._root)
        try:
            for part in parts:
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                    os.fchmod(child, 0o755)  # the umask may have narrowed it
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    def write(
        self, member: tarfile.TarInfo, parts: tuple[str, ...], kind: str, target: str
    ) -> None:
        tarfile.data_filter(member, self._work)  # a second opinion; our rules are stricter
        parent, name = self._open_dir(parts[:-1]), parts[-1]
        try:
            if kind == _DIR:
                with suppress(FileExistsError):
                    os.mkdir(name, 0o755, dir_fd=parent)
                fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
                os.fchmod(fd, 0o755)
                os.close(fd)
                return
            if kind == _SYMLINK:
                os.symlink(target, name, dir_fd=parent)
                return
            # Replace rather than rewrite a duplicate, which may be hard-linked elsewhere.
            with suppress(FileNotFoundError):
                os.unlink(name, dir_fd=parent)
            if kind == _HARDLINK:
                *where, linked = target.split("/")
                at = self._open_dir(tuple(where))
                try:
                    os.link(linked, name, src_dir_fd=at, dst_dir_fd=parent, follow_symlinks=False)
                finally:
                    os.close(at)
                return
            data = self._tar.extractfile(member)
            assert data is not None  # regular files always have data
            with os.fdopen(os.open(name, _NEW_FILE_FLAGS, 0o600, dir_fd=parent), "wb") as out:
                shutil.copyfileobj(data, out, _CHUNK)
                out.flush()
                os.fchmod(out.fileno(), 0o755 if member.mode & 0o111 else 0o644)
                if 0 <= member.mtime < 2**34:
                    os.utime(out.fileno(), (member.mtime, member.mtime))
        finally:
            os.close(parent)


def _move_up(work: Path, strip: str | None, dest: Path) -> None:
    """Moves what was unpacked into ``work`` (less the stripped directory) into ``dest``."""
    root = work / strip if strip else work
    names = os.listdir(root)
    while work.name in names:  # the archive uses our name: step aside
        work = work.rename(work.with_name(work.name + "-"))
        root = work / strip if strip else work
    for name in names:
        os.rename(root / name, dest / name)
    if strip:
        os.rmdir(root)
    os.rmdir(work)


def _run(source: Path | BinaryIO, limits: Limits, dest: Path | None) -> Summary:
    """One streaming pass over the archive, judging each entry and unpacking it if ``dest``."""
    tree, current = _Tree(limits), None
    cap = limits.max_bytes + limits.max_entries * _PER_ENTRY_OVERHEAD + _HEADER_ALLOWANCE
    try:
        with source.open("rb") if isinstance(source, Path) else nullcontext(source) as raw:
            meter = _Meter(raw)
            with tarfile.open(fileobj=cast(BinaryIO, meter), mode="r|") as tar:
                writer = _Writer(tar, dest / _WORK_NAME) if dest is not None else None
                try:
                    while True:
                        # tar.offset is where the next header starts, past this entry's data.
                        meter.limit = min(cap, tar.offset + _HEADER_ALLOWANCE)
                        member = tar.next()
                        if member is None:
                            break
                        # Streaming needs no list of past members; don't let it pile up.
                        tar.members.clear()  # type: ignore[attr-defined]
                        current = member.name
                        admitted = tree.admit(member)
                        meter.limit = min(cap, tar.offset + _HEADER_ALLOWANCE)
                        if admitted is not None and writer is not None:
                            writer.write(member, *admitted)
                finally:
                    if writer is not None:
                        writer.close()
            # Read to the end so a truncated or corrupt gzip stream (CRC, length) is noticed.
            meter.limit = meter.count + _HEADER_ALLOWANCE
            while meter.read(_CHUNK):
                pass
        if tree.entries == 0:
            raise ArchiveError("The archive is empty.")
        current, strip = None, tree.strip()
        if dest is not None:
            _move_up(dest / _WORK_NAME, strip, dest)
    except _Overflow:
        where = f" after entry {current!r}" if current is not None else ""
        problem = f"it has oversized headers or trailing data{where}"
        raise ArchiveError(f"{_NOT_VALID}: {problem}.", current) from None
    except tarfile.FilterError as exc:
        raise _refuse(current or "", f"is refused: {exc}") from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as exc:
        raise ArchiveError(f"{_NOT_VALID}: {exc}.", current) from None
    except OSError as exc:
        where = f" at entry {current!r}" if current is not None else ""
        problem = f"Could not unpack the archive{where}: {exc.strerror or exc}."
        raise ArchiveError(problem, current) from None
    return Summary(tree.entries, tree.unpacked, strip)


def check_archive(path: Path, limits: Limits) -> Summary:
    """Judges the archive at ``path`` without unpacking it; raises ArchiveError if refused."""
    return _run(path, limits, None)


def extract_archive(source: Path | BinaryIO, dest: Path, limits: Limits) -> Summary:
    """Unpacks ``source`` into the empty directory ``dest``, stripping a single top directory.

    On ArchiveError ``dest`` is left as it is, partly filled; the caller deletes it. A stream
    is read once: entries go into a private subdirectory of ``dest`` and are moved up at the
    end, once it is known whether there is a top directory to strip.
    """
    if not dest.is_dir() or any(dest.iterdir()):
        raise ValueError(f"{dest} must be an existing, empty directory")
    return _run(source, limits, dest)
