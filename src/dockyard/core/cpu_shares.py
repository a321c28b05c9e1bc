"""CPU shares <-> millicores: the one place that converts between the two units of a CPU limit.

Deis 1.x clients read and write CPU limits as Docker CPU shares (``{"web": 512}``, numbers);
v2 stores and shows millicores (``"500m"``). 1024 shares = 1 CPU = 1000 millicores. A share is
finer than a millicore, so the two rules below are chosen to round-trip the values people use:

- shares -> millicores: ``round_half_up(shares * 1000 / 1024)``, so 512 -> 500, 1024 -> 1000,
  256 -> 250, 64 -> 63 (62.5 rounds up), 100 -> 98.
- millicores -> shares: the *smallest* share count whose millicores (by the rule above) are
  those millicores, ``ceil((millicores - 1/2) * 1024 / 1000)``: 500 -> 512, 1000 -> 1024,
  63 -> 64, 100 -> 102, and never 0 for a positive limit.

millicores -> shares -> millicores is exact for every value. shares -> millicores -> shares is
exact for every power of two, every multiple of 128 and of 100, and 1..10; it cannot be exact
for all (about one share count in 43 shares its millicores with the one below, e.g. 150 -> 146m
-> 149). Arithmetic is on fractions, never floats, so no rule depends on binary rounding.
"""

from __future__ import annotations

import math
from fractions import Fraction

SHARES_PER_CPU = 1024
MILLICORES_PER_CPU = 1000
_HALF = Fraction(1, 2)


def millicores(shares: int | float | Fraction) -> int:
    """The millicores of ``shares`` CPU shares (``512`` -> ``500``), rounded half up."""
    exact = Fraction(shares) * MILLICORES_PER_CPU / SHARES_PER_CPU
    return math.floor(exact + _HALF)


def shares(millicores: int | float | Fraction) -> int:
    """The CPU shares of ``millicores`` (``500`` -> ``512``): the smallest share count that
    ``millicores()`` maps to this value."""
    exact = (Fraction(millicores) - _HALF) * SHARES_PER_CPU / MILLICORES_PER_CPU
    return max(math.ceil(exact), 0)
