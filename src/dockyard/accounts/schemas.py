"""Request bodies (pydantic) and response shapes for users, auth and keys."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dockyard.accounts.models import Key, User
from dockyard.core.timefmt import iso, iso_or_none


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class RegisterIn(Body):
    username: str = Field(max_length=150)
    password: str = Field(max_length=4096)
    email: str = Field(default="", max_length=254)
    first_name: str = Field(default="", max_length=150)
    last_name: str = Field(default="", max_length=150)


class LoginIn(Body):
    username: str = Field(max_length=150)
    password: str = Field(max_length=4096)


class PasswdIn(Body):
    password: str | None = Field(default=None, max_length=4096)
    new_password: str | None = Field(default=None, max_length=4096)
    username: str | None = Field(default=None, max_length=150)


class CancelIn(Body):
    username: str | None = Field(default=None, max_length=150)


class TokensIn(Body):
    username: str | None = Field(default=None, max_length=150)
    all: bool = False


class UsernameIn(Body):
    username: str = Field(max_length=150)


class KeyIn(Body):
    id: str = Field(max_length=128)
    public: str = Field(max_length=16384)


class TokenOut(BaseModel):
    token: str


class UserOut(BaseModel):
    id: int
    last_login: str | None
    is_superuser: bool
    username: str
    first_name: str
    last_name: str
    email: str
    is_staff: bool
    is_active: bool
    date_joined: str
    groups: list[Any]
    user_permissions: list[Any]


class KeyOut(BaseModel):
    uuid: str
    id: str
    owner: str
    public: str
    fingerprint: str
    fingerprint_sha256: str
    created: str
    updated: str


class AdminOut(BaseModel):
    username: str
    is_superuser: bool


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "last_login": iso_or_none(user.last_login),
        "is_superuser": user.is_superuser,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "date_joined": iso(user.date_joined),
        "groups": [],
        "user_permissions": [],
    }


def key_out(key: Key, owner: str) -> dict[str, Any]:
    return {
        "uuid": key.uuid,
        "id": key.id,
        "owner": owner,
        "public": key.public,
        "fingerprint": key.fingerprint,
        "fingerprint_sha256": key.fingerprint_sha256,
        "created": iso(key.created),
        "updated": iso(key.updated),
    }
