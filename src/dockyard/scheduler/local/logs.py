"""The app logs of the local backend: one file per app, written by every shim of the app and by
the agent (controller events), bounded by size rotation and read from the end.

Lines look like ``2026-01-01T00:00:00Z bar3[web.1]: listening``. Several processes append to
one file, so every append and rotation happens under an ``flock`` on a side lock file; each
write is a handful of whole lines, which is quick enough to do without a thread. An app keeps
at most ``max_bytes * (backups + 1)`` bytes (5 MiB x 3 by default). Reading the last N lines
seeks backwards block by block, so its cost depends on N, not on the size of the log.

Files belong to the controller. Given the app's gid (its processes run with it), a log file
is ``root:<gid>`` mode 0640, so the app can read its own log and no other app can; without
one it stays 0600. The lock files stay 0600.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_BACKUPS = 2
MAX_LINE = 16 * 1024
_BLOCK = 64 * 1024


def timestamp(when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_lines(app: str, source: str, text: str, when: datetime | None = None) -> list[str]:
    """One log line per line of ``text``, each cut at ``MAX_LINE`` characters."""
    prefix = f"{timestamp(when)} {app}[{source}]: "
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [prefix + line[:MAX_LINE] for line in lines]


class LogStore:
    """The log files of every app under one directory."""

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.backups = backups

    def path(self, app: str) -> Path:
        return self.directory / f"{app}.log"

    def _files(self, app: str) -> list[Path]:
        base = self.path(app)
        return [base] + [base.with_name(f"{base.name}.{i}") for i in range(1, self.backups + 1)]

    @contextmanager
    def _locked(self, app: str, mode: int) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / f".{app}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)

    def append(self, app: str, lines: Iterable[str], *, gid: int | None = None) -> None:
        data = "".join(line + "\n" for line in lines).encode("utf-8", "replace")
        if not data:
            return
        with self._locked(app, fcntl.LOCK_EX):
            fd = os.open(self.path(app), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
                info = os.fstat(fd)
                if gid is not None and info.st_gid != gid and os.geteuid() == 0:
                    os.fchown(fd, 0, gid)
                    os.fchmod(fd, 0o640)
            finally:
                os.close(fd)
            if info.st_size >= self.max_bytes:
                self._rotate(app)

    def write(self, app: str, source: str, text: str, *, gid: int | None = None) -> None:
        self.append(app, format_lines(app, source, text), gid=gid)

    def _rotate(self, app: str) -> None:
        files = self._files(app)
        if self.backups == 0:
            files[0].unlink(missing_ok=True)
            return
        files[-1].unlink(missing_ok=True)
        for older, newer in zip(reversed(files[1:]), reversed(files[:-1]), strict=True):
            if newer.exists():
                newer.rename(older)

    def tail(self, app: str, lines: int) -> str:
        """The last ``lines`` lines, oldest first, with a final newline ("" when no log)."""
        files = [p for p in self._files(app) if p.exists()]
        if lines <= 0 or not files:
            return ""  # and no lock file is created for an app without logs
        collected: list[bytes] = []
        with self._locked(app, fcntl.LOCK_SH):
            for path in self._files(app):
                need = lines - len(collected)
                if need <= 0:
                    break
                collected = _tail_file(path, need) + collected
        return "".join(line.decode("utf-8", "replace") + "\n" for line in collected)

    def delete(self, app: str) -> None:
        with self._locked(app, fcntl.LOCK_EX):
            for path in self._files(app):
                path.unlink(missing_ok=True)
        (self.directory / f".{app}.lock").unlink(missing_ok=True)


def _tail_file(path: Path, count: int) -> list[bytes]:
    """The last ``count`` lines of one file, reading backwards in blocks."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        end = os.fstat(fd).st_size
        buf = b""
        pos = end
        # count + 1 newlines guarantee ``count`` complete lines after the first one.
        while pos > 0 and buf.count(b"\n") <= count:
            step = min(_BLOCK, pos)
            pos -= step
            buf = os.pread(fd, step, pos) + buf
    finally:
        os.close(fd)
    if buf.endswith(b"\n"):
        buf = buf[:-1]
    if not buf:
        return []
    return buf.split(b"\n")[-count:]
