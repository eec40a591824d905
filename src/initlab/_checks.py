"""Validation shared by every module; messages name the argument, the rule and the value."""

from __future__ import annotations

import math
import numbers

from initlab._errors import ArgumentError, unknown_choice


def _shown(value: object) -> str:
    """-1.0 shows as -1, as the user most likely typed it."""
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return repr(value)


def number(name: str, value: object, *, positive: bool = False, non_negative: bool = False) -> float:
    """A finite real number, optionally > 0 or >= 0.

    >>> number("lr", 0.1, positive=True)
    0.1
    """
    rule = "a positive number" if positive else "a non-negative number" if non_negative else "a finite number"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive:
        ok = value > 0
    if ok and non_negative:
        ok = value >= 0
    if not ok:
        raise ArgumentError(name, f"expected {rule}, got {_shown(value)}")
    return float(value)


def integer(name: str, value: object, *, minimum: int = 1) -> int:
    """An int >= `minimum` (1: 'a positive integer', 0: 'a non-negative integer'); bools are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        rule = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        raise ArgumentError(name, f"expected {rule}, got {_shown(value)}")
    return int(value)


def choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise unknown_choice(name, name, str(value), choices)
    return str(value)
