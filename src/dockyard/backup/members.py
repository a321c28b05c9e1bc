"""What a backup archive holds, and the rules a restore judges each entry by (pure).

::

    manifest.json              format, Dockyard version, database kind, the source data dir
    database.sqlite            SQLite's online backup of the database, or
    database.sql               pg_dump's plain SQL of a PostgreSQL database
    data/builder.key           the git endpoints' shared secret
    data/ssh_host_ed25519_key  the SSH endpoint's host key (clients pinned it)
    data/builds/...            slugs: what each kept release runs
    data/repos/...             the apps' bare git repositories
    data/buildpacks/...        buildpacks installed by administrators

Left out, as a restored server makes them again: the node agent's state, pods, logs and
routes (``local/``), build caches (``cache/``), builds in progress (``tmp/``), the built-in
buildpacks' copy (``buildpacks/.builtin``) and the SSH endpoint's port file.

An archive is untrusted input: only these names, only regular files and directories, and
symbolic links only inside a slug (a virtualenv links its interpreter by absolute path)
and never climbing out of it by ``..``. No entry may pass through a link or replace an
earlier entry, so extraction, which also opens every path without following links, writes
nothing outside the data dir.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field

FORMAT = 1
MANIFEST = "manifest.json"
DATABASES = {"sqlite": "database.sqlite", "postgresql": "database.sql"}
DATA = "data"
DATA_FILES = frozenset({"builder.key", "ssh_host_ed25519_key"})
DATA_TREES = frozenset({"builds", "repos", "buildpacks"})
# Under these the archive does not go (a backup skips them; a restore refuses them).
SKIPPED = frozenset({("buildpacks", ".builtin")})
SLUGS = "builds"
MAX_ENTRIES = 2_000_000
MAX_MANIFEST = 64 * 1024

FILE, DIR, SYMLINK = "file", "dir", "symlink"


class BadArchive(Exception):
    """Why an archive is refused: a message for a person, naming the entry."""


def data_entry(relative: tuple[str, ...]) -> bool:
    """Whether the data dir's entry at ``relative`` (path parts) belongs in a backup."""
    if not relative:
        return True
    top = relative[0]
    if len(relative) == 1 and top in DATA_FILES:
        return True
    if top not in DATA_TREES:
        return False
    return not any(relative[: len(skip)] == skip for skip in SKIPPED)


def _parts(name: str) -> tuple[str, ...]:
    if "\x00" in name:
        raise BadArchive(f"Entry {name!r} has a NUL byte in its name.")
    if name.startswith("/"):
        raise BadArchive(f"Entry {name!r} has an absolute path.")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise BadArchive(f"Entry {name!r} has a '..' component.")
    if not parts:
        raise BadArchive(f"Entry {name!r} has an empty name.")
    return parts


def _kind(member: tarfile.TarInfo) -> str:
    if member.isreg() and not member.issparse():
        return FILE
    if member.isdir():
        return DIR
    if member.issym():
        return SYMLINK
    what = "a hard link" if member.islnk() else "a device, FIFO or other special file"
    raise BadArchive(f"Entry {member.name!r} is {what}, which a backup never holds.")


def _check_link(name: str, parts: tuple[str, ...], target: str) -> None:
    # data/builds/<app>/<build>/...: a link may only be inside a slug.
    if len(parts) < 5 or parts[1] != SLUGS:
        raise BadArchive(f"Entry {name!r} is a symbolic link outside a slug.")
    if "\x00" in target or not target:
        raise BadArchive(f"Entry {name!r} is a symbolic link with an invalid target.")
    if target.startswith("/"):
        return  # never followed by a restore; the app sees what it linked to
    ups = 0
    pieces = [p for p in target.split("/") if p not in ("", ".")]
    while ups < len(pieces) and pieces[ups] == "..":
        ups += 1
    depth = len(parts) - 5  # directories between the slug's root and the link
    if ".." in pieces[ups:] or ups > depth:
        raise BadArchive(f"Entry {name!r} is a symbolic link climbing out of its slug.")


@dataclass
class Tree:
    """The entries admitted so far, each judged against those before it."""

    kinds: dict[tuple[str, ...], str] = field(default_factory=dict)
    database: str | None = None
    has_manifest: bool = False
    entries: int = 0
    data_files: int = 0

    def admit(self, member: tarfile.TarInfo) -> tuple[tuple[str, ...], str]:
        """The entry's path parts and kind, or ``BadArchive``."""
        name = member.name
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise BadArchive(f"The archive has more than {MAX_ENTRIES:,} entries.")
        parts, kind = _parts(name), _kind(member)
        if self.entries == 1:
            if parts != (MANIFEST,) or kind != FILE:
                raise BadArchive(f"The archive does not start with {MANIFEST}: not a backup.")
            if member.size > MAX_MANIFEST:
                raise BadArchive(f"{MANIFEST} is too large.")
            self.has_manifest = True
        elif len(parts) == 1 and parts[0] in DATABASES.values():
            if kind != FILE or self.database is not None:
                raise BadArchive(f"Entry {name!r} is not the one database file of a backup.")
            self.database = parts[0]
        elif parts[0] == DATA and data_entry(parts[1:]):
            self._place(name, parts, kind)
            if kind == SYMLINK:
                _check_link(name, parts, member.linkname)
            if kind != DIR:
                self.data_files += 1
        else:
            raise BadArchive(f"Entry {name!r} is not part of a Dockyard backup.")
        return parts, kind

    def _place(self, name: str, parts: tuple[str, ...], kind: str) -> None:
        for i in range(1, len(parts)):
            above = self.kinds.setdefault(parts[:i], DIR)
            if above != DIR:
                raise BadArchive(f"Entry {name!r} is inside {'/'.join(parts[:i])!r}, not a dir.")
        if parts in self.kinds and not (kind == DIR and self.kinds[parts] == DIR):
            raise BadArchive(f"Entry {name!r} appears twice.")
        self.kinds[parts] = kind

    def finish(self) -> str:
        """The database entry's name, once every entry was admitted."""
        if not self.has_manifest:
            raise BadArchive("The archive is empty: not a backup.")
        if self.database is None:
            raise BadArchive("The archive holds no database.")
        return self.database
