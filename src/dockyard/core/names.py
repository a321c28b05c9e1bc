"""Name and format rules (pure functions): app ids, usernames, key ids.

Each ``check_*`` returns the normalised value or raises ``Invalid`` with the message the
reference controllers use, so the rules can be unit-tested without a server.
"""

from __future__ import annotations

import re

from dockyard.core.errors import Invalid

APP_ID_RE = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?\Z")
APP_ID_MAX = 63
APP_ID_MESSAGE = (
    "App name must start with an alphabetic character, cannot end with a hyphen and can "
    "only contain a-z (lowercase), 0-9 and hyphens."
)

USERNAME_RE = re.compile(r"^[\w.@+-]+\Z", re.ASCII)
USERNAME_MAX = 150
# Word for word what the v2 Go SDK matches to report ErrInvalidUsername.
USERNAME_MESSAGE = (
    "Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ characters."
)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

KEY_ID_RE = re.compile(r"^[\w.@+:-]+\Z", re.ASCII)
KEY_ID_MAX = 128


def check_app_id(value: str, *, reserved: frozenset[str] = frozenset()) -> str:
    if len(value) > APP_ID_MAX or not APP_ID_RE.match(value):
        raise Invalid(APP_ID_MESSAGE, field="id")
    if value in reserved:
        raise Invalid(f"{value} is a reserved name.", field="id")
    return value


def check_username(value: str) -> str:
    if not value:
        raise Invalid("This field may not be blank.", field="username")
    if len(value) > USERNAME_MAX:
        raise Invalid(
            f"Ensure this field has no more than {USERNAME_MAX} characters.", field="username"
        )
    if not USERNAME_RE.match(value):
        raise Invalid(USERNAME_MESSAGE, field="username")
    return value


def check_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise Invalid("Enter a valid email address.", field="email")
    return value


def check_key_id(value: str) -> str:
    if not value:
        raise Invalid("This field may not be blank.", field="id")
    if len(value) > KEY_ID_MAX or not KEY_ID_RE.match(value):
        raise Invalid(
            "Key id may only contain letters, numbers and @/./+/-/_/: characters "
            f"(at most {KEY_ID_MAX}).",
            field="id",
        )
    return value
