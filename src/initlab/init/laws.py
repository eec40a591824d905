"""Distributions whose parameters may depend on a tensor's fans, and their exact moments.

A `Law` draws float64 values for a shape given the fans of the weight they belong to, and
states the mean and standard deviation it should produce (what `initlab sample` compares with).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from initlab._errors import unknown_choice
from initlab.init.fans import Fans

Shape = tuple[int, ...]

# Std of a standard normal truncated to [-2, 2]; Keras and JAX divide by it in variance_scaling
# so that the truncated samples keep the requested variance.
TRUNCATED_NORMAL_STD = 0.87962566103423978


@dataclass(frozen=True)
class Law:
    sample: Callable[[Shape, Fans, np.random.Generator], np.ndarray]
    moments: Callable[[Shape, Fans], tuple[float, float]]
    min_rank: int = 0  # the smallest number of dimensions the law accepts
    max_rank: int | None = None


def constant(value: float) -> Law:
    return Law(sample=lambda shape, fans, rng: np.full(shape, value, dtype=np.float64),
               moments=lambda shape, fans: (value, 0.0))


def normal(mean: float, std_of: Callable[[Fans], float]) -> Law:
    """N(mean, std^2); `std_of` maps the weight's fans to the std."""
    return Law(sample=lambda shape, fans, rng: mean + std_of(fans) * rng.standard_normal(shape),
               moments=lambda shape, fans: (mean, std_of(fans)))


def uniform(low_of: Callable[[Fans], float], high_of: Callable[[Fans], float]) -> Law:
    """U(low, high), bounds possibly depending on the fans."""
    def sample(shape, fans, rng):
        return rng.uniform(low_of(fans), high_of(fans), size=shape)

    def moments(shape, fans):
        low, high = low_of(fans), high_of(fans)
        return (low + high) / 2.0, (high - low) / math.sqrt(12.0)

    return Law(sample=sample, moments=moments)


def symmetric_uniform(limit_of: Callable[[Fans], float]) -> Law:
    """U(-limit, limit)."""
    return uniform(lambda fans: -limit_of(fans), limit_of)


def truncated_normal(mean: float, std_of: Callable[[Fans], float], a: float, b: float) -> Law:
    """N(mean, std^2) conditioned on mean + std*a <= x <= mean + std*b (bounds in std units).

    Sampled by the inverse CDF, as torch's ``trunc_normal_`` does: u ~ U(Phi(a), Phi(b)),
    x = mean + std * Phi^-1(u).
    """
    cdf_a, cdf_b = special.ndtr(a), special.ndtr(b)

    def sample(shape, fans, rng):
        z = special.ndtri(rng.uniform(cdf_a, cdf_b, size=shape))
        return mean + std_of(fans) * np.clip(z, a, b)

    def moments(shape, fans):
        unit = stats.truncnorm(a, b)
        return mean + std_of(fans) * float(unit.mean()), std_of(fans) * float(unit.std())

    return Law(sample=sample, moments=moments)


def orthogonal(gain: float) -> Law:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, times `gain`.

    The tensor is viewed as a matrix of ``shape[0]`` rows (PyTorch's ``orthogonal_``);
    the sign of R's diagonal is folded into Q so that Q is Haar-distributed.
    Every entry has variance gain^2 / max(rows, cols).
    """
    def as_matrix(shape):
        rows = shape[0]
        return rows, math.prod(shape) // rows if rows else 0

    def sample(shape, fans, rng):
        rows, cols = as_matrix(shape)
        flat = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return gain * q.reshape(shape)

    def moments(shape, fans):
        return 0.0, abs(gain) / math.sqrt(max(as_matrix(shape)))

    return Law(sample=sample, moments=moments, min_rank=2)


def identity(gain: float) -> Law:
    """``gain`` times the identity matrix (ones on the main diagonal of a possibly non-square matrix)."""
    def moments(shape, fans):
        values = gain * np.eye(*shape)
        return float(values.mean()), float(values.std())

    return Law(sample=lambda shape, fans, rng: gain * np.eye(*shape), moments=moments, min_rank=2, max_rank=2)


def variance_scaling(scale: float, mode: str, distribution: str) -> Law:
    """Zero-mean law with variance ``scale / n``, n = fan_in, fan_out or (fan_in + fan_out) / 2.

    distribution = "normal" (alias "untruncated_normal"): N(0, scale/n);
    "uniform": U(-sqrt(3 scale/n), +sqrt(3 scale/n));
    "truncated_normal": N(0, s^2) truncated to +-2 s with s = sqrt(scale/n) / 0.8796...,
    so the variance stays scale/n (Keras and JAX semantics).
    """
    Fans(1, 1).by_mode(mode)  # validate the mode now, not at the first draw

    def std_of(fans: Fans) -> float:
        return math.sqrt(scale / fans.by_mode(mode))

    if distribution in ("normal", "untruncated_normal"):
        return normal(0.0, std_of)
    if distribution == "uniform":
        return symmetric_uniform(lambda fans: math.sqrt(3.0) * std_of(fans))
    if distribution == "truncated_normal":
        return truncated_normal(0.0, lambda fans: std_of(fans) / TRUNCATED_NORMAL_STD, -2.0, 2.0)
    raise unknown_choice("distribution", "distribution", str(distribution),
                         ("normal", "untruncated_normal", "uniform", "truncated_normal"))
