"""Pure rules for app settings and the whitelist: parse addresses, validate autoscale and
labels, and compute the new settings from the old ones and a change. No database here.

Whitelist entries are IP addresses or CIDR networks, stored normalised (``ipaddress``'s
canonical text; a network with host bits set is reduced to its network address), so that
adding and removing compare the same strings. ``null`` for an autoscale process type or a
label key removes it; removing one that is absent is 422, like unsetting a config key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dockyard.core.errors import Invalid, Unprocessable
from dockyard.releases.config_rules import PROCTYPE_MESSAGE, PROCTYPE_RE

MAX_ADDRESSES = 1000
MAX_LABELS = 64
MAX_LABEL_VALUE = 1024
LABEL_KEY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_./-]{0,251}[A-Za-z0-9])?\Z")
LABEL_KEY_MESSAGE = (
    "Label keys must start and end with a letter or digit and contain only letters, digits, "
    "'-', '_', '.' and '/' (at most 253 characters)"
)
AUTOSCALE_KEYS = ("min", "max", "cpu_percent")


@dataclass(frozen=True)
class SettingsState:
    maintenance: bool = False
    routable: bool = True
    whitelist: tuple[str, ...] = ()
    autoscale: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    label: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SettingsChange:
    """What a ``POST settings`` asks for; ``None`` leaves a field as it is."""

    maintenance: bool | None = None
    routable: bool | None = None
    whitelist: Any = None
    autoscale: Any = None
    label: Any = None


# --- whitelist ----------------------------------------------------------------------------


def parse_address(value: Any, *, field: str) -> str:
    """The canonical text of an IP address or CIDR network, or ``Invalid``."""
    text = value.strip() if isinstance(value, str) else None
    if text:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            pass
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            pass
    raise Invalid(f"The address {value} is not valid", field=field)


def parse_addresses(values: Any, *, field: str) -> tuple[str, ...]:
    """Distinct canonical addresses, in the order given."""
    if not isinstance(values, list):
        raise Invalid("Expected a list of IP addresses or CIDR networks.", field=field)
    if len(values) > MAX_ADDRESSES:
        raise Invalid(f"At most {MAX_ADDRESSES} addresses are allowed.", field=field)
    return tuple(dict.fromkeys(parse_address(v, field=field) for v in values))


def add_addresses(current: Iterable[str], new: Iterable[str]) -> tuple[str, ...]:
    merged = tuple(dict.fromkeys([*current, *new]))
    if len(merged) > MAX_ADDRESSES:
        raise Invalid(f"At most {MAX_ADDRESSES} addresses are allowed.", field="addresses")
    return merged


def remove_addresses(current: Iterable[str], gone: Iterable[str]) -> tuple[str, ...]:
    """``current`` without ``gone``; 422 naming any address that is not there."""
    have = tuple(current)
    missing = [a for a in gone if a not in have]
    if missing:
        raise Unprocessable(f"{', '.join(missing)} does not exist in the whitelist")
    drop = set(gone)
    return tuple(a for a in have if a not in drop)


# --- autoscale and labels -----------------------------------------------------------------


def _int_at_least(value: Any, low: int, high: int | None = None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= low and (high is None or value <= high)


def check_autoscale_rule(proc: str, rule: Any) -> dict[str, int]:
    """One process type's ``{"min", "max", "cpu_percent"}``."""
    if not isinstance(rule, Mapping):
        raise Invalid(
            f"{proc}: expected an object with min, max and cpu_percent", field="autoscale"
        )
    unknown = sorted(set(rule) - set(AUTOSCALE_KEYS))
    if unknown:
        raise Invalid(f"{proc}: unknown key {', '.join(unknown)}", field="autoscale")
    absent = [k for k in AUTOSCALE_KEYS if k not in rule]
    if absent:
        raise Invalid(f"{proc}: min, max and cpu_percent are required", field="autoscale")
    for key in ("min", "max"):
        if not _int_at_least(rule[key], 1):
            raise Invalid(f"{proc}: {key} must be an integer of at least 1", field="autoscale")
    if not _int_at_least(rule["cpu_percent"], 1, 100):
        raise Invalid(
            f"{proc}: cpu_percent must be an integer between 1 and 100", field="autoscale"
        )
    if rule["min"] > rule["max"]:
        raise Invalid(f"{proc}: min cannot be larger than max", field="autoscale")
    return {k: int(rule[k]) for k in AUTOSCALE_KEYS}


def check_autoscale(changes: Any) -> dict[str, dict[str, int] | None]:
    if not isinstance(changes, Mapping):
        raise Invalid("Expected an object of process types.", field="autoscale")
    out: dict[str, dict[str, int] | None] = {}
    for proc, rule in changes.items():
        if not PROCTYPE_RE.match(proc):
            raise Invalid(PROCTYPE_MESSAGE, field="autoscale")
        out[proc] = None if rule is None else check_autoscale_rule(proc, rule)
    return out


def check_label(changes: Any) -> dict[str, Any]:
    if not isinstance(changes, Mapping):
        raise Invalid("Expected an object of label keys and values.", field="label")
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if not LABEL_KEY_RE.match(key):
            raise Invalid(LABEL_KEY_MESSAGE, field="label")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise Invalid(
                f"{key}: a label value must be a string, number or boolean", field="label"
            )
        if isinstance(value, str) and len(value) > MAX_LABEL_VALUE:
            raise Invalid(
                f"{key}: value is longer than {MAX_LABEL_VALUE} characters", field="label"
            )
        out[key] = value
    return out


def merge_nullable(name: str, old: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` with ``changes`` applied; a ``None`` value removes its key (422 if absent)."""
    new = dict(old)
    for key, value in changes.items():
        if value is None:
            if key not in new:
                raise Unprocessable(f"{key} does not exist under {name}")
            del new[key]
        else:
            new[key] = value
    return new


def apply_settings(current: SettingsState, change: SettingsChange) -> SettingsState:
    """The settings after ``change``; the caller compares with ``current`` for a no-op."""
    new = current
    if change.maintenance is not None:
        new = replace(new, maintenance=change.maintenance)
    if change.routable is not None:
        new = replace(new, routable=change.routable)
    if change.whitelist is not None:
        new = replace(new, whitelist=parse_addresses(change.whitelist, field="whitelist"))
    if change.autoscale is not None:
        rules = check_autoscale(change.autoscale)
        new = replace(new, autoscale=merge_nullable("autoscale", new.autoscale, rules))
    if change.label is not None:
        labels = merge_nullable("label", new.label, check_label(change.label))
        if len(labels) > MAX_LABELS:
            raise Invalid(f"At most {MAX_LABELS} labels are allowed.", field="label")
        new = replace(new, label=labels)
    return new
