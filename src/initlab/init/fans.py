"""Fan-in and fan-out of a weight tensor in the three layouts initlab meets.

- ``numpy`` (initlab's own) and ``keras``: ``(fan_in, fan_out)`` for a dense weight and
  ``(*kernel, in_channels, out_channels)`` for a convolution, as Keras and JAX (``in_axis=-2,
  out_axis=-1``) lay them out. A 1-D shape ``(n,)`` has fan_in = fan_out = n; a scalar has 1, 1
  (Keras' ``_compute_fans``).
- ``torch``: ``(out_features, in_features)`` and ``(out_channels, in_channels, *kernel)``;
  fewer than 2 dimensions is an error, as in ``torch.nn.init._calculate_fan_in_and_fan_out``.

In every layout a convolution's fans include the receptive field (the product of the kernel
dimensions), so the three libraries agree once the layout is accounted for.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

from initlab._errors import ArgumentError, ArgumentTypeError, unknown_choice

LAYOUTS = ("numpy", "keras", "torch")


class Fans(NamedTuple):
    fan_in: float
    fan_out: float

    def by_mode(self, mode: str) -> float:
        """The denominator of a variance-scaling rule: fan_in, fan_out or their average."""
        if mode == "fan_in":
            return self.fan_in
        if mode == "fan_out":
            return self.fan_out
        if mode == "fan_avg":
            return (self.fan_in + self.fan_out) / 2.0
        raise unknown_choice("mode", "mode", str(mode), ("fan_in", "fan_out", "fan_avg"))


MAX_DIMS = 32  # NumPy 1.x's limit on array dimensions (NumPy 2 allows 64); far beyond any weight tensor


def check_shape(shape) -> tuple[int, ...]:
    """Validate a shape: a tuple of at most `MAX_DIMS` non-negative ints (a bare int means a 1-D shape)."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ArgumentTypeError("shape", f"expected a tuple of non-negative integers, got {shape!r}") from None
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise ArgumentError("shape", f"expected non-negative integers, got {list(dims)}")
    if len(dims) > MAX_DIMS:
        raise ArgumentError("shape", f"expected at most {MAX_DIMS} dimensions, got {len(dims)}")
    return tuple(int(d) for d in dims)


def fans(shape, layout: str = "numpy") -> Fans:
    """Fan-in and fan-out of a weight of `shape` in `layout` (numpy/keras or torch).

    >>> fans((400, 25))
    Fans(fan_in=400, fan_out=25)
    >>> fans((3, 3, 16, 32), layout="keras")
    Fans(fan_in=144, fan_out=288)
    >>> fans((32, 16, 3, 3), layout="torch")
    Fans(fan_in=144, fan_out=288)
    """
    dims = check_shape(shape)
    if layout not in LAYOUTS:
        raise unknown_choice("layout", "layout", str(layout), LAYOUTS)
    if layout == "torch":
        if len(dims) < 2:
            raise ArgumentError("shape", f"torch layout needs at least 2 dimensions to compute fans, got {list(dims)}")
        receptive = math.prod(dims[2:])
        return Fans(dims[1] * receptive, dims[0] * receptive)
    if len(dims) == 0:
        return Fans(1, 1)
    if len(dims) == 1:
        return Fans(dims[0], dims[0])
    receptive = math.prod(dims[:-2])
    return Fans(dims[-2] * receptive, dims[-1] * receptive)
