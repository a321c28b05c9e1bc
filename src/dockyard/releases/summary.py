"""Release summaries: a sentence saying what changed (pure).

Parts are joined with `` and ``: ``alice added FOO, changed BAR and changed limits for
memory`` — the reference concatenated some parts with no separator; that was a bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LIMIT_FIELDS = ("memory", "cpu")


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    added = sorted(k for k in new if k not in old)
    changed = sorted(k for k in new if k in old and old[k] != new[k])
    deleted = sorted(k for k in old if k not in new)
    return added, changed, deleted


def _values_part(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    added, changed, deleted = _diff(old, new)
    bits = []
    if added:
        bits.append("added " + ", ".join(added))
    if changed:
        bits.append("changed " + ", ".join(changed))
    if deleted:
        bits.append("deleted " + ", ".join(deleted))
    return ", ".join(bits)


def _keyed_part(noun: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    added, changed, deleted = _diff(old, new)
    bits = []
    for verb, keys in (("added", added), ("changed", changed), ("deleted", deleted)):
        if keys:
            bits.append(f"{verb} {noun} {', '.join(keys)}")
    return ", ".join(bits)


def config_summary(
    actor: str, old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> str:
    """What changed between two configs, each given as ``{field: mapping}``."""
    parts: list[str] = []
    values = _values_part(old.get("values", {}), new.get("values", {}))
    if values:
        parts.append(values)
    limits = [f for f in LIMIT_FIELDS if old.get(f, {}) != new.get(f, {})]
    if limits:
        parts.append("changed limits for " + ", ".join(limits))
    tags = _keyed_part("tag", old.get("tags", {}), new.get("tags", {}))
    if tags:
        parts.append(tags)
    if old.get("registry", {}) != new.get("registry", {}):
        parts.append("changed registry info")
    hc_old, hc_new = old.get("healthcheck", {}), new.get("healthcheck", {})
    if hc_old != hc_new:
        added, changed, deleted = _diff(hc_old, hc_new)
        for verb, types in (("added", added), ("changed", changed), ("deleted", deleted)):
            for ptype in types:
                parts.append(f"{verb} healthcheck info for proc type {ptype}")
    if not parts:
        return f"{actor} changed nothing"
    return f"{actor} " + " and ".join(parts)


def build_summary(actor: str, *, sha: str | None, image: str) -> str:
    if sha:
        return f"{actor} deployed {sha[:7]}"
    return f"{actor} deployed {image}"
