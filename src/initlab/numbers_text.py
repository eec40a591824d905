"""Numbers as text: the one set of rules for every table, report and sentence that initlab prints.

- `significant(value, digits=4)`: a table cell, `digits` significant digits (``%g``: 0.0001235,
  1.235e+05), ``"-"`` for a missing value;
- `percent(fraction, decimals=1)`: a fraction as a percentage (0.1234 -> ``"12.3%"``), ``"-"`` for a
  missing value;
- `spread(low, high, digits=3)`: a range of two numbers, ``"low - high"``, ``"-"`` when missing;
- `in_sentence(value, digits=3)`: a number inside a sentence, 3 significant digits, ``"n/a"`` for a
  missing value (a lone "-" reads as a minus sign in prose).

>>> significant(0.000123456), significant(123456.0), significant(None), significant(2.0, 3)
('0.0001235', '1.235e+05', '-', '2')
>>> percent(0.1234), percent(0.5, decimals=0), percent(None)
('12.3%', '50%', '-')
>>> spread(0.01234, 5.0), in_sentence(1 / 3), in_sentence(None)
('0.0123 - 5', '0.333', 'n/a')
"""

from __future__ import annotations

MISSING = "-"
MISSING_IN_SENTENCE = "n/a"


def significant(value: float | None, digits: int = 4) -> str:
    """`value` with `digits` significant digits; `MISSING` for None."""
    return MISSING if value is None else f"{value:.{digits}g}"


def percent(fraction: float | None, decimals: int = 1) -> str:
    """`fraction` x 100 with `decimals` decimals and a % sign; `MISSING` for None."""
    return MISSING if fraction is None else f"{100 * fraction:.{decimals}f}%"


def spread(low: float | None, high: float | None, digits: int = 3) -> str:
    """``"low - high"`` with `digits` significant digits each; `MISSING` when either is None."""
    return MISSING if low is None or high is None else f"{low:.{digits}g} - {high:.{digits}g}"


def in_sentence(value: float | None, digits: int = 3) -> str:
    """`value` with `digits` significant digits for a sentence; `MISSING_IN_SENTENCE` for None."""
    return MISSING_IN_SENTENCE if value is None else f"{value:.{digits}g}"
