"""`Initializer`: the callable every scheme becomes, ``init(shape, rng, dtype=np.float64)``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from initlab import memory
from initlab._errors import ArgumentError, unknown_choice
from initlab._random import RandomLike, as_generator
from initlab.init.fans import LAYOUTS, Fans, check_shape
from initlab.init.laws import Geometry, Law
from initlab.init.spec import Spec

FLOAT_DTYPES = ("float32", "float64")


def check_dtype(dtype, argument: str = "dtype") -> np.dtype:
    """float32 or float64, as a numpy dtype; anything else is a ValueError."""
    if isinstance(dtype, str):  # numpy parses other strings as dtype mini-languages ('1,,2' is a SyntaxError)
        resolved = np.dtype(dtype) if dtype in FLOAT_DTYPES else None
    else:
        try:
            resolved = np.dtype(dtype)
        except (TypeError, ValueError):
            resolved = None
    if resolved is None or resolved.name not in FLOAT_DTYPES:
        raise ArgumentError(argument, f"expected one of {', '.join(FLOAT_DTYPES)}, got {dtype!r}")
    return resolved


@dataclass(frozen=True)
class Initializer:
    """A validated scheme bound to a tensor layout.

    Values are drawn in float64 and then cast, so float32 and float64 weights from the same
    seed are the same numbers up to rounding.
    """

    spec: Spec
    law: Law
    layout: str = "numpy"

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise unknown_choice("layout", "layout", str(self.layout), LAYOUTS)

    def __str__(self) -> str:
        return str(self.spec)

    def __call__(self, shape, rng: RandomLike, dtype=np.float64, *, fan: Fans | None = None,
                 max_memory: str | int | None = None) -> np.ndarray:
        """Draw a tensor of `shape`. `fan` overrides the fans computed from the shape: a bias
        uses its weight's fans (that is how ``torch_default`` gives U(+-1/sqrt(fan_in)) biases).
        A tensor whose drawing would need more than `max_memory` (`initlab.memory.budget`) is refused."""
        geometry = self.geometry(shape, fan)
        out_dtype = check_dtype(dtype)
        memory.check("shape", memory.tensor(math.prod(geometry.shape), out_dtype.itemsize), max_memory,
                     f"{list(geometry.shape)} has {math.prod(geometry.shape):,} elements")
        generator = as_generator(rng)
        if 0 in geometry.shape:
            return np.zeros(geometry.shape, dtype=out_dtype)
        return np.asarray(self.law.sample(geometry, generator), dtype=out_dtype)

    def moments(self, shape, fan: Fans | None = None) -> tuple[float, float]:
        """The mean and std the scheme's formula gives for `shape` (what a large sample should show)."""
        return self.law.moments(self.geometry(shape, fan))

    def geometry(self, shape, fan: Fans | None = None) -> Geometry:
        dims = check_shape(shape)
        law = self.law
        if len(dims) < law.min_rank or (law.max_rank is not None and len(dims) > law.max_rank):
            wanted = (f"exactly {law.max_rank}" if law.min_rank == law.max_rank
                      else f"at least {law.min_rank}")
            raise ArgumentError("shape", f"'{self.spec}' needs {wanted} dimensions, got {list(dims)}")
        return Geometry(dims, self.layout, fan)
