"""CPU shares <-> millicores (``core.cpu_shares``): 1024 shares = 1 CPU = 1000m, the rounding
rules its docstring states, and which values round-trip exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.core.cpu_shares import millicores, shares


@pytest.mark.parametrize(
    ("cpu_shares", "millis"),
    [
        (1, 1),
        (2, 2),
        (64, 63),  # 62.5 rounds half up
        (100, 98),
        (128, 125),
        (256, 250),
        (512, 500),
        (768, 750),
        (1024, 1000),
        (1536, 1500),
        (2048, 2000),
        (4096, 4000),
    ],
)
def test_shares_to_millicores_and_back(cpu_shares: int, millis: int) -> None:
    assert millicores(cpu_shares) == millis
    assert shares(millis) == cpu_shares


@pytest.mark.parametrize(
    ("millis", "cpu_shares"), [(1, 1), (63, 64), (100, 102), (250, 256), (500, 512), (1000, 1024)]
)
def test_millicores_to_shares(millis: int, cpu_shares: int) -> None:
    assert shares(millis) == cpu_shares
    assert millicores(cpu_shares) == millis


def test_exact_arithmetic_and_bounds() -> None:
    assert millicores(Fraction(1024)) == millicores(1024.0) == 1000
    assert millicores(0) == shares(0) == 0
    assert shares(1) == 1  # a positive limit never becomes 0 shares
    # Two share counts can share their millicores: the smaller one is what comes back.
    assert millicores(149) == millicores(150) == 146
    assert shares(146) == 149


def test_typical_values_round_trip() -> None:
    typical = {2**k for k in range(17)} | {128 * k for k in range(1, 257)}
    typical |= {100 * k for k in range(1, 200)} | set(range(1, 11))
    assert [s for s in sorted(typical) if shares(millicores(s)) != s] == []


def test_millicores_always_round_trip() -> None:
    assert all(millicores(shares(m)) == m for m in range(1, 100_001))


@given(st.integers(min_value=1, max_value=10**15))
def test_round_trip_properties(n: int) -> None:
    assert millicores(shares(n)) == n
    # shares -> millicores -> shares is off by at most one share, never more.
    assert 0 <= n - shares(millicores(n)) <= 1
