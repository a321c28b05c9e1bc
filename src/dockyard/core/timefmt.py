"""Timestamps: stored as naive UTC, shown as ``2014-01-01T00:00:00Z`` (never null)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now, with microseconds, as both databases store it."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat is several times faster than strftime, and lists format many timestamps.
    return value.replace(microsecond=0).isoformat() + "Z"


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)
