"""Fan-in and fan-out of a weight tensor in the three layouts initlab meets.

- ``numpy`` (initlab's own) and ``keras``: ``(fan_in, fan_out)`` for a dense weight and
  ``(*kernel, in_channels, out_channels)`` for a convolution, as Keras and JAX (``in_axis=-2,
  out_axis=-1``) lay them out. A 1-D shape ``(n,)`` has fan_in = fan_out = n; a scalar has 1, 1
  (Keras' ``_compute_fans``).
- ``torch``: ``(out_features, in_features)`` and ``(out_channels, in_channels, *kernel)``;
  fewer than 2 dimensions is an error, as in ``torch.nn.init._calculate_fan_in_and_fan_out``.

In every layout a convolution's fans include the receptive field (the product of the kernel
dimensions), so the three libraries agree once the layout is accounted for.

`FanAxes` names the axes explicitly, as JAX's ``in_axis``, ``out_axis`` and ``batch_axis``: an
attention kernel (d_model, heads, head_dim) has fan_in = d_model, not the dense reshape's
d_model x heads. Keras' ``input_axes``/``output_axes`` (Keras >= 3.15, set by ``EinsumDense``) are
the same with every other axis in ``batch_axis`` (Keras leaves them out of both fans).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
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
        if mode == "fan_geo_avg":  # JAX's geometric mean
            return math.sqrt(self.fan_in * self.fan_out)
        raise unknown_choice("mode", "mode", str(mode), MODES)


MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
AXIS_ARGUMENTS = ("in_axis", "out_axis", "batch_axis")


@dataclass(frozen=True)
class FanAxes:
    """Which axes of a weight are its inputs, its outputs and a batch of independent weights (JAX's
    ``in_axis``, ``out_axis``, ``batch_axis``); every other axis is receptive field, in both fans.

    Axes may be negative; an axis named twice (in two roles or in one) is refused, where JAX would
    compute fractional fans.

    >>> FanAxes(in_axis=(0,), out_axis=(1, 2)).fans((32, 8, 16))
    Fans(fan_in=32, fan_out=128)
    >>> FanAxes().fans((3, 3, 16, 32))  # JAX's defaults (-2, -1): the Keras conv layout
    Fans(fan_in=144, fan_out=288)
    >>> FanAxes(in_axis=(1,), out_axis=(0,), batch_axis=(2,)).fans((4, 6, 5))
    Fans(fan_in=6, fan_out=4)
    """

    in_axis: tuple[int, ...] = (-2,)
    out_axis: tuple[int, ...] = (-1,)
    batch_axis: tuple[int, ...] = ()

    @classmethod
    def from_values(cls, in_axis=None, out_axis=None, batch_axis=None) -> FanAxes:
        """From spec values (a number or a tuple of numbers each; None keeps JAX's default)."""
        given = {"in_axis": in_axis, "out_axis": out_axis, "batch_axis": batch_axis}
        return cls(**{name: _axis_tuple(name, value) for name, value in given.items() if value is not None})

    def fans(self, shape) -> Fans:
        dims = check_shape(shape)
        seen: dict[int, str] = {}
        for name in AXIS_ARGUMENTS:
            for axis in getattr(self, name):
                if not -len(dims) <= axis < len(dims):
                    raise ArgumentError(name, f"axis {axis} is out of range for shape {list(dims)} "
                                              f"({len(dims)} dimensions)")
                where = axis % len(dims)
                if where in seen:
                    raise ArgumentError(name, f"axis {axis} of shape {list(dims)} is already "
                                              f"{seen[where]}; each axis may have one role")
                seen[where] = name
        size = {name: math.prod(dims[a] for a in getattr(self, name)) for name in AXIS_ARGUMENTS}
        receptive = math.prod(d for i, d in enumerate(dims) if i not in seen)
        return Fans(size["in_axis"] * receptive, size["out_axis"] * receptive)


def _axis_tuple(name: str, value) -> tuple[int, ...]:
    values = value if isinstance(value, tuple) else (value,)
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and float(v).is_integer() for v in values):
        raise ArgumentError(name, f"expected an axis or a tuple of axes (integers such as -2 or (1, 2)), got {value!r}")
    if name != "batch_axis" and not values:
        raise ArgumentError(name, f"expected at least one axis, got {value!r}")
    return tuple(int(v) for v in values)


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
