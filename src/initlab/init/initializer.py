"""`Initializer`: the callable every scheme becomes, ``init(shape, rng, dtype=np.float64)``."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from initlab import memory
from initlab._errors import ArgumentError, unknown_choice
from initlab._random import RandomLike, as_generator
from initlab.init.fans import LAYOUTS, FanAxes, Fans, check_shape
from initlab.init.laws import Geometry, Law
from initlab.init.spec import Spec

FLOAT_DTYPES = ("float32", "float64")  # what the NumPy engine computes in
DRAW_DTYPES = ("float16", "bfloat16", "float32", "float64")  # what an initializer can return
EMPTY_TENSOR = "Initializing zero-element tensors is a no-op"  # torch.nn.init's warning, word for word


def check_dtype(dtype, argument: str = "dtype", allowed: tuple[str, ...] = FLOAT_DTYPES) -> np.dtype:
    """One of `allowed` (float32 or float64 by default), as a numpy dtype; anything else is a ValueError.
    bfloat16 is ml_dtypes' NumPy dtype (``ml_dtypes.bfloat16``)."""
    if isinstance(dtype, str):  # numpy parses other strings as dtype mini-languages ('1,,2' is a SyntaxError)
        resolved = _named_dtype(dtype) if dtype in allowed else None
    else:
        try:
            resolved = np.dtype(dtype)
        except (TypeError, ValueError):
            resolved = None
    if resolved is None or resolved.name not in allowed:
        raise ArgumentError(argument, f"expected one of {', '.join(allowed)}, got {dtype!r}")
    return resolved


def _named_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes  # imported here: only bfloat16 needs it
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


@dataclass(frozen=True)
class Initializer:
    """A validated scheme bound to a tensor layout, and optionally explicit fan axes (`FanAxes`).

    Dtypes: float64 is drawn in float64. float32 is drawn directly in float32 by the normal and
    uniform laws (every ``*_normal``/``*_uniform`` scheme, ``normal``, ``uniform``, ``sparse``):
    half the memory and less time, but not the float64 draw rounded. ``exact=True`` draws float64
    and rounds instead, so float32 and float64 weights from the same seed are the same numbers up
    to rounding (the NumPy engine asks for it, so a float32 and a float64 run start from the same
    weights); every other law (truncated normal, orthogonal, ...) always draws float64 and rounds.
    float16 and bfloat16 (ml_dtypes) are drawn as float32 (float64 with ``exact=True``) and rounded.
    """

    spec: Spec
    law: Law
    layout: str = "numpy"
    axes: FanAxes | None = None

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise unknown_choice("layout", "layout", str(self.layout), LAYOUTS)

    def __str__(self) -> str:
        return str(self.spec)

    def __call__(self, shape, rng: RandomLike, dtype=np.float64, *, fan: Fans | None = None,
                 max_memory: str | int | None = None, exact: bool = False) -> np.ndarray:
        """Draw a tensor of `shape` in `dtype` (float16, bfloat16, float32, float64; the class doc says
        how each is drawn and what `exact` changes). `fan` overrides the fans computed from the shape:
        a bias uses its weight's fans (that is how ``torch_default`` gives U(+-1/sqrt(fan_in)) biases);
        the spec's own axes override both. A zero-element tensor warns, as torch.nn.init does. A
        tensor whose drawing would need more than `max_memory` (`initlab.memory.budget`) is refused."""
        geometry = self.geometry(shape, fan)
        out_dtype = check_dtype(dtype, allowed=DRAW_DTYPES)
        if not isinstance(exact, bool):
            raise ArgumentError("exact", f"expected true or false, got {exact!r}")
        direct = self.law.sample32 is not None and not exact and out_dtype.itemsize <= 4
        size = math.prod(geometry.shape)
        memory.check("shape", memory.tensor(size, out_dtype.itemsize, 4 if direct else 8), max_memory,
                     f"{list(geometry.shape)} has {size:,} elements")
        generator = as_generator(rng)
        if size == 0:
            warnings.warn(f"{EMPTY_TENSOR} (shape {list(geometry.shape)})", UserWarning, stacklevel=2)
            return np.zeros(geometry.shape, dtype=out_dtype)
        values = self.law.sample32(geometry, generator) if direct else self.law.sample(geometry, generator)
        return np.asarray(values, dtype=out_dtype)

    def fans(self, shape, fan: Fans | None = None) -> Fans | None:
        """The fans this initializer uses for `shape`: its axes', else `fan`, else None (from the layout)."""
        return self.axes.fans(check_shape(shape)) if self.axes is not None else fan

    def moments(self, shape, fan: Fans | None = None) -> tuple[float, float]:
        """The mean and std the scheme's formula gives for `shape` (what a large sample should show)."""
        return self.law.moments(self.geometry(shape, fan))

    def geometry(self, shape, fan: Fans | None = None) -> Geometry:
        dims = check_shape(shape)
        law = self.law
        if len(dims) < law.min_rank or (law.max_rank is not None and len(dims) > law.max_rank):
            wanted = (f"exactly {law.max_rank}" if law.min_rank == law.max_rank
                      else f"at least {law.min_rank}" if law.max_rank is None
                      else f"{law.min_rank} to {law.max_rank}")
            raise ArgumentError("shape", f"'{self.spec}' needs {wanted} dimensions, got {list(dims)}")
        return Geometry(dims, self.layout, fan, self.axes)
