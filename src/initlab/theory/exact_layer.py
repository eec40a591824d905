"""The exact law of one layer's factor on the signal length, for zero-bias piecewise-linear layers.

A layer of n units with Gaussian weights W_ij ~ N(0, sigma_w2 / n) and zero bias, fed by
phi(u) = max(u, 0) + a min(u, 0) (relu a = 0, leaky relu 0 < |a| < 1, linear a = 1), maps the
conditional mean square Q of its input's pre-activations z = sqrt(Q) g, g ~ N(0, I_n), to

    Q_next = sigma_w2 |phi(z)|^2 / n = Q sigma_w2 |phi(g)|^2 / n

(phi is positively homogeneous, so Q factors out). Relative to mean field (q_next = sigma_w2 q (1 + a^2) / 2)
log Q gains log F, F = 2 |phi(g)|^2 / (n (1 + a^2)), whatever sigma_w2 is, and F is independent of the
past (the direction and length of g are). Writing |g|^2 ~ chi2_n (independent of g's direction) and B the
share of |g|^2 on the K ~ Bin(n, 1/2) positive units (B | K ~ Beta(K/2, (n - K)/2)),

    |phi(g)|^2 = |g|^2 (a^2 + (1 - a^2) B),

so log F = log(chi2_n / n) + log(a^2 + (1 - a^2) B) - log((1 + a^2) / 2), the two terms independent:

- linear (a^2 = 1): the first term only: mean psi(n/2) + log(2/n), variance psi_1(n/2);
- relu (a = 0): |phi(g)|^2 ~ chi2_K with K ~ Bin(n, 1/2), so with psi, psi_1 the di- and trigamma

      E log F = E_K[psi(K/2)] + log(4/n),   Var log F = E_K[psi_1(K/2)] + Var_K[psi(K/2)];

  K = 0 (all n units negative, probability 2^-n) makes Q_next = 0 and every later q 0 (log q = -inf):
  the moments are those of networks in which it does not happen (K conditioned on K >= 1); at
  n = 16 that leaves out one layer in 65,536;
- leaky relu (any other a): from the Laplace transform of F (no atom at 0),
  L(t) = [((1 + 2 c t)^-1/2 + (1 + 2 a^2 c t)^-1/2) / 2]^n with c = 2 / (n (1 + a^2)), by the Mellin
  expansion of E[F^-s] at s = 0 (Frullani: log F = int_0^inf (e^-t - e^-tF) dt / t), with
  A0 = int_0^1 (L - 1) dt / t + int_1^inf L dt / t and A1 the same integrals weighted by log t:

      E log F = -(gamma + A0),   Var log F = 2 A1 - A0^2 - pi^2 / 6

  (two pairs of `scipy.integrate.quad` calls, accurate to ~1e-10 at any n; the tests check them
  against the Beta mixture integrated directly).

The first-order rule (`initlab.theory.finite_width.propagate` with exact=False) gives kappa / n and
-kappa / (2 n): relu 5/n = 0.3125 at n = 16 where the exact variance is 0.420 (0.156 and 0.177 at 32).

>>> [round(x, 4) for x in relu_log_moments(16)], [round(x, 4) for x in relu_log_moments(32)]
([-0.1764, 0.4196], [-0.0825, 0.1775])
>>> [round(x, 4) for x in piecewise_linear_log_moments(0.2, 16)]
[-0.1528, 0.3419]
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import integrate
from scipy.special import digamma, polygamma
from scipy.stats import binom


@lru_cache(maxsize=256)
def relu_log_moments(n: int) -> tuple[float, float]:
    """(E, Var) of log F for a relu layer of n units (module doc), conditioned on K >= 1."""
    k = np.arange(1, n + 1)
    p = binom.pmf(k, n, 0.5)
    p = p / p.sum()  # conditioned on K >= 1
    psi = digamma(k / 2)
    mean_psi = float(p @ psi)
    return mean_psi + math.log(4 / n), float(p @ polygamma(1, k / 2) + p @ (psi - mean_psi) ** 2)


def _quad(f, low: float, high: float) -> float:
    return integrate.quad(f, low, high, limit=200, epsabs=1e-13, epsrel=1e-12)[0]


@lru_cache(maxsize=256)
def _leaky_log_moments(a2: float, n: int) -> tuple[float, float]:
    c = 2.0 / (n * (1.0 + a2))

    def log_laplace(t: float) -> float:  # log L(t), accurate near t = 0 (log1p/expm1)
        return n * math.log1p(0.5 * (math.expm1(-0.5 * math.log1p(2 * c * t))
                                     + math.expm1(-0.5 * math.log1p(2 * a2 * c * t))))

    a0 = _quad(lambda t: math.expm1(log_laplace(t)) / t, 0.0, 1.0) + \
        _quad(lambda t: math.exp(log_laplace(t)) / t, 1.0, math.inf)
    a1 = _quad(lambda t: math.log(t) * math.expm1(log_laplace(t)) / t, 0.0, 1.0) + \
        _quad(lambda t: math.log(t) * math.exp(log_laplace(t)) / t, 1.0, math.inf)
    return -(np.euler_gamma + a0), 2.0 * a1 - a0 * a0 - math.pi ** 2 / 6.0


def piecewise_linear_log_moments(leak: float, n: int) -> tuple[float, float]:
    """(E, Var) of log F for a zero-bias layer of n units fed by max(u, 0) + leak min(u, 0) (module doc).

    >>> piecewise_linear_log_moments(1.0, 10) == (float(digamma(5) + math.log(2 / 10)), float(polygamma(1, 5)))
    True
    """
    a2 = float(leak) ** 2
    if a2 == 1.0:
        return float(digamma(n / 2) + math.log(2 / n)), float(polygamma(1, n / 2))
    if a2 == 0.0:
        return relu_log_moments(int(n))
    return _leaky_log_moments(a2, int(n))
