"""The pure name rules: app ids, usernames, emails and key ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dockyard.core.errors import Invalid
from dockyard.core.names import (
    APP_ID_MAX,
    check_app_id,
    check_email,
    check_key_id,
    check_username,
)

APP_ID_MESSAGE = (
    "App name must start with an alphabetic character, cannot end with a hyphen and can "
    "only contain a-z (lowercase), 0-9 and hyphens."
)
USERNAME_MESSAGE = (
    "Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ characters."
)
RESERVED = frozenset({"admin", "dockyard", "reserved-app"})


def error_of(fn: Callable[..., str], value: str, **kwargs: Any) -> Invalid:
    with pytest.raises(Invalid) as info:
        fn(value, **kwargs)
    assert info.value.status == 400
    return info.value


# --- app ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["a", "z9", "my-app", "a-b-c-1", "abc123", "hungry-drumroll", "a--b", "a" * 63]
)
def test_valid_app_ids(name: str) -> None:
    assert check_app_id(name) == name
    assert check_app_id(name, reserved=RESERVED) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1app",
        "-app",
        "app-",
        "My-App",
        "APP",
        "my_app",
        "my.app",
        "my app",
        "ápp",
        "app\n",
        "\napp",
        " app",
        "app ",
        "a" * 64,
        "a" + "-b" * 40,
    ],
)
def test_invalid_app_ids(name: str) -> None:
    err = error_of(check_app_id, name)
    assert err.field == "id"
    assert err.message == APP_ID_MESSAGE
    assert err.body() == {"id": [APP_ID_MESSAGE]}


def test_app_id_length_limit() -> None:
    assert APP_ID_MAX == 63
    assert check_app_id("a" + "b" * 61 + "c") == "a" + "b" * 61 + "c"
    error_of(check_app_id, "a" + "b" * 62 + "c")


@pytest.mark.parametrize("name", sorted(RESERVED))
def test_reserved_app_ids(name: str) -> None:
    err = error_of(check_app_id, name, reserved=RESERVED)
    assert err.field == "id"
    assert err.body() == {"id": [f"{name} is a reserved name."]}
    # Not reserved without the setting.
    assert check_app_id(name) == name


def test_reserved_check_is_exact() -> None:
    assert check_app_id("admin2", reserved=RESERVED) == "admin2"
    assert check_app_id("my-admin", reserved=RESERVED) == "my-admin"


def test_invalid_name_reports_format_before_reservation() -> None:
    err = error_of(check_app_id, "Admin", reserved=frozenset({"Admin", "admin"}))
    assert err.message == APP_ID_MESSAGE


# --- usernames --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["bob", "Bob", "alice.smith", "a@b.c", "x+y", "under_score", "dash-ed", "0", "a" * 150]
)
def test_valid_usernames(name: str) -> None:
    assert check_username(name) == name


@pytest.mark.parametrize(
    "name", ["has space", "semi;colon", "slash/y", "quote'", "bob\n", "\tbob", "bob!", "a#b"]
)
def test_invalid_usernames(name: str) -> None:
    err = error_of(check_username, name)
    assert err.body() == {"username": [USERNAME_MESSAGE]}


def test_blank_and_long_usernames() -> None:
    assert error_of(check_username, "").body() == {"username": ["This field may not be blank."]}
    assert error_of(check_username, "a" * 151).body() == {
        "username": ["Ensure this field has no more than 150 characters."]
    }


# --- emails -----------------------------------------------------------------------------


def test_emails() -> None:
    assert check_email("a@example.com") == "a@example.com"
    assert check_email("  a.b+c@sub.example.org ") == "a.b+c@sub.example.org"
    for bad in (
        "plain",
        "a@b",
        "@example.com",
        "a@@example.com",
        "a b@example.com",
        "a@ex ample.com",
    ):
        assert error_of(check_email, bad).body() == {"email": ["Enter a valid email address."]}


# --- key ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key_id", ["laptop", "test@example.com", "a.b-c_d+e", "host:22", "K1", "k" * 128]
)
def test_valid_key_ids(key_id: str) -> None:
    assert check_key_id(key_id) == key_id


@pytest.mark.parametrize(
    "key_id", ["has space", "semi;colon", "slash/y", "key\n", "ключ", "k" * 129, "a#b"]
)
def test_invalid_key_ids(key_id: str) -> None:
    err = error_of(check_key_id, key_id)
    assert err.field == "id"
    assert err.message.startswith("Key id may only contain")


def test_blank_key_id() -> None:
    assert error_of(check_key_id, "").body() == {"id": ["This field may not be blank."]}
