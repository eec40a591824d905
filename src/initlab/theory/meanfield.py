"""Mean-field signal propagation through a deep dense network at initialization.

Weights W_ij ~ N(0, sigma_w^2 / fan_in), biases b_i ~ N(0, sigma_b^2), h(l+1) = W phi(h(l)) + b.
For wide layers the pre-activations are Gaussian and (Poole et al. 2016; Schoenholz et al. 2017):

    length map       q(l+1) = sigma_w^2 E[phi(sqrt(q(l)) z)^2] + sigma_b^2,  fixed point q*
    slope            chi_1  = sigma_w^2 E[phi'(sqrt(q*) z)^2]
    correlation map  c(l+1) = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q*,
                     (u1, u2) Gaussian, variances q*, correlation c(l); c = 1 is a fixed point
    c-map slope      chi_c(c) = sigma_w^2 E[phi'(u1) phi'(u2)]   (chi_c(1) = chi_1)
    depth scale      xi_c = -1 / ln chi_1 (ordered, chi_1 < 1), -1 / ln chi_c(c*) (chaotic, chi_1 > 1,
                     c* < 1 the stable fixed point), infinite at criticality (chi_1 = 1)

Signals (and gradients) survive about 6 xi_c layers (Schoenholz et al. 2017, fig. 5).

>>> t = theory("tanh", sigma_w2=1.0, sigma_b2=0.0)
>>> t.q_star, t.chi_1, t.phase
(0.0, 1.0, 'critical')
>>> round(critical_sigma_w2("relu", 0.0), 12)
2.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq

from initlab._errors import ArgumentError
from initlab._checks import number
from initlab.theory.activations import Activation, activation

MAX_VARIANCE = 1e4  # largest sigma_w^2 or sigma_b^2 theory() accepts: the quadrature is tested up to q = 1e4
CRITICAL_TOLERANCE = 1e-6  # |chi_1 - 1| below this is 'critical'
TRAINABLE_DEPTHS = 6.0  # trainable depth ~ 6 xi_c (Schoenholz et al. 2017)


def _act(act: str | Activation, slope: float = 0.01) -> Activation:
    return act if isinstance(act, Activation) else activation(act, slope)


def _variances(sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    return (number("sigma_w2", sigma_w2, non_negative=True), number("sigma_b2", sigma_b2, non_negative=True))


def q_map(q: float, act: str | Activation, sigma_w2: float, sigma_b2: float) -> float:
    """One layer of the length map: sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2.

    >>> q_map(1.0, "linear", 1.5, 0.0)
    1.5
    """
    return sigma_w2 * _act(act).second_moment(q) + sigma_b2


def q_by_depth(q0: float, depth: int, act: str | Activation, sigma_w2: float, sigma_b2: float) -> list[float]:
    """[q(0), q(1), ..., q(depth)] starting from the input's q(0) (its mean squared entry)."""
    phi, qs = _act(act), [float(q0)]
    for _ in range(depth):
        qs.append(q_map(qs[-1], phi, sigma_w2, sigma_b2))
    return qs


def q_star(act: str | Activation, sigma_w2: float, sigma_b2: float) -> float:
    """The stable fixed point of the length map; inf when q grows without bound, nan when
    every q is a fixed point (piecewise-linear phi with sigma_w^2 E[phi'^2] = 1 and sigma_b = 0).

    >>> q_star("linear", 0.5, 0.1)
    0.2
    >>> q_star("relu", 3.0, 0.0)
    inf
    """
    phi = _act(act)
    sigma_w2, sigma_b2 = _variances(sigma_w2, sigma_b2)
    if phi.slope is not None:  # q(l+1) = a q(l) + sigma_b^2 exactly
        a = sigma_w2 * (1.0 + phi.slope ** 2) / 2.0
        if a < 1.0:
            return sigma_b2 / (1.0 - a)
        return math.nan if a == 1.0 and sigma_b2 == 0.0 else math.inf
    gap = lambda q: q_map(q, phi, sigma_w2, sigma_b2) - q  # noqa: E731
    low = 0.0 if sigma_b2 > 0 else 1e-12
    if gap(low) <= 0.0:  # sigma_b = 0 and q = 0 is the stable fixed point
        return 0.0
    high = 1.0
    while gap(high) > 0.0:
        high *= 2.0
        if high > 1e8:
            return math.inf
    return float(brentq(gap, low, high, xtol=1e-15, rtol=1e-14))


def chi_1(act: str | Activation, sigma_w2: float, sigma_b2: float, q: float | None = None) -> float:
    """sigma_w^2 E[phi'(sqrt(q*) z)^2], the mean squared singular value of a layer's Jacobian."""
    phi = _act(act)
    q = q_star(phi, sigma_w2, sigma_b2) if q is None else q
    if phi.slope is None and not math.isfinite(q):
        return math.inf
    return sigma_w2 * phi.derivative_moment(q if math.isfinite(q) else 1.0)


def c_map(c: float, q: float, act: str | Activation, sigma_w2: float, sigma_b2: float) -> float:
    """One layer of the correlation map for two inputs that both have length q (= q*).

    >>> round(c_map(0.0, 1.0, "relu", 2.0, 0.0), 12) == round(1 / math.pi, 12)
    True
    """
    return (sigma_w2 * _act(act).cross_moment(q, c) + sigma_b2) / q


def chi_c(c: float, q: float, act: str | Activation, sigma_w2: float) -> float:
    """Slope of the correlation map at c: sigma_w^2 E[phi'(u1) phi'(u2)]."""
    return sigma_w2 * _act(act).derivative_cross_moment(q, c)


def c_star(act: str | Activation, sigma_w2: float, sigma_b2: float, q: float | None = None) -> float:
    """The stable fixed point of the correlation map: 1 in the ordered phase, c* < 1 in the chaotic one."""
    phi = _act(act)
    q = q_star(phi, sigma_w2, sigma_b2) if q is None else q
    if not math.isfinite(q) or q == 0.0 or chi_1(phi, sigma_w2, sigma_b2, q) <= 1.0:
        return 1.0
    gap = lambda c: c_map(c, q, phi, sigma_w2, sigma_b2) - c  # noqa: E731
    if gap(0.0) <= 0.0:  # odd phi, sigma_b = 0: uncorrelated inputs stay uncorrelated
        return 0.0
    delta = 1e-2
    while gap(1.0 - delta) >= 0.0:
        delta /= 10.0
        if delta < 1e-13:
            return 1.0
    return float(brentq(gap, 0.0, 1.0 - delta, xtol=1e-14))


def critical_sigma_w2(act: str | Activation, sigma_b2: float, slope: float = 0.01) -> float:
    """The sigma_w^2 with chi_1 = 1 for this sigma_b^2: the order/chaos boundary.

    >>> critical_sigma_w2("tanh", 0.0)
    1.0
    """
    phi = _act(act, slope)
    sigma_b2 = number("sigma_b2", sigma_b2, non_negative=True)
    if phi.slope is not None:
        return 2.0 / (1.0 + phi.slope ** 2)
    if phi.name in ("tanh", "erf") and sigma_b2 == 0.0:  # q* = 0 up to chi_1 = sigma_w^2 phi'(0)^2 = 1
        return 1.0 / float(phi.dphi(0.0)) ** 2
    excess = lambda w: chi_1(phi, w, sigma_b2) - 1.0  # noqa: E731
    low, high = 1e-3, 1.0
    while excess(high) < 0.0:
        low, high = high, high * 2.0
        if high > 1e6:
            raise ArgumentError("sigma_b2", f"no critical sigma_w2 below 1e6 for {phi.name} at sigma_b2={sigma_b2:g}")
    found = float(brentq(excess, low, high, xtol=1e-13, rtol=1e-13))
    if abs(excess(found)) > CRITICAL_TOLERANCE:  # chi_1 jumped past 1: q* diverges first (gelu, silu)
        raise ArgumentError("sigma_b2", f"{phi.name} has no critical sigma_w2 at sigma_b2={sigma_b2:g} "
                         f"(q* diverges at sigma_w2 ~ {found:.4g} while chi_1 < 1)")
    return found


@dataclass(frozen=True)
class Theory:
    """The mean-field numbers of one (activation, sigma_w^2, sigma_b^2)."""

    activation: str
    sigma_w2: float
    sigma_b2: float
    q_star: float
    chi_1: float
    c_star: float
    xi_c: float
    critical_sigma_w2: float
    phase: str

    @property
    def trainable_depth(self) -> float:
        return TRAINABLE_DEPTHS * self.xi_c

    def to_json(self) -> dict:
        finite = lambda x: x if math.isfinite(x) else None  # noqa: E731
        return {"activation": self.activation, "sigma_w2": self.sigma_w2, "sigma_b2": self.sigma_b2,
                "q_star": finite(self.q_star), "chi_1": finite(self.chi_1), "c_star": self.c_star,
                "xi_c": finite(self.xi_c), "trainable_depth": finite(self.trainable_depth),
                "critical_sigma_w2": finite(self.critical_sigma_w2), "phase": self.phase}


def phase_of(chi: float) -> str:
    if abs(chi - 1.0) < CRITICAL_TOLERANCE:
        return "critical"
    return "ordered" if chi < 1.0 else "chaotic"


def theory(act: str, sigma_b2: float, sigma_w2: float | None = None, slope: float = 0.01) -> Theory:
    """Everything at once; sigma_w2 defaults to the critical one for sigma_b2.

    Both variances must be at most `MAX_VARIANCE` (1e4): for larger ones q* lies where the
    Gaussian quadrature (`initlab.theory.quadrature`) is no longer checked, and the numbers would
    be an artefact of it.
    """
    phi = activation(act, slope)
    sigma_b2 = number("sigma_b2", sigma_b2, non_negative=True, maximum=MAX_VARIANCE)
    if sigma_w2 is not None:
        sigma_w2 = number("sigma_w2", sigma_w2, non_negative=True, maximum=MAX_VARIANCE)
    try:
        critical = critical_sigma_w2(phi, sigma_b2)
    except ValueError:
        if sigma_w2 is None:
            raise
        critical = math.nan
    sigma_w2, sigma_b2 = _variances(critical if sigma_w2 is None else sigma_w2, sigma_b2)
    q, chi, c, xi, phase = depth_scale(phi, sigma_w2, sigma_b2)
    return Theory(phi.name, sigma_w2, sigma_b2, q, chi, c, xi, critical, phase)


def depth_scale(act: str | Activation, sigma_w2: float, sigma_b2: float) -> tuple[float, float, float, float, str]:
    """(q*, chi_1, c*, xi_c, phase) without the critical line (what the phase diagram needs).

    >>> q, chi, c, xi, phase = depth_scale("relu", 1.5, 0.1)
    >>> round(xi, 6), phase
    (3.476059, 'ordered')
    """
    phi = _act(act)
    sigma_w2, sigma_b2 = _variances(sigma_w2, sigma_b2)
    q = q_star(phi, sigma_w2, sigma_b2)
    chi = chi_1(phi, sigma_w2, sigma_b2, q)
    phase = phase_of(chi)
    c = c_star(phi, sigma_w2, sigma_b2, q) if phase == "chaotic" else 1.0
    if phase == "critical" or not math.isfinite(q):
        xi = math.inf
    else:
        slope_at = chi if phase == "ordered" else chi_c(c, q, phi, sigma_w2)
        xi = -1.0 / math.log(slope_at) if 0.0 < slope_at < 1.0 else (0.0 if slope_at == 0.0 else math.inf)
    return q, chi, c, xi, phase
