"""Domain normalisation and validation (pure rules)."""

from __future__ import annotations

import pytest

from dockyard.core.errors import Invalid
from dockyard.routing.hostnames import (
    NOT_VALID,
    TOO_LONG,
    WILDCARD_ONLY,
    lookup_form,
    normalise_domain,
    platform_reserved,
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("example.com", "example.com"),
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("  www.example.com ", "www.example.com"),
        ("*.example.com", "*.example.com"),
        ("*.Example.com.", "*.example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.de", "xn--bcher-kva.de"),
        ("*.bücher.de", "*.xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("faß.de", "xn--fa-hia.de"),  # non-transitional, as browsers send it
        ("localhost", "localhost"),
        ("a-b.c-d.io", "a-b.c-d.io"),
        ("123.example.com", "123.example.com"),
        ("example.co1", "example.co1"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
    ],
)
def test_normalised(given: str, stored: str) -> None:
    assert normalise_domain(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("*", WILDCARD_ONLY),
        ("*.", WILDCARD_ONLY),
        ("1.2.3.4", NOT_VALID),
        ("example.123", NOT_VALID),
        ("example.com..", NOT_VALID),
        ("a..b.com", NOT_VALID),
        (".example.com", NOT_VALID),
        ("-a.com", NOT_VALID),
        ("a-.com", NOT_VALID),
        ("a_b.com", NOT_VALID),
        ("a b.com", NOT_VALID),
        ("a.*.com", NOT_VALID),
        ("**.example.com", NOT_VALID),
        ("*.com", NOT_VALID),
        ("a" * 64 + ".com", NOT_VALID),
        ("xn--zz.com", NOT_VALID),
        ("exa$mple.com", NOT_VALID),
        ("http://example.com", NOT_VALID),
        (".".join(["abcdefghi"] * 26) + ".com", TOO_LONG),
        ("", "This field may not be blank."),
        (".", "This field may not be blank."),
    ],
)
def test_rejected(given: str, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise_domain(given)
    assert caught.value.body() == {"domain": [message]}


def test_exactly_253_characters_allowed() -> None:
    name = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(name) == 253
    assert normalise_domain(name) == name
    with pytest.raises(Invalid):
        normalise_domain(name + "b")


def test_one_trailing_dot_only() -> None:
    assert normalise_domain("example.com.") == "example.com"
    assert lookup_form("example.com..") is None


def test_lookup_form() -> None:
    assert lookup_form("Bücher.de") == "xn--bcher-kva.de"
    assert lookup_form("*") is None


@pytest.mark.parametrize(
    ("domain", "reserved"),
    [
        ("example.test", True),
        ("app.example.test", True),
        ("*.example.test", True),
        ("a.b.example.test", True),
        ("notexample.test", False),
        ("example.test.org", False),
        ("example.com", False),
    ],
)
def test_platform_reserved(domain: str, reserved: bool) -> None:
    assert platform_reserved(domain, "example.test") is reserved


def test_no_platform_domain_reserves_nothing() -> None:
    assert platform_reserved("anything.com", "") is False
