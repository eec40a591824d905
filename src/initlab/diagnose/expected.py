"""What mean-field theory expects of one forward and backward pass, from the weights as measured.

Layer l = 1..L has sigma_w2(l) = fan_in * mean(W^2), sigma_b2(l) = mean(b^2) (measured, so any init
works, layer by layer), phi(l) the activation after it (identity for none) and n(l) units. With
m0 = mean(X^2) of the batch and z ~ N(0, 1) (Poole et al. 2016):

    forward   q(1) = sigma_w2(1) m0 + sigma_b2(1),  q(l+1) = sigma_w2(l+1) M(l) + sigma_b2(l+1),
              M(l) = E[phi(l)(sqrt(q(l)) z)^2];  pre-activation std sqrt(q(l)),
              activation std sqrt(M(l) - E[phi(l)(sqrt(q(l)) z)]^2)
    backward  E[dz(l)^2] = E[phi(l)'(sqrt(q(l)) z)^2] * mean(W(l+1)^2) * fan_out(l+1) * E[dz(l+1)^2],
              anchored at the output layer: expected grad std(L) = measured grad std(L)

Finite width (Hanin & Rolnick 2018, generalised from relu to any phi and bias): for one input, the
log of its mean squared pre-activation over the n(l) units, log(|z(l)|^2 / (n(l) q(l))), has mean
D(l) + psi(n(l)/2) + log(2/n(l)) and variance V(l) + psi_1(n(l)/2). psi and psi_1 (di- and trigamma)
give the exact moments of log(chi2_n / n) for the layer's own draw: ~-1/n and ~2/n for wide
layers, -1.27 and 4.93 for an output of one unit. D(1) = V(1) = 0, and what earlier layers add is

    V(l+1) = s(l)^2 V(l) + r(l)^2 kappa(l) / n(l),   D(l+1) = s(l) D(l) - r(l)^2 kappa(l) / (2 n(l)),
    kappa = E[phi^4] / M^2 - 1 (relu 5, linear 2),
    s(l) = sigma_w2(l+1) E[u phi(u) phi'(u)] / q(l+1)   (d log q(l+1) / d log q(l); relu 1),
    r(l) = sigma_w2(l+1) M(l) / q(l+1),                 u ~ N(0, q(l))

(D: a factor with mean 1 and log-variance v has log-mean -v/2). For relu without bias
V(l) = 5 sum_{k<l} 1/n(k), so Var(l) ~ 5 sum_{k<l} 1/n(k) + 2/n(l), and D(l) = -V(l)/2. A Monte
Carlo test checks both for relu, tanh with bias and sigmoid. The band is the mean +- 2 standard
deviations of log(std) = half the above: sqrt(q(l)) exp(mean/2 -+ sqrt(Var(l))); it is compared with
the batch's root mean square (`LayerStats.in_band`).

>>> relu = activation("relu")
>>> e = expected(1.0, [2.0, 2.0], [0.0, 0.0], [relu, None], [100, 1], [2.0, 2.0 / 100], 0.5)
>>> [round(x.pre_std, 12) for x in e], round(e[0].grad_std, 12)  # 0.5 sqrt(1/2 * 2/100 * 1)
([1.414213562373, 1.414213562373], 0.05)
>>> round(math.log(e[1].band_high / e[1].band_low) ** 2 / 4, 6)  # Var = 5/100 + psi_1(1/2) = 5/100 + pi^2/2
4.984802
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, polygamma

from initlab.theory import Activation, activation
from initlab.theory.quadrature import expect

LINEAR = activation("linear")


@dataclass(frozen=True)
class Moments:
    """Gaussian moments of phi(u), u ~ N(0, q): E[phi^2], E[phi], E[phi^4], E[u phi phi'], E[phi'^2]."""

    second: float
    mean: float
    fourth: float
    u_phi_dphi: float
    dphi2: float


def moments(act: Activation | None, q: float) -> Moments:
    """Closed forms for the piecewise-linear family phi = max(u, 0) + s min(u, 0), else quadrature.

    >>> m = moments(activation("relu"), 2.0)
    >>> m.second, round(m.mean, 12), m.fourth, m.u_phi_dphi, m.dphi2
    (1.0, 0.564189583548, 6.0, 1.0, 0.5)
    """
    act = LINEAR if act is None else act
    if act.slope is not None:  # q = inf (a signal that overflowed) gives inf moments and a finite E[phi'^2]
        s = act.slope
        second = q * (1.0 + s * s) / 2.0
        return Moments(second, (1.0 - s) * math.sqrt(q / (2.0 * math.pi)), 1.5 * q * q * (1.0 + s ** 4), second,
                       (1.0 + s * s) / 2.0)
    if not math.isfinite(q):
        return Moments(*[math.nan] * 5)
    with np.errstate(all="ignore"):  # huge q: phi^4 may overflow to inf, which is the honest answer
        return Moments(act.second_moment(q), expect(act.phi, q), expect(lambda u: act.phi(u) ** 4, q),
                       expect(lambda u: u * act.phi(u) * act.dphi(u), q), act.derivative_moment(q))


@dataclass(frozen=True)
class Expected:
    pre_std: float
    band_low: float
    band_high: float
    activation_std: float
    grad_std: float


def _ratio(x: float, y: float) -> float:
    """x / y with 0/0 = 0 (a layer whose weights and biases are all zero passes no fluctuation)."""
    if y == 0.0:
        return 0.0
    return x / y if math.isfinite(y) else math.nan


def forward_variances(m0: float, sigma_w2: Sequence[float], sigma_b2: Sequence[float],
                      acts: Sequence[Activation | None]) -> tuple[list[float], list[Moments]]:
    """q(l) for l = 1..L and the moments of phi(l) at q(l)."""
    qs, ms, previous = [], [], m0
    for w2, b2, act in zip(sigma_w2, sigma_b2, acts):
        qs.append(w2 * previous + b2)
        ms.append(moments(act, qs[-1]))
        previous = ms[-1].second
    return qs, ms


def chi2_log_moments(n: int) -> tuple[float, float]:
    """Mean and variance of log(chi2_n / n).

    >>> [round(x, 4) for x in chi2_log_moments(1)], [round(x, 4) for x in chi2_log_moments(100)]
    ([-1.2704, 4.9348], [-0.01, 0.0202])
    """
    return float(digamma(n / 2) + math.log(2 / n)), float(polygamma(1, n / 2))


def upstream_log_moments(qs: Sequence[float], ms: Sequence[Moments], sigma_w2: Sequence[float],
                         units: Sequence[int]) -> list[tuple[float, float]]:
    """(D(l), V(l)) of the module docstring: the mean and variance that the layers before l add to
    log of one input's q(l)."""
    out = [(0.0, 0.0)]
    for layer in range(1, len(qs)):
        w2, q, prev = sigma_w2[layer], qs[layer], ms[layer - 1]
        kappa = _ratio(prev.fourth, prev.second * prev.second) - 1.0 if prev.second > 0 else 0.0
        s, r = _ratio(w2 * prev.u_phi_dphi, q), _ratio(w2 * prev.second, q)
        noise = r * r * kappa / units[layer - 1]
        d, v = out[-1]
        out.append((s * d - noise / 2, s * s * v + noise))
    return out


def expected(m0: float, sigma_w2: Sequence[float], sigma_b2: Sequence[float], acts: Sequence[Activation | None],
             units: Sequence[int], backward_gain: Sequence[float], last_grad_std: float) -> list[Expected]:
    """Expected statistics of every layer; `backward_gain[l]` = mean(W(l)^2) * fan_out(l)."""
    qs, ms = forward_variances(m0, sigma_w2, sigma_b2, acts)
    upstream = upstream_log_moments(qs, ms, sigma_w2, units)
    grad2 = [last_grad_std * last_grad_std]
    for layer in range(len(qs) - 2, -1, -1):
        grad2.insert(0, ms[layer].dphi2 * backward_gain[layer + 1] * grad2[0])
    out = []
    with np.errstate(all="ignore"):
        for q, m, (d, v), n, g2 in zip(qs, ms, upstream, units, grad2):
            std = math.sqrt(q) if q >= 0 else math.nan
            mean, var = chi2_log_moments(n)
            centre, width = d + mean, math.sqrt(v + var) if math.isfinite(v) else math.nan
            act_var = m.second - m.mean * m.mean
            out.append(Expected(std, float(std * np.exp(centre / 2 - width)), float(std * np.exp(centre / 2 + width)),
                                math.sqrt(max(act_var, 0.0)) if math.isfinite(act_var) else math.nan,
                                math.sqrt(g2) if g2 >= 0 else math.nan))
    return out
