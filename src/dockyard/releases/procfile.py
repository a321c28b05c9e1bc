"""Procfiles (pure): parse ``type: command`` lines and validate a procfile mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.core.errors import Invalid
from dockyard.releases.config_rules import PROCTYPE_MESSAGE, PROCTYPE_RE

EMPTY_COMMAND = "Command can't be empty for process type"


def parse_procfile(text: str) -> dict[str, str]:
    """Heroku's format: one ``type: command`` per line; blank lines and ``#`` comments skipped."""
    procfile: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        ptype, sep, command = line.partition(":")
        if not sep:
            raise Invalid(f"Procfile line {number} is not 'type: command'", field="procfile")
        procfile[ptype.strip()] = command.strip()
    return check_procfile(procfile)


def check_procfile(procfile: Any) -> dict[str, str]:
    if not isinstance(procfile, Mapping):
        raise Invalid("procfile must be an object of process type to command", field="procfile")
    out: dict[str, str] = {}
    for ptype, command in procfile.items():
        if not isinstance(ptype, str) or not PROCTYPE_RE.match(ptype) or len(ptype) > 63:
            raise Invalid(PROCTYPE_MESSAGE, field="procfile")
        if not isinstance(command, str):
            raise Invalid(f"The command for {ptype} must be a string", field="procfile")
        if not command.strip():
            raise Invalid(EMPTY_COMMAND, field="procfile")
        out[ptype] = command.strip()
    return out
