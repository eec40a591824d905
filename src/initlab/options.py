"""Parsing of the small text formats used by command-line options (shapes, layer widths)."""

from __future__ import annotations

import re
from initlab._errors import ArgumentError


def parse_int_list(text: str, argument: str) -> tuple[int, ...]:
    """'400,25' -> (400, 25). Every item must be a positive integer.

    >>> parse_int_list("400, 25", "shape")
    (400, 25)
    """
    items = [item.strip() for item in str(text).split(",")]
    try:
        values = tuple(int(item) for item in items)
    except ValueError:
        values = None
    if not values or any(v <= 0 for v in values):
        raise ArgumentError(argument, f"expected comma-separated positive integers like '400,25', got '{text}'")
    return values


def parse_hidden(text: str, argument: str = "hidden") -> tuple[int, ...]:
    """Hidden layer widths: a comma list ('10,5') or WIDTHxDEPTH ('100x30' = 30 layers of 100).

    An empty string means no hidden layer (logistic regression).

    >>> parse_hidden("10,5"), parse_hidden("100x3"), parse_hidden("")
    ((10, 5), (100, 100, 100), ())
    """
    text = str(text).strip()
    if not text:
        return ()
    match = re.fullmatch(r"(\d+)\s*[xX]\s*(\d+)", text)
    if match:
        width, depth = int(match[1]), int(match[2])
        if width > 0 and depth > 0:
            return (width,) * depth
        raise ArgumentError(argument, f"expected WIDTHxDEPTH with positive numbers, got '{text}'")
    try:
        return parse_int_list(text, argument)
    except ValueError:
        raise ArgumentError(argument, f"expected positive integers like '10,5' or WIDTHxDEPTH like '100x30', "
                         f"got '{text}'") from None
