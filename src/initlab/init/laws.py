"""Distributions whose parameters may depend on a tensor's geometry, and their exact moments.

A `Law` draws float64 values for a `Geometry` (shape, layout, and the fans of the weight the
values belong to) and states the mean and standard deviation it should produce (what
`initlab sample` compares with). Fans are computed only by the laws that use them, so a
fan-free scheme (zeros, normal) can fill a 1-D bias in torch layout, as torch's own does.

The normal and uniform laws can also draw float32 directly (`Law.sample32`: NumPy's float32
ziggurat and float32 uniforms, half the memory of a float64 draw and faster); their values are
not the float64 draw rounded, so `Initializer` uses them only when float32 (or less) is asked
without ``exact=True``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from initlab._errors import ArgumentError, unknown_choice
from initlab.init.fans import FanAxes, Fans, fans

# Std of a standard normal truncated to [-2, 2]; Keras and JAX divide by it in variance_scaling
# so that the truncated samples keep the requested variance.
TRUNCATED_NORMAL_STD = 0.87962566103423978


@dataclass(frozen=True)
class Geometry:
    """A tensor's shape in a layout; `fan` overrides the fans (a bias uses its weight's), and explicit
    `axes` (a spec's ``in_axis``/``out_axis``/``batch_axis``) override both: the user named them."""

    shape: tuple[int, ...]
    layout: str = "numpy"
    fan: Fans | None = None
    axes: FanAxes | None = None

    @cached_property
    def fans(self) -> Fans:
        if self.axes is not None:
            return self.axes.fans(self.shape)
        return fans(self.shape, self.layout) if self.fan is None else self.fan

    @property
    def matrix(self) -> tuple[int, int]:
        """The (rows, cols) matrix an orthogonal init works on: torch flattens to (shape[0], rest),
        Keras and JAX to (prod(shape[:-1]), shape[-1]); the two agree for a dense weight."""
        size = math.prod(self.shape)
        if self.layout == "torch":
            return self.shape[0], size // self.shape[0]
        return size // self.shape[-1], self.shape[-1]


Sampler = Callable[[Geometry, np.random.Generator], np.ndarray]
Moments = Callable[[Geometry], tuple[float, float]]
Scale = Callable[[Geometry], float]


@dataclass(frozen=True)
class Law:
    sample: Sampler
    moments: Moments
    min_rank: int = 0  # the smallest number of dimensions the law accepts
    max_rank: int | None = None
    sample32: Sampler | None = None  # a direct float32 draw (module doc); None: float64 drawn and rounded


def fixed(value: float) -> Scale:
    """A scale that does not depend on the tensor."""
    return lambda geometry: value


def constant(value: float) -> Law:
    return Law(sample=lambda g, rng: np.full(g.shape, value, dtype=np.float64),
               moments=lambda g: (value, 0.0))


def normal(mean: float, std_of: Scale) -> Law:
    """N(mean, std^2); `std_of` gives the std for the tensor's geometry."""
    def sample32(g, rng):
        values = rng.standard_normal(g.shape, dtype=np.float32)
        values *= np.float32(std_of(g))  # in place: no float64 temporary
        values += np.float32(mean)
        return values

    return Law(sample=lambda g, rng: mean + std_of(g) * rng.standard_normal(g.shape),
               moments=lambda g: (mean, std_of(g)), sample32=sample32)


def uniform(low_of: Scale, high_of: Scale) -> Law:
    """U(low, high), bounds possibly depending on the geometry."""
    def moments(g):
        low, high = low_of(g), high_of(g)
        return (low + high) / 2.0, (high - low) / math.sqrt(12.0)

    def sample32(g, rng):
        low, high = low_of(g), high_of(g)
        values = rng.random(g.shape, dtype=np.float32)  # [0, 1), as rng.uniform draws it in float64
        values *= np.float32(high - low)
        values += np.float32(low)
        return values

    return Law(sample=lambda g, rng: rng.uniform(low_of(g), high_of(g), size=g.shape), moments=moments,
               sample32=sample32)


def symmetric_uniform(limit_of: Scale) -> Law:
    """U(-limit, limit)."""
    return uniform(lambda g: -limit_of(g), limit_of)


def truncated_normal(mean: float, std_of: Scale, a: float, b: float) -> Law:
    """N(mean, std^2) conditioned on mean + std*a <= x <= mean + std*b (bounds in std units).

    Sampled by `scipy.stats.truncnorm`, which stays accurate when both bounds are far in one
    tail (an inverse CDF in float64 cannot tell Phi(30) from Phi(40)).
    """
    from scipy import stats  # imported here: scipy.stats costs ~1 s of start-up

    unit = stats.truncnorm(a, b)
    unit_mean, unit_std = float(unit.mean()), float(unit.std())

    def sample(g, rng):
        return mean + std_of(g) * unit.rvs(size=g.shape, random_state=rng)

    return Law(sample=sample, moments=lambda g: (mean + std_of(g) * unit_mean, std_of(g) * unit_std))


def orthogonal(gain: float) -> Law:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, times `gain`.

    The tensor is viewed as the matrix `Geometry.matrix` gives for its layout; the sign of R's
    diagonal is folded into Q so that Q is Haar-distributed. Every entry has variance
    gain^2 / max(rows, cols).
    """
    def sample(g, rng):
        rows, cols = g.matrix
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        return gain * (q.T if rows < cols else q).reshape(g.shape)

    return Law(sample=sample, moments=lambda g: (0.0, abs(gain) / math.sqrt(max(g.matrix))), min_rank=2)


def delta_orthogonal(gain: float) -> Law:
    """A convolution kernel that is zero except at its centre tap, where it is ``gain`` times a matrix
    with orthonormal columns from input to output channels (Xiao et al. 2018): the layer is an exact
    isometry at initialisation, which needs out >= in. A 2-D weight is a kernel of size 1 (orthogonal)."""
    def sample(g, rng):
        n_in, n_out, kernel = _channels(g)
        q, r = np.linalg.qr(rng.standard_normal((n_out, n_in)))
        q = gain * q * np.sign(np.diag(r))  # Haar-distributed, (out, in), orthonormal columns
        values = np.zeros(g.shape)
        centre = tuple((k - 1) // 2 for k in kernel)  # jax.nn.initializers.delta_orthogonal's centre
        if g.layout == "torch":
            values[(slice(None), slice(None), *centre)] = q
        else:
            values[(*centre, slice(None), slice(None))] = q.T
        return values

    def moments(g):
        n_in, n_out, kernel = _channels(g)
        return 0.0, abs(gain) / math.sqrt(n_out * math.prod(kernel))  # n_in entries of square 1 in each column

    return Law(sample=sample, moments=moments, min_rank=2)


def _channels(g: Geometry) -> tuple[int, int, tuple[int, ...]]:
    """(in channels, out channels, kernel dims) of a weight; out < in is refused (no isometry exists)."""
    if g.layout == "torch":
        n_out, n_in, kernel = g.shape[0], g.shape[1], g.shape[2:]
    else:
        n_in, n_out, kernel = g.shape[-2], g.shape[-1], g.shape[:-2]
    if n_out < n_in:
        raise ArgumentError("shape", f"delta_orthogonal needs out channels >= in channels (an isometry from "
                            f"in to out), got in={n_in}, out={n_out} for shape {list(g.shape)} ({g.layout} layout)")
    return n_in, n_out, kernel


def identity(gain: float) -> Law:
    """``gain`` times the identity matrix (ones on the main diagonal of a possibly non-square matrix)."""
    def moments(g):
        values = gain * np.eye(*g.shape)
        return float(values.mean()), float(values.std())

    return Law(sample=lambda g, rng: gain * np.eye(*g.shape), moments=moments, min_rank=2, max_rank=2)


def dirac(groups: int) -> Law:
    """torch.nn.init.dirac_: zeros except a 1 at the centre tap (k // 2 in each kernel dimension) from input
    channel d to output channel g * out_per_group + d, d < min(out_per_group, in), for each of `groups` groups.
    In numpy/keras layout (*kernel, in, out) the same kernel with its axes laid out that way."""
    def ones_at(g):
        n_out, n_in, kernel = (g.shape[0], g.shape[1], g.shape[2:]) if g.layout == "torch" \
            else (g.shape[-1], g.shape[-2], g.shape[:-2])
        if n_out % groups:
            raise ArgumentError("groups", f"dirac needs out channels divisible by groups, got out={n_out}, "
                                          f"groups={groups} for shape {list(g.shape)} ({g.layout} layout)")
        per_group = n_out // groups
        centre = tuple(k // 2 for k in kernel)  # torch's centre (delta_orthogonal follows JAX's (k - 1) // 2)
        pairs = [(i * per_group + d, d) for i in range(groups) for d in range(min(per_group, n_in))]
        if g.layout == "torch":
            return [(o, i, *centre) for o, i in pairs]
        return [(*centre, i, o) for o, i in pairs]

    def sample(g, rng):
        values = np.zeros(g.shape)
        for index in ones_at(g):
            values[index] = 1.0
        return values

    def moments(g):
        p = len(ones_at(g)) / math.prod(g.shape) if math.prod(g.shape) else 0.0
        return p, math.sqrt(p * (1.0 - p))

    return Law(sample=sample, moments=moments, min_rank=3, max_rank=5)


def sparse(sparsity: float, std: float) -> Law:
    """torch.nn.init.sparse_ (Martens 2010): N(0, std^2), then ceil(sparsity * rows) entries of each column set
    to 0, at rows from a random permutation per column. Torch layout (out, in): columns are inputs, as in torch;
    numpy/keras layout (in, out) is its transpose (ceil(sparsity * out) zeros in each row)."""
    def zeros_per_line(g):
        return math.ceil(sparsity * (g.shape[0] if g.layout == "torch" else g.shape[1]))

    def masked(values, g, rng):
        lines = values if g.layout != "torch" else values.T  # one line per input unit
        k = zeros_per_line(g)
        for line in lines:
            line[rng.permutation(len(line))[:k]] = 0
        return values

    def moments(g):
        n = g.shape[0] if g.layout == "torch" else g.shape[1]
        kept = (n - zeros_per_line(g)) / n if n else 0.0
        return 0.0, std * math.sqrt(kept)

    return Law(sample=lambda g, rng: masked(std * rng.standard_normal(g.shape), g, rng), moments=moments,
               min_rank=2, max_rank=2,
               sample32=lambda g, rng: masked(np.float32(std) * rng.standard_normal(g.shape, dtype=np.float32), g, rng))


def variance_scaling(scale: float, mode: str, distribution: str) -> Law:
    """Zero-mean law with variance ``scale / n``, n = fan_in, fan_out, (fan_in + fan_out) / 2 or
    sqrt(fan_in * fan_out) (mode fan_geo_avg, JAX's).

    distribution = "normal" (alias "untruncated_normal"): N(0, scale/n);
    "uniform": U(-sqrt(3 scale/n), +sqrt(3 scale/n));
    "truncated_normal": N(0, s^2) truncated to +-2 s with s = sqrt(scale/n) / 0.8796...,
    so the variance stays scale/n (Keras and JAX semantics).
    """
    Fans(1, 1).by_mode(mode)  # validate the mode now, not at the first draw

    def std_of(g: Geometry) -> float:
        return math.sqrt(scale / g.fans.by_mode(mode))

    if distribution in ("normal", "untruncated_normal"):
        return normal(0.0, std_of)
    if distribution == "uniform":
        return symmetric_uniform(lambda g: math.sqrt(3.0) * std_of(g))
    if distribution == "truncated_normal":
        return truncated_normal(0.0, lambda g: std_of(g) / TRUNCATED_NORMAL_STD, -2.0, 2.0)
    raise unknown_choice("distribution", "distribution", str(distribution),
                         ("normal", "untruncated_normal", "uniform", "truncated_normal"))
