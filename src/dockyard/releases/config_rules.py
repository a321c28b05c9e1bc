"""Pure rules for config changes: validation of each field and the merge into the previous
config (``null`` unsets a key). No database here; unit-tested directly.

The fields are ``values`` (env vars), ``memory`` and ``cpu`` (per process type), ``tags``,
``registry`` and ``healthcheck`` (per process type, Kubernetes probes).

Healthcheck follows the Deis controller, whose clients depend on it: besides process types it
takes the key ``web/cmd`` (the web process, or ``cmd`` for an image's default command); a flat
``{"livenessProbe": ..., "readinessProbe": ...}`` means ``{"web/cmd": {...}}``; it merges per
probe kind, so ``{"web/cmd": {"readinessProbe": null}}`` removes one kind and keeps the other;
and the legacy ``HEALTHCHECK_URL`` (with ``HEALTHCHECK_TIMEOUT`` and the like) posted in
``values`` becomes both probes under ``web/cmd`` instead of env vars.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dockyard.core.errors import Invalid, Unprocessable
from dockyard.scheduler.parse import (
    CPU_MESSAGE,
    MEMORY_MESSAGE,
    PROBE_KINDS,
    WEB_CMD,
    parse_cpu,
    parse_healthcheck,
    parse_memory,
    web_port,
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

LEGACY_URL = "HEALTHCHECK_URL"
# Each legacy value, the probe field it becomes, and its least allowed value.
LEGACY_TIMINGS = {
    "HEALTHCHECK_TIMEOUT": ("timeoutSeconds", 1),
    "HEALTHCHECK_INITIAL_DELAY": ("initialDelaySeconds", 0),
    "HEALTHCHECK_PERIOD_SECONDS": ("periodSeconds", 1),
    "HEALTHCHECK_SUCCESS_THRESHOLD": ("successThreshold", 1),
    "HEALTHCHECK_FAILURE_THRESHOLD": ("failureThreshold", 1),
}


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
    if any(kind in changes for kind in PROBE_KINDS):
        # The Deis controller's first shape: probe kinds at the top level, for web/cmd.
        changes = {WEB_CMD: dict(changes)}
    for ptype in changes:
        if ptype != WEB_CMD and not PROCTYPE_RE.match(ptype):
            raise Invalid(PROCTYPE_MESSAGE, field="healthcheck")
    parse_healthcheck({k: v for k, v in changes.items() if v is not None})
    return {k: None if v is None else dict(v) for k, v in changes.items()}


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


def _merge_healthcheck(previous: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = {key: dict(probes) for key, probes in previous.items()}
    for key, probes in changes.items():
        if probes is None:
            if key not in merged:
                raise Unprocessable(f"{key} does not exist under healthcheck")
            del merged[key]
            continue
        entry = merged.get(key, {})
        for kind, probe in probes.items():
            if probe is not None:
                entry[kind] = probe
            elif kind in entry:
                del entry[kind]
            else:
                raise Unprocessable(f"{key} {kind} does not exist under healthcheck")
        if entry:
            merged[key] = entry
        else:
            merged.pop(key, None)
    return merged


def merge(field: str, previous: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Apply validated changes: a value sets, ``None`` unsets (422 if the key is absent).
    Healthcheck merges per probe kind, and a key left with no kind goes."""
    if field == "healthcheck":
        return _merge_healthcheck(previous, changes)
    merged = dict(previous)
    for key, value in changes.items():
        if value is None:
            if key not in merged:
                raise Unprocessable(f"{key} does not exist under {field}")
            del merged[key]
        else:
            merged[key] = value
    return merged


def _legacy_number(key: str, text: str, minimum: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or int(text) < minimum:
        raise Invalid(f"{key} must be an integer of at least {minimum}", field="values")
    return int(text)


def legacy_healthcheck(
    values: Mapping[str, str | None], previous: Mapping[str, str]
) -> tuple[dict[str, str | None], dict[str, Any]]:
    """Split validated ``values`` changes into the rest and a healthcheck change.

    When ``HEALTHCHECK_URL`` is set, it and the other ``HEALTHCHECK_*`` timing values (posted,
    else already stored, as the Deis controller read them from the merged config) become an
    ``httpGet`` liveness and readiness probe under ``web/cmd`` on the config's ``PORT``
    (else 5000), and are not kept as env vars: stored ones are unset. Without it they are
    ordinary values. Timings not given are left to the probe defaults; the liveness probe
    never takes ``successThreshold`` (it can only be 1).
    """
    url = values.get(LEGACY_URL)
    if url is None:
        return dict(values), {}
    if not url.startswith("/"):
        raise Invalid(f"{LEGACY_URL} must be a path starting with /", field="values")
    rest = {k: v for k, v in values.items() if k != LEGACY_URL}
    if LEGACY_URL in previous:
        rest[LEGACY_URL] = None
    timings: dict[str, int] = {}
    for key, (name, minimum) in LEGACY_TIMINGS.items():
        if key in values:
            text = values[key]
            if text is None:  # an ordinary unset of a stored value
                continue
            del rest[key]
        elif key in previous:
            text = previous[key]
            rest[key] = None
        else:
            continue
        timings[name] = _legacy_number(key, text, minimum)
    # The local backend probes a web pod on its own PORT whatever this says.
    port = web_port({**previous, **values})
    readiness = {"httpGet": {"path": url, "port": port}, **timings}
    liveness = {k: v for k, v in readiness.items() if k != "successThreshold"}
    return rest, {WEB_CMD: {"livenessProbe": liveness, "readinessProbe": readiness}}


def apply_changes(
    old: Mapping[str, Mapping[str, Any]], changes: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The new config fields: ``old`` with validated ``changes`` (``{field: {key: value}}``)
    merged in, after the legacy ``HEALTHCHECK_*`` values became probes (a healthcheck
    posted in the same request is merged after them, so it wins)."""
    new = {field: dict(value) for field, value in old.items()}
    changes = dict(changes)
    if "values" in changes:
        changes["values"], legacy = legacy_healthcheck(changes["values"], old.get("values", {}))
        if legacy:
            new["healthcheck"] = merge("healthcheck", new.get("healthcheck", {}), legacy)
    for field, field_changes in changes.items():
        new[field] = merge(field, new.get(field, {}), field_changes)
    return new
