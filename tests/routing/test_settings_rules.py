"""Whitelist addresses, autoscale and label validation, and the settings merge (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import Invalid, Unprocessable
from dockyard.routing import settings_rules as rules
from dockyard.routing.settings_rules import SettingsChange, SettingsState


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("10.0.0.1", "10.0.0.1"),
        (" 10.0.0.1 ", "10.0.0.1"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("192.168.1.5/24", "192.168.1.0/24"),
        ("10.0.0.1/32", "10.0.0.1/32"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:db8:0:0::/64", "2001:db8::/64"),
        ("::1", "::1"),
    ],
)
def test_address_normalised(given: str, stored: str) -> None:
    assert rules.parse_address(given, field="addresses") == stored


@pytest.mark.parametrize(
    "bad", ["", "foo", "10.0.0", "10.0.0.256", "10.0.0.0/33", "1.2.3.4/abc", "::g", 5, None]
)
def test_address_invalid(bad: Any) -> None:
    with pytest.raises(Invalid) as caught:
        rules.parse_address(bad, field="whitelist")
    assert caught.value.body() == {"whitelist": [f"The address {bad} is not valid"]}


def test_addresses_deduplicated_in_order() -> None:
    got = rules.parse_addresses(["10.0.0.2", "10.0.0.1", "10.0.0.2 "], field="addresses")
    assert got == ("10.0.0.2", "10.0.0.1")
    with pytest.raises(Invalid):
        rules.parse_addresses("10.0.0.1", field="addresses")


def test_add_and_remove_addresses() -> None:
    assert rules.add_addresses(["a"], ["b", "a"]) == ("a", "b")
    assert rules.remove_addresses(["a", "b", "c"], ["b"]) == ("a", "c")
    with pytest.raises(Unprocessable) as caught:
        rules.remove_addresses(["a"], ["x", "a", "y"])
    assert caught.value.body() == {"detail": "x, y does not exist in the whitelist"}


GOOD = {"min": 1, "max": 3, "cpu_percent": 50}


def test_autoscale_valid_and_removal() -> None:
    assert rules.check_autoscale({"web": GOOD, "worker": None}) == {"web": GOOD, "worker": None}
    assert rules.check_autoscale_rule("web", {"min": 2, "max": 2, "cpu_percent": 100})["max"] == 2


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"min": 3, "max": 1, "cpu_percent": 50}, "web: min cannot be larger than max"),
        ({"min": 0, "max": 1, "cpu_percent": 50}, "web: min must be an integer of at least 1"),
        ({"min": 1, "max": 0, "cpu_percent": 50}, "web: max must be an integer of at least 1"),
        ({"min": "1", "max": 2, "cpu_percent": 50}, "web: min must be an integer of at least 1"),
        ({"min": True, "max": 2, "cpu_percent": 50}, "web: min must be an integer of at least 1"),
        ({"min": 1.5, "max": 2, "cpu_percent": 50}, "web: min must be an integer of at least 1"),
        (
            {"min": 1, "max": 2, "cpu_percent": 0},
            "web: cpu_percent must be an integer between 1 and 100",
        ),
        (
            {"min": 1, "max": 2, "cpu_percent": 101},
            "web: cpu_percent must be an integer between 1 and 100",
        ),
        ({"min": 1, "max": 2}, "web: min, max and cpu_percent are required"),
        ({**GOOD, "extra": 1}, "web: unknown key extra"),
        ("fast", "web: expected an object with min, max and cpu_percent"),
    ],
)
def test_autoscale_invalid(rule: Any, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        rules.check_autoscale({"web": rule})
    assert caught.value.body() == {"autoscale": [message]}


def test_autoscale_bad_process_type() -> None:
    with pytest.raises(Invalid) as caught:
        rules.check_autoscale({"Web_1": GOOD})
    assert caught.value.field == "autoscale"
    with pytest.raises(Invalid):
        rules.check_autoscale(["web"])


@pytest.mark.parametrize("key", ["team", "git_repo", "example.com/tier", "a", "A-1"])
def test_label_keys_accepted(key: str) -> None:
    assert rules.check_label({key: "x"}) == {key: "x"}


@pytest.mark.parametrize("key", ["", "-a", "a-", "has space", "ü"])
def test_label_keys_rejected(key: str) -> None:
    with pytest.raises(Invalid) as caught:
        rules.check_label({key: "x"})
    assert caught.value.body() == {"label": [rules.LABEL_KEY_MESSAGE]}


def test_label_values() -> None:
    assert rules.check_label({"a": 1, "b": True, "c": "https://x", "d": None})["d"] is None
    with pytest.raises(Invalid):
        rules.check_label({"a": {"nested": 1}})
    with pytest.raises(Invalid):
        rules.check_label({"a": "x" * (rules.MAX_LABEL_VALUE + 1)})


def test_merge_nullable() -> None:
    assert rules.merge_nullable("label", {"a": 1}, {"b": 2, "a": None}) == {"b": 2}
    with pytest.raises(Unprocessable) as caught:
        rules.merge_nullable("autoscale", {}, {"web": None})
    assert caught.value.body() == {"detail": "web does not exist under autoscale"}


def test_apply_settings_defaults_and_changes() -> None:
    default = SettingsState()
    assert (default.maintenance, default.routable, default.whitelist) == (False, True, ())
    assert rules.apply_settings(default, SettingsChange()) == default

    new = rules.apply_settings(
        default,
        SettingsChange(
            maintenance=True,
            routable=False,
            whitelist=["10.0.0.1", "10.0.0.1"],
            autoscale={"web": GOOD},
            label={"team": "core"},
        ),
    )
    assert new == SettingsState(
        maintenance=True,
        routable=False,
        whitelist=("10.0.0.1",),
        autoscale={"web": GOOD},
        label={"team": "core"},
    )
    # Autoscale and labels merge per key; the whitelist is replaced.
    newer = rules.apply_settings(
        new,
        SettingsChange(whitelist=[], autoscale={"worker": GOOD, "web": None}, label={"tier": "1"}),
    )
    assert newer.whitelist == ()
    assert newer.autoscale == {"worker": GOOD}
    assert newer.label == {"team": "core", "tier": "1"}
    assert rules.apply_settings(newer, SettingsChange(maintenance=True)) == newer


def test_apply_settings_invalid_whitelist_names_the_field() -> None:
    with pytest.raises(Invalid) as caught:
        rules.apply_settings(SettingsState(), SettingsChange(whitelist=["nope"]))
    assert caught.value.body() == {"whitelist": ["The address nope is not valid"]}


def test_label_count_limit() -> None:
    many = {f"k{i}": "v" for i in range(rules.MAX_LABELS + 1)}
    with pytest.raises(Invalid):
        rules.apply_settings(SettingsState(), SettingsChange(label=many))
