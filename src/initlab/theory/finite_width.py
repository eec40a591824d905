"""Finite-width fluctuations of the signal length: how far one network's log q strays from mean field.

For one input, layer l's pre-activations z(l) have mean square q(l) = |z(l)|^2 / n(l) over its n(l)
units. Write q(l) = Q(l) chi2_n(l) / n(l), where Q(l) is the mean square given all earlier layers'
weights (Hanin & Rolnick 2018, generalised from relu to any phi and bias). With u ~ N(0, q), the
Gaussian moments of the activation (`moments`)

    M = E[phi(u)^2],  E[phi'(u)^2],  E[u phi(u) phi'(u)] = q dM/dq (Stein),
    kappa = E[phi^4] / M^2 - 1       relative variance of phi(u)^2 (relu 5, linear 2),
    q^2 M'' = E[phi(u)^2 He_4(u / sqrt q)] / 4,   He_4(z) = z^4 - 6 z^2 + 3

describe the length map q -> q_next = sigma_w2 M(q) + sigma_b2 in log coordinates (`Step`):

    s = d log q_next / d log q = sigma_w2 E[u phi phi'] / q_next        (slope; relu 1)
    r = sigma_w2 M / q_next                                             (share of q_next the units carry)
    c = d^2 log q_next / d (log q)^2 = s (1 - s) + sigma_w2 q^2 M'' / q_next   (curvature; relu 0)

Layer l's n(l) units give Q(l+1) = sigma_w2 mean_i phi(z_i)^2 + sigma_b2, z_i ~ N(0, Q(l)) given the
past: a factor with mean 1 and log-variance r^2 kappa / n(l), hence log-mean -r^2 kappa / (2 n(l))
(Jensen). To first order in 1/n, D(l) = E[log Q(l) / q(l)] and V(l) = Var log Q(l) (q(l) the
mean-field value) follow (`propagate`)

    D(1) = V(1) = 0,
    V(l+1) = s^2 V(l) + r^2 kappa / n(l),
    D(l+1) = s D(l) - r^2 kappa / (2 n(l))  [+ c V(l) / 2 with the curvature term],

and the layer's own draw adds the exact moments of log(chi2_n / n) (`chi2_log_moments`):
mean psi(n/2) + log(2/n) ~ -1/n and variance psi_1(n/2) ~ 2/n (di- and trigamma). For relu without
bias (s = r = 1, c = 0, kappa = 5) this is Hanin & Rolnick's Var log q(L) = 5 sum_{l<L} 1/n(l) +
psi_1(n(L)/2), with 2/n(L) in place of psi_1 in their paper; D(L) = -V(L)/2. The curvature term is
second order in the fluctuation; it matters where c != 0 at the operating point (gelu with the bias
that makes s = 1, `initlab.torch.auto`) and is off by default (the init doctor's band omits it).

Exact where the law is known: a zero-bias layer fed by a piecewise-linear activation (relu, leaky relu,
linear; `Step.leak` set) multiplies Q by an independent factor whose log has exactly known moments
(`initlab.theory.exact_layer`), so `propagate` adds those (D += E log F, V += Var log F) in place of the
first-order terms: relu 0.420 per layer of 16 units where 5/n gives 0.3125 (0.177 and 0.156 at 32).
Everywhere else (a bias, a smooth activation) the first-order recursion above is what is used: an
approximation to first order in 1/n (Hanin & Rolnick's), good while V stays small (<~ 0.5); `exact=False`
gives it for every layer. Weights are taken as Gaussian: for other laws (uniform, truncated normal) both
are approximations, the weights' fourth moment entering at order 1/n.

>>> relu = step(moments(activation("relu"), 1.0), 2.0, 0.0)
>>> relu.slope, relu.share, relu.kappa, relu.curvature, relu.leak
(1.0, 1.0, 5.0, 0.0, 0.0)
>>> [(round(d, 4), round(v, 4)) for d, v in upstream_log_moments([relu, relu], [100, 100], exact=False)]
[(0.0, 0.0), (-0.025, 0.05), (-0.05, 0.1)]
>>> [(round(d, 4), round(v, 4)) for d, v in upstream_log_moments([relu, relu], [100, 100])]  # exact
[(0.0, 0.0), (-0.0254, 0.0519), (-0.0508, 0.1039)]
>>> [round(x, 4) for x in log_q_moments([relu, relu], [100, 100, 100], exact=False)[-1]]  # + chi2 terms at n = 100
[-0.06, 0.1202]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, polygamma

from initlab.theory.activations import Activation, activation
from initlab.theory.exact_layer import piecewise_linear_log_moments
from initlab.theory.quadrature import expect

LINEAR = activation("linear")


def ratio(x: float, y: float) -> float:
    """x / y with 0/0 = 0 (a layer whose weights and biases are all zero passes no fluctuation), nan over inf."""
    if y == 0.0:
        return 0.0
    return x / y if math.isfinite(y) else math.nan


@dataclass(frozen=True)
class Moments:
    """Gaussian moments of phi(u), u ~ N(0, q)."""

    second: float      # M = E[phi^2]
    mean: float        # E[phi]
    fourth: float      # E[phi^4]
    u_phi_dphi: float  # E[u phi phi'] = q dM/dq
    dphi2: float       # E[phi'^2]
    curvature: float   # q^2 d^2M/dq^2 = E[phi(u)^2 He_4(u / sqrt q)] / 4
    leak: float | None = None  # a of a piecewise-linear phi = max(u, 0) + a min(u, 0) (its law is exact), else None

    @property
    def kappa(self) -> float:
        """E[phi^4] / M^2 - 1: relative variance of phi(u)^2 (0 when M is 0 or nan)."""
        return ratio(self.fourth, self.second * self.second) - 1.0 if self.second > 0 else 0.0


def _hermite4(z):
    return z ** 4 - 6.0 * z * z + 3.0


def moments(act: Activation | None, q: float) -> Moments:
    """Closed forms for the piecewise-linear family phi = max(u, 0) + s min(u, 0) (None: linear), else quadrature.

    >>> m = moments(activation("relu"), 2.0)
    >>> m.second, round(m.mean, 12), m.fourth, m.u_phi_dphi, m.dphi2, m.curvature, m.kappa
    (1.0, 0.564189583548, 6.0, 1.0, 0.5, 0.0, 5.0)
    >>> round(moments(activation("gelu"), 1.0).curvature, 6)  # q^2 M''(q) > 0: gelu's M is convex at q = 1
    0.038287
    """
    act = LINEAR if act is None else act
    if act.slope is not None:  # q = inf (a signal that overflowed) gives inf moments and a finite E[phi'^2]
        s = act.slope
        second = q * (1.0 + s * s) / 2.0
        return Moments(second, (1.0 - s) * math.sqrt(q / (2.0 * math.pi)), 1.5 * q * q * (1.0 + s ** 4), second,
                       (1.0 + s * s) / 2.0, 0.0, s)
    if not math.isfinite(q):
        return Moments(*[math.nan] * 6)
    root = math.sqrt(q)
    with np.errstate(all="ignore"):  # huge q: phi^4 may overflow to inf, which is the honest answer
        curvature = expect(lambda u: act.phi(u) ** 2 * _hermite4(u / root), q) / 4.0 if q > 0 else 0.0
        return Moments(act.second_moment(q), expect(act.phi, q), expect(lambda u: act.phi(u) ** 4, q),
                       expect(lambda u: u * act.phi(u) * act.dphi(u), q), act.derivative_moment(q), curvature)


@dataclass(frozen=True)
class Step:
    """The length map q -> q_next = sigma_w2 M(q) + sigma_b2 at one q, in log coordinates (module doc)."""

    q_next: float
    slope: float      # s = d log q_next / d log q
    share: float      # r = sigma_w2 M / q_next
    kappa: float      # of the activation feeding the map
    curvature: float  # c = d^2 log q_next / d (log q)^2
    leak: float | None = None  # set for a zero-bias map fed by a piecewise-linear phi: its law is exact

    @classmethod
    def at(cls, m: Moments, sigma_w2: float, q_next: float) -> Step:
        """The step whose output second moment is `q_next` (= sigma_w2 m.second + sigma_b2); exact (`leak`)
        when the activation is piecewise linear and the weights carry all of q_next (zero bias)."""
        s = ratio(sigma_w2 * m.u_phi_dphi, q_next)
        share = ratio(sigma_w2 * m.second, q_next)
        return cls(q_next, s, share, m.kappa, s * (1.0 - s) + ratio(sigma_w2 * m.curvature, q_next),
                   m.leak if share == 1.0 else None)


def step(m: Moments, sigma_w2: float, sigma_b2: float) -> Step:
    """The length map of a layer with weight variance sigma_w2 / fan_in and bias variance sigma_b2 fed by
    an activation with moments `m` (module doc)."""
    return Step.at(m, sigma_w2, sigma_w2 * m.second + sigma_b2)


def chi2_log_moments(n: int) -> tuple[float, float]:
    """Mean and variance of log(chi2_n / n): psi(n/2) + log(2/n) and psi_1(n/2).

    >>> [round(x, 4) for x in chi2_log_moments(1)], [round(x, 4) for x in chi2_log_moments(100)]
    ([-1.2704, 4.9348], [-0.01, 0.0202])
    """
    return float(digamma(n / 2) + math.log(2 / n)), float(polygamma(1, n / 2))


def propagate(d: float, v: float, through: Step, n: int, curvature: bool = False,
              exact: bool = True) -> tuple[float, float]:
    """(D, V) of log Q after `through`, from (D, V) before it and the width `n` of the layer feeding it:
    the exact law's moments where `through.leak` is set (and `exact`), else the first-order terms."""
    if exact and through.leak is not None:
        mean, var = piecewise_linear_log_moments(through.leak, int(n))
        return d + mean, v + var
    noise = through.share * through.share * through.kappa / n
    drift = through.slope * d - noise / 2
    if curvature:
        drift += through.curvature * v / 2
    return drift, through.slope * through.slope * v + noise


def upstream_log_moments(steps: Sequence[Step], widths: Sequence[int],
                         curvature: bool = False, exact: bool = True) -> list[tuple[float, float]]:
    """(D(l), V(l)) for l = 1..len(steps) + 1: what the layers before l add to the mean and variance of
    log Q(l); `steps[k]` maps layer k+1 into layer k+2, whose input comes from `widths[k]` units."""
    out = [(0.0, 0.0)]
    for through, n in zip(steps, widths, strict=False):
        out.append(propagate(*out[-1], through, n, curvature, exact))
    return out


def log_q_moments(steps: Sequence[Step], widths: Sequence[int], curvature: bool = False,
                  exact: bool = True) -> list[tuple[float, float]]:
    """Mean and variance of log(q(l) / mean-field q(l)) for l = 1..L: D(l) + psi(n(l)/2) + log(2/n(l)) and
    V(l) + psi_1(n(l)/2); `widths` = n(1)..n(L), `steps` the L - 1 maps between them."""
    if len(steps) != len(widths) - 1:
        raise ValueError(f"steps, widths: expected L widths and L - 1 steps, got {len(widths)} and {len(steps)}")
    out = []
    for (d, v), n in zip(upstream_log_moments(steps, widths, curvature, exact), widths):
        mean, var = chi2_log_moments(n)
        out.append((d + mean, v + var))
    return out
