"""Validation of scheme arguments; messages name the parameter, the rule and the value."""

from __future__ import annotations

import math
import numbers

from initlab._errors import unknown_choice
from initlab.init.spec import format_value


def number(name: str, value: object, *, positive: bool = False, non_negative: bool = False) -> float:
    """A finite real number, optionally > 0 or >= 0."""
    rule = "a positive number" if positive else "a non-negative number" if non_negative else "a finite number"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive:
        ok = value > 0
    if ok and non_negative:
        ok = value >= 0
    if not ok:
        shown = format_value(value) if isinstance(value, float) else repr(value)
        raise ValueError(f"{name}: expected {rule}, got {shown}")
    return float(value)


def choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise unknown_choice(name, name, str(value), choices)
    return str(value)
