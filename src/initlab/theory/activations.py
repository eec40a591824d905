"""Activations as (phi, phi') pairs of vectorised NumPy callables, and their Gaussian moments.

The activations are the rows of `initlab.activations` that have a NumPy phi.

For a centred Gaussian pair (u1, u2) with variances q and correlation c = cos(theta), the
piecewise-linear family phi(x) = max(x, 0) + s min(x, 0) (relu s = 0, leaky_relu s, linear
s = 1) has closed forms (Cho & Saul 2009, the arc-cosine kernel):

    E[phi(u)^2]          = q (1 + s^2) / 2
    E[phi(u1) phi(u2)]   = q [s c + (1 - s)^2 (sqrt(1 - c^2) + (pi - theta) c) / (2 pi)]
    E[phi'(u1) phi'(u2)] = s + (1 - s)^2 (pi - theta) / (2 pi)

Smooth activations use quadrature (`initlab.theory.quadrature`).

>>> relu = activation("relu")
>>> relu.second_moment(3.0), relu.derivative_moment(3.0)
(1.5, 0.5)
>>> round(activation("tanh").derivative_moment(0.0), 12)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from initlab import activations as table
from initlab._checks import number
from initlab._errors import ArgumentError, unknown_choice
from initlab.theory.quadrature import expect, expect_pair

Array = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """phi and phi'; `slope` is set for the piecewise-linear family (closed-form moments)."""

    name: str
    phi: Array
    dphi: Array
    slope: float | None = None

    def second_moment(self, q: float) -> float:
        """E[phi(sqrt(q) z)^2], z ~ N(0, 1)."""
        if self.slope is not None:
            return q * (1.0 + self.slope ** 2) / 2.0
        return expect(lambda u: self.phi(u) ** 2, q)

    def derivative_moment(self, q: float) -> float:
        """E[phi'(sqrt(q) z)^2]."""
        if self.slope is not None:
            return (1.0 + self.slope ** 2) / 2.0
        return expect(lambda u: self.dphi(u) ** 2, q)

    def cross_moment(self, q: float, c: float) -> float:
        """E[phi(u1) phi(u2)], variances q, correlation c."""
        if self.slope is not None:
            s, c = self.slope, min(1.0, max(-1.0, c))
            arc = (math.sqrt(1.0 - c * c) + (math.pi - math.acos(c)) * c) / (2.0 * math.pi)
            return q * (s * c + (1.0 - s) ** 2 * arc)
        return expect_pair(lambda a, b: self.phi(a) * self.phi(b), q, c)

    def derivative_cross_moment(self, q: float, c: float) -> float:
        """E[phi'(u1) phi'(u2)], variances q, correlation c."""
        if self.slope is not None:
            s, c = self.slope, min(1.0, max(-1.0, c))
            return s + (1.0 - s) ** 2 * (math.pi - math.acos(c)) / (2.0 * math.pi)
        return expect_pair(lambda a, b: self.dphi(a) * self.dphi(b), q, c)


def _piecewise_linear(name: str, s: float) -> Activation:
    return Activation(name, lambda x: np.where(x > 0, x, s * x), lambda x: np.where(x > 0, 1.0, s), slope=s)


def _smooth(row: table.Activation) -> Activation:
    derivative = row.derivative
    return Activation(row.name, row.forward, lambda x: derivative(x, None))


# Every row of `initlab.activations` with a NumPy phi: closed forms where it has a slope, else quadrature.
NAMES = table.names("forward")
SMOOTH = {row.name: _smooth(row) for row in table.ACTIVATIONS if row.forward is not None and row.slope is None}


MAX_SLOPE = 100.0  # leaky_relu's negative slope is below 1 in practice; this keeps 1 + slope^2 far from overflow


def activation(name: str, slope: float = 0.01, argument: str = "activation") -> Activation:
    """The activation called `name`; `slope` is leaky_relu's negative slope (torch's default 0.01)."""
    row = table.BY_NAME.get(name) if isinstance(name, str) else None
    if row is None or row.forward is None:
        raise unknown_choice(argument, "activation", str(name), NAMES)
    if row.slope is None:
        return SMOOTH[name]
    if name != "leaky_relu":
        return _piecewise_linear(name, row.slope)
    slope = number("slope", slope)
    if abs(slope) > MAX_SLOPE:
        raise ArgumentError("slope", f"expected a number in [-{MAX_SLOPE:g}, {MAX_SLOPE:g}], got {slope:g}")
    return _piecewise_linear(name, slope)
