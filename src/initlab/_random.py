"""Explicit randomness: every random draw in initlab goes through a `numpy.random.Generator`."""

from __future__ import annotations

import numbers

import numpy as np

from initlab._checks import MAX_SEED
from initlab._errors import ArgumentError, ArgumentTypeError

RandomLike = int | np.random.Generator


def as_generator(rng: RandomLike, argument: str = "rng") -> np.random.Generator:
    """Turn an int seed or a Generator into a Generator; anything else is a TypeError.

    `None` is refused on purpose: a run without a seed cannot be reproduced.

    >>> bool(as_generator(0).integers(100) == as_generator(0).integers(100))
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if not 0 <= rng <= MAX_SEED:
            raise ArgumentError(argument, f"expected an integer seed in [0, 2**63 - 1], got {rng}")
        return np.random.default_rng(int(rng))
    raise ArgumentTypeError(argument, f"expected an int seed or numpy.random.Generator, got {rng!r}")

