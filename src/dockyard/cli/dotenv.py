"""``.env`` files for ``config:pull`` and ``config:push``: parsing (``KEY=value`` lines,
``export KEY=value``, single- or double-quoted values, ``#`` comments and blank lines) and
writing that keeps the file's comments and order, changing only the lines whose value
changed and appending new keys sorted.

Double-quoted values understand ``\\n``, ``\\t``, ``\\r``, ``\\"`` and ``\\\\``; single-quoted
values are literal; an unquoted value ends at a `` #`` comment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")
_SAFE_RE = re.compile(r"^[A-Za-z0-9_./:@%+,=-]*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


class DotenvError(ValueError):
    """A line that is not ``KEY=value``, or an unterminated quote."""


@dataclass(frozen=True)
class _Line:
    text: str
    key: str | None = None
    value: str | None = None


def _double_quoted(rest: str, lineno: int) -> tuple[str, str]:
    """The value of ``"..."`` at the start of ``rest``, and what follows it."""
    out: list[str] = []
    i = 1
    while i < len(rest):
        char = rest[i]
        if char == "\\" and i + 1 < len(rest):
            nxt = rest[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if char == '"':
            return "".join(out), rest[i + 1 :]
        out.append(char)
        i += 1
    raise DotenvError(f"line {lineno}: the double quote is not closed")


def _value(raw: str, lineno: int) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        value, tail = _double_quoted(raw, lineno)
    elif raw.startswith("'"):
        end = raw.find("'", 1)
        if end < 0:
            raise DotenvError(f"line {lineno}: the single quote is not closed")
        value, tail = raw[1:end], raw[end + 1 :]
    else:
        return re.split(r"\s+#", raw, maxsplit=1)[0].rstrip()
    tail = tail.strip()
    if tail and not tail.startswith("#"):
        raise DotenvError(f"line {lineno}: unexpected text after the closing quote: {tail}")
    return value


def _lines(text: str) -> list[_Line]:
    lines = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            lines.append(_Line(line))
            continue
        match = _ASSIGN_RE.match(line)
        if match is None:
            raise DotenvError(f"line {lineno}: expected KEY=value, got {stripped!r}")
        lines.append(_Line(line, match.group(1), _value(match.group(2), lineno)))
    return lines


def parse(text: str) -> dict[str, str]:
    """The variables of a ``.env`` text, in file order (a repeated key: the last wins)."""
    return {ln.key: ln.value for ln in _lines(text) if ln.key is not None and ln.value is not None}


def quote(value: str) -> str:
    """``value`` as it is written in a ``.env`` file: bare when that is safe."""
    if value and _SAFE_RE.match(value):
        return value
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def render(values: dict[str, str]) -> str:
    return "".join(f"{k}={quote(v)}\n" for k, v in sorted(values.items()))


def update(text: str, values: dict[str, str]) -> str:
    """``text`` with ``values`` applied: changed keys rewritten in place (keeping an
    ``export`` prefix), new keys appended sorted, comments and other lines untouched."""
    out: list[str] = []
    done: set[str] = set()
    for line in _lines(text):
        if line.key is None or line.key not in values:
            out.append(line.text)
            continue
        new = values[line.key]
        if line.key in done:
            continue  # a repeated key: keep one line for it
        done.add(line.key)
        if new == line.value:
            out.append(line.text)
        else:
            prefix = "export " if re.match(r"^\s*export\s", line.text) else ""
            out.append(f"{prefix}{line.key}={quote(new)}")
    body = "\n".join(out)
    if body and not body.endswith("\n"):
        body += "\n"
    added = {k: v for k, v in values.items() if k not in done}
    return body + render(added)


def read(path: Path) -> dict[str, str]:
    return parse(path.read_text(encoding="utf-8"))


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path``; a new file is private (0600): it holds secrets."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
