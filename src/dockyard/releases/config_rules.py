"""Pure rules for config changes: validation of each field and the merge into the previous
config (``null`` unsets a key). No database here; unit-tested directly.

The fields are ``values`` (env vars), ``memory`` and ``cpu`` (per process type), ``tags``,
``registry`` and ``healthcheck`` (per process type, Kubernetes probes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dockyard.core.errors import Invalid, Unprocessable
from dockyard.scheduler.parse import (
    CPU_MESSAGE,
    MEMORY_MESSAGE,
    parse_cpu,
    parse_healthcheck,
    parse_memory,
)

FIELDS = ("values", "memory", "cpu", "tags", "registry", "healthcheck")

CONFIG_KEY_RE = re.compile(r"^[a-z_]+[a-z0-9_]*$", re.IGNORECASE)
CONFIG_KEY_MESSAGE = "Config keys must start with a letter or underscore and only contain [A-z0-9_]"
PROCTYPE_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PROCTYPE_MESSAGE = (
    "Process types can only contain lowercase alphanumeric characters and single hyphens "
    "between them"
)
MAX_VALUE = 64 * 1024


def _as_text(value: Any, field: str, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        text = str(value)
        if len(text) > MAX_VALUE:
            raise Invalid(f"{key}: value is longer than {MAX_VALUE} characters", field=field)
        return text
    raise Invalid(f"{key}: value must be a string or a number", field=field)


def _is_port(text: str) -> bool:
    # ASCII digits only, and few enough for int(): "²" is a digit int() refuses.
    return text.isascii() and text.isdigit() and len(text) <= 5 and 1 <= int(text) <= 65535


def _check_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if not CONFIG_KEY_RE.match(key):
            raise Invalid(CONFIG_KEY_MESSAGE, field="values")
        if value is None:
            out[key] = None
            continue
        text = _as_text(value, "values", key)
        if key == "PORT" and not _is_port(text):
            raise Invalid("PORT needs to be a numeric value between 1 and 65535", field="values")
        out[key] = text
    return out


def _check_limits(field: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ptype, value in changes.items():
        if not PROCTYPE_RE.match(ptype):
            raise Invalid(PROCTYPE_MESSAGE, field=field)
        if value is None:
            out[ptype] = None
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Invalid(MEMORY_MESSAGE if field == "memory" else CPU_MESSAGE, field=field)
        text = str(value).strip()
        (parse_memory if field == "memory" else parse_cpu)(text)
        out[ptype] = text
    return out


def _check_tags(field: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if not key or len(key) > 253 or not re.match(r"^[A-Za-z0-9][-A-Za-z0-9_./]*$", key):
            raise Invalid(f"{key!r} is not a valid {field} key", field=field)
        out[key] = None if value is None else _as_text(value, field, key)
    return out


def _check_healthcheck(changes: Mapping[str, Any]) -> dict[str, Any]:
    for ptype in changes:
        if not PROCTYPE_RE.match(ptype):
            raise Invalid(PROCTYPE_MESSAGE, field="healthcheck")
    parse_healthcheck({k: v for k, v in changes.items() if v is not None})
    return dict(changes)


def validate(field: str, changes: Any) -> dict[str, Any]:
    """The validated, normalised changes for one field (``None`` values mean unset)."""
    if not isinstance(changes, Mapping):
        raise Invalid(f"{field} must be an object", field=field)
    for key in changes:
        if not isinstance(key, str):
            raise Invalid(f"{field} keys must be strings", field=field)
    if field == "values":
        return _check_values(changes)
    if field in ("memory", "cpu"):
        return _check_limits(field, changes)
    if field in ("tags", "registry"):
        return _check_tags(field, changes)
    if field == "healthcheck":
        return _check_healthcheck(changes)
    raise Invalid(f"Unknown config field {field}")


def merge(field: str, previous: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Apply validated changes: a value sets, ``None`` unsets (422 if the key is absent)."""
    merged = dict(previous)
    for key, value in changes.items():
        if value is None:
            if key not in merged:
                raise Unprocessable(f"{key} does not exist under {field}")
            del merged[key]
        else:
            merged[key] = value
    return merged
