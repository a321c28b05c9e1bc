"""Errors of the client: ``ClientError`` for a failed request (the server's own message,
made readable), ``ProfileError`` for a missing or unusable local profile."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI loads httpx only when it sends a request
    import httpx


class ClientError(Exception):
    """A request failed. ``status`` is the HTTP status, or 0 when no answer came back."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_response(cls, response: httpx.Response) -> ClientError:
        return cls(response.status_code, error_message(response))


class ProfileError(Exception):
    """The local profile is missing, unreadable, or lacks what the command needs."""


def _flatten(value: Any) -> list[str]:
    """DRF error values are strings, lists of strings, or nested field dicts."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _flatten(item)]
    if isinstance(value, dict):
        return [line for line in _field_lines(value)]
    return [str(value)]


def _field_lines(body: dict[str, Any]) -> list[str]:
    lines = []
    for field, value in body.items():
        texts = _flatten(value)
        if not texts:
            continue
        joined = " ".join(texts)
        if field in ("detail", "non_field_errors"):
            lines.append(joined)
        else:
            lines.append(f"{field}: {joined}")
    return lines


def error_message(response: httpx.Response) -> str:
    """The server's message: ``detail``, or the field errors one per line."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict):
        lines = _field_lines(body)
        if lines:
            return "\n".join(lines)
    elif isinstance(body, list | str) and body:
        return "\n".join(_flatten(body))
    text = response.text.strip()
    if text and len(text) < 500 and not text.lstrip().startswith("<"):
        return text
    return f"{response.status_code} {response.reason_phrase}".strip()
