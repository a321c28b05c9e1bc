"""Unit tests for the pure rules: who may do what to an app, generated names, page params."""

from __future__ import annotations

import itertools
import re

import pytest

from dockyard.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, _to_int, page_params
from dockyard.apps import naming
from dockyard.apps.access import Action, allowed, require
from dockyard.core.errors import PERMISSION_DENIED, Forbidden

# --- access -------------------------------------------------------------------------------


def expected(action: Action, *, owner: bool, collaborator: bool, superuser: bool) -> bool:
    if owner or superuser:
        return True
    return collaborator and action is Action.use


@pytest.mark.parametrize("action", list(Action))
def test_allowed_matrix(action: Action) -> None:
    for owner, collaborator, superuser in itertools.product((False, True), repeat=3):
        got = allowed(
            action=action, is_owner=owner, is_collaborator=collaborator, is_superuser=superuser
        )
        assert got is expected(
            action, owner=owner, collaborator=collaborator, superuser=superuser
        ), (action, owner, collaborator, superuser)


def test_allowed_named_cases() -> None:
    def check(action: Action, **who: bool) -> bool:
        facts = {"is_owner": False, "is_collaborator": False, "is_superuser": False, **who}
        return allowed(action=action, **facts)

    for action in Action:
        assert check(action, is_owner=True)
        assert check(action, is_superuser=True)
        assert not check(action)  # a stranger may do nothing
    assert check(Action.use, is_collaborator=True)
    assert not check(Action.destroy, is_collaborator=True)
    assert not check(Action.transfer, is_collaborator=True)
    assert not check(Action.share, is_collaborator=True)


def test_require_raises_forbidden_with_drf_message() -> None:
    with pytest.raises(Forbidden) as info:
        require(action=Action.destroy, is_owner=False, is_collaborator=True, is_superuser=False)
    assert info.value.status == 403
    assert info.value.body() == {"detail": PERMISSION_DENIED}
    assert PERMISSION_DENIED == "You do not have permission to perform this action."
    require(action=Action.destroy, is_owner=True, is_collaborator=False, is_superuser=False)
    require(action=Action.use, is_owner=False, is_collaborator=True, is_superuser=False)


# --- naming -------------------------------------------------------------------------------

APP_ID_RE = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")


def test_generate_name_shape() -> None:
    names = {naming.generate_name() for _ in range(300)}
    for name in names:
        assert re.fullmatch(r"[a-z]+-[a-z]+", name), name
        adjective, noun = name.split("-")
        assert adjective in naming.ADJECTIVES
        assert noun in naming.NOUNS
        assert APP_ID_RE.match(name) and len(name) <= 63
    assert len(names) > 50  # random, not a constant


def test_word_lists_are_valid_id_parts() -> None:
    for word in (*naming.ADJECTIVES, *naming.NOUNS):
        assert re.fullmatch(r"[a-z]+", word), word
    assert len(set(naming.ADJECTIVES)) * len(set(naming.NOUNS)) >= 1000


def test_generate_with_suffix_shape() -> None:
    for _ in range(100):
        name = naming.generate_with_suffix()
        assert re.fullmatch(r"[a-z]+-[a-z]+-\d{4}", name), name
        assert APP_ID_RE.match(name) and len(name) <= 63


# --- pagination ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "default", "low", "result"),
    [
        (None, 100, 1, 100),
        ("5", 100, 1, 5),
        ("1", 100, 1, 1),
        ("0", 100, 1, 100),
        ("0", 7, 0, 0),
        ("-1", 100, 1, 100),
        ("-1", 0, 0, 0),
        ("abc", 100, 1, 100),
        ("", 100, 1, 100),
        ("1.5", 100, 1, 100),
    ],
)
def test_to_int(value: str | None, default: int, low: int, result: int) -> None:
    assert _to_int(value, default, low=low) == result


def test_page_params_defaults() -> None:
    assert DEFAULT_LIMIT == 100
    assert page_params() == Page(limit=100, offset=0)


def test_page_params_limit_offset_and_page_size() -> None:
    assert page_params(limit="2", offset="4") == Page(limit=2, offset=4)
    assert page_params(page_size="3") == Page(limit=3, offset=0)
    # The v2 form wins when both are given.
    assert page_params(limit="2", page_size="9") == Page(limit=2, offset=0)


def test_page_params_invalid_values_fall_back() -> None:
    for bad in ("abc", "0", "-5", "", "2x"):
        assert page_params(limit=bad) == Page(limit=DEFAULT_LIMIT, offset=0), bad
        assert page_params(page_size=bad) == Page(limit=DEFAULT_LIMIT, offset=0), bad
    assert page_params(limit="2", offset="-3") == Page(limit=2, offset=0)
    assert page_params(limit="2", offset="x") == Page(limit=2, offset=0)


def test_page_params_caps_the_limit() -> None:
    assert page_params(limit="1000") == Page(limit=1000, offset=0)  # pods ask for 1000
    assert page_params(limit=str(MAX_LIMIT + 1)).limit == MAX_LIMIT
    assert page_params(limit="999999999999").limit == MAX_LIMIT
