"""Gaussian expectations: Gauss-Hermite for small variances, composite Gauss-Legendre otherwise.

``expect(f, q)`` = E[f(sqrt(q) z)], z ~ N(0, 1); ``expect_pair(f, q, c)`` = E[f(u1, u2)] for a
centred Gaussian pair with Var u1 = Var u2 = q and correlation c, written u1 = sqrt(q) z1,
u2 = sqrt(q) (c z1 + sqrt(1 - c^2) z2) (Poole et al. 2016, eq. 5).

Gauss-Hermite (probabilists' weight exp(-z^2/2)) is exact for polynomials of degree < 2n and,
for the smooth activations here (tanh, sigmoid, erf, gelu, silu), accurate to 1e-9 while
q <= 2. For larger q, phi(sqrt(q) z) turns within 1/sqrt(q) of z = 0 (and u2 = 0), which a
polynomial rule resolves poorly, so the rule becomes composite Gauss-Legendre on [-9, 9] with
unit panels plus panels of width 1/sqrt(q) * 2^k around the turn (accurate to 1e-9 up to
q = 1e4 in tests/theory). Kinked activations (relu, leaky_relu, linear) use closed forms
(`initlab.theory.activations`).

>>> round(expect(lambda u: u ** 4, q=1.0), 12)
3.0
>>> round(expect(lambda u: u ** 2, q=50.0), 9)
50.0
>>> round(expect_pair(lambda a, b: a * b, q=2.0, c=0.25), 12)
0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss

POINTS_1D = 201
POINTS_2D = 101
HERMITE_MAX_Q = 2.0
EDGE = 9.0  # P(|z| > 9) = 2e-19
LEGENDRE = leggauss(8)


@lru_cache(maxsize=None)
def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = hermegauss(n)
    return nodes, weights / math.sqrt(2.0 * math.pi)  # weights now sum to 1


def _legendre(centre: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (density included) of E over z ~ N(0, 1), one row per centre: unit panels
    on [-EDGE, EDGE] plus panels of width `width` * 2^k around `centre`, where the integrand turns."""
    centre = np.asarray(centre, dtype=np.float64).reshape(-1, 1)
    grid = np.broadcast_to(np.arange(-EDGE, EDGE + 1.0), (len(centre), int(2 * EDGE) + 1))
    steps = width * 2.0 ** np.arange(-3, max(0, math.ceil(math.log2(1.0 / width))) + 1) if width < 1 else []
    offsets = np.concatenate([[0.0], steps, -np.asarray(steps)])
    edges = np.sort(np.clip(np.concatenate([grid, centre + offsets], axis=1), -EDGE, EDGE), axis=1)
    low, high = edges[:, :-1, None], edges[:, 1:, None]
    x, w = LEGENDRE
    nodes = (low + high) / 2 + (high - low) / 2 * x
    weights = (high - low) / 2 * w * np.exp(-nodes * nodes / 2) / math.sqrt(2 * math.pi)
    return nodes.reshape(len(centre), -1), weights.reshape(len(centre), -1)


def expect(f: Callable[[np.ndarray], np.ndarray], q: float = 1.0, n: int = POINTS_1D) -> float:
    """E[f(u)] for u ~ N(0, q); `f` is vectorised."""
    root = math.sqrt(q)
    if q <= HERMITE_MAX_Q:
        nodes, weights = _hermite(n)
    else:
        nodes, weights = (a[0] for a in _legendre(np.zeros(1), 1.0 / root))
    return float(weights @ f(root * nodes))


def expect_pair(f: Callable[[np.ndarray, np.ndarray], np.ndarray], q: float, c: float,
                n: int = POINTS_2D) -> float:
    """E[f(u1, u2)], (u1, u2) centred Gaussian, variances q, correlation c in [-1, 1]."""
    root, c = math.sqrt(q), min(1.0, max(-1.0, c))
    s = math.sqrt(1.0 - c * c)
    if q <= HERMITE_MAX_Q:
        nodes, weights = _hermite(n)
        z1, z2 = nodes[:, None], nodes[None, :]
        return float(weights @ f(root * z1, root * (c * z1 + s * z2)) @ weights)
    z1, w1 = (a[0] for a in _legendre(np.zeros(1), 1.0 / root))
    if s < 1e-12:
        return float(w1 @ f(root * z1, root * c * z1))
    z2, w2 = _legendre(-c * z1 / s, 1.0 / (root * s))
    z1 = z1[:, None]
    return float(w1 @ (w2 * f(root * z1, root * (c * z1 + s * z2))).sum(axis=1))
