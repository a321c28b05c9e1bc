"""Content negotiation for the answers that have more than one form (an app's log: plain text,
or a JSON string for clients that parse every body as JSON).

A client gets the JSON form only when it names ``application/json`` itself in ``Accept`` with a
quality above 0, and prefers it to ``text/plain``: a higher quality than the most specific range
matching ``text/plain`` (``text/plain``, ``text/*``, ``*/*``), or the same quality and listed
first (``application/json, */*``). No header, ``*/*`` or ``application/*`` keep the plain
answer that Go clients print as it is.
"""

from __future__ import annotations

import math

from starlette.requests import Request

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain"


def _ranges(accept: str) -> list[tuple[str, float]]:
    """``Accept`` as (media range, quality) in header order; a bad quality counts as 0."""
    found = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
                quality = min(max(quality, 0.0), 1.0) if math.isfinite(quality) else 0.0
        found.append((media.lower(), quality))
    return found


def prefers_json(accept: str | None) -> bool:
    """Whether ``accept`` (an ``Accept`` header) asks for ``application/json`` over
    ``text/plain`` (module docstring)."""
    ranges = _ranges(accept or "")
    json_at = next((i for i, (media, _) in enumerate(ranges) if media == JSON_TYPE), None)
    if json_at is None or ranges[json_at][1] <= 0:
        return False
    text_at: int | None = None
    for specific in (TEXT_TYPE, "text/*", "*/*"):
        text_at = next((i for i, (media, _) in enumerate(ranges) if media == specific), None)
        if text_at is not None:
            break
    if text_at is None:
        return True
    json_q, text_q = ranges[json_at][1], ranges[text_at][1]
    return json_q > text_q or (json_q == text_q and json_at < text_at)


def wants_json(request: Request) -> bool:
    return prefers_json(request.headers.get("accept"))
