"""gitignore-style rules for ``dockyard deploy`` outside git (and ``buildpacks:add``): the
``.gitignore`` and ``.dockyardignore`` at the root of the directory, read in that order so
that ``.dockyardignore`` can re-include with ``!``.

Supported: blank lines and ``#`` comments, ``!`` negation (the last matching rule wins),
a trailing ``/`` for directories only, a leading or middle ``/`` anchoring to the root
(else the pattern matches a name at any depth), ``*``, ``?``, ``[...]`` (``[!...]`` and
``[^...]`` negated), ``**`` as a leading ``**/``, trailing ``/**`` or middle ``/**/``,
backslash escapes and trailing spaces dropped unless escaped. Nothing inside an excluded
directory can be re-included, as in git.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILES = (".gitignore", ".dockyardignore")


def _char_class(pattern: str, start: int) -> tuple[str, int] | None:
    """``[...]`` at ``start`` as a regex class and the index after it; ``None`` when the
    bracket is not closed (it is then a literal ``[``)."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    body: list[str] = []
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            inner = "".join(body)
            return (f"[^/{inner}]" if negate else f"[{inner}]"), i + 1
        if char == "\\" and i + 1 < len(pattern):
            i += 1
            char = pattern[i]
        body.append(char if char.isalnum() or char == "-" else "\\" + char)
        first = False
        i += 1
    return None


def _translate(pattern: str) -> str:
    """A gitignore glob as a regex over a ``/``-separated path: ``*`` and ``?`` never match
    ``/``; ``**`` as a whole segment matches any number of directories."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "*":
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            whole_segment = (i == 0 or pattern[i - 1] == "/") and (j == n or pattern[j] == "/")
            if j - i >= 2 and whole_segment:
                if j == n:
                    out.append(".*")  # trailing "**": everything inside
                else:
                    out.append("(?:.*/)?")  # "**/": zero or more directories
                    j += 1
            else:
                out.append("[^/]*")
            i = j
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and (found := _char_class(pattern, i)) is not None:
            out.append(found[0])
            i = found[1]
        elif char == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    """One line of an ignore file: ``regex`` matches the whole relative path when the rule
    is anchored, else the last path component."""

    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    anchored: bool

    @classmethod
    def parse(cls, line: str) -> Rule | None:
        line = line.rstrip("\r\n")
        while line.endswith((" ", "\t")) and not line.endswith(("\\ ", "\\\t")):
            line = line[:-1]
        if not line or line.startswith("#"):
            return None
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            return None
        anchored = "/" in line
        line = line.removeprefix("/")
        return cls(re.compile(_translate(line), re.DOTALL), negate, dir_only, anchored)

    def matches(self, relpath: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        target = relpath if self.anchored else relpath.rsplit("/", 1)[-1]
        return self.regex.fullmatch(target) is not None


@dataclass(frozen=True)
class IgnoreRules:
    """gitignore-style rules, the last matching rule deciding. Paths are relative to the
    root, ``/``-separated, without a leading or trailing ``/``."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> IgnoreRules:
        return cls(tuple(rule for line in lines if (rule := Rule.parse(line)) is not None))

    @classmethod
    def for_directory(cls, root: Path) -> IgnoreRules:
        """The rules of ``root``'s own ``.gitignore`` then ``.dockyardignore``."""
        lines: list[str] = []
        for name in IGNORE_FILES:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                lines += (root / name).read_text(encoding="utf-8", errors="replace").splitlines()
        return cls.from_lines(lines)

    def matches(self, relpath: str, is_dir: bool) -> bool:
        """Whether the rules exclude this path itself (its parents are not looked at)."""
        ignored = False
        for rule in self.rules:
            if rule.negate == ignored and rule.matches(relpath, is_dir):
                ignored = not rule.negate
        return ignored

    def ignored(self, relpath: str, is_dir: bool) -> bool:
        """Whether the path is left out: excluded itself, or inside an excluded directory
        (which, as in git, no ``!`` rule can re-include from)."""
        parts = relpath.strip("/").split("/")
        for depth in range(1, len(parts)):
            if self.matches("/".join(parts[:depth]), True):
                return True
        return self.matches("/".join(parts), is_dir)
