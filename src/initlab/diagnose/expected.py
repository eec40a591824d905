"""What mean-field theory expects of one forward and backward pass, from the weights as measured.

Layer l = 1..L has sigma_w2(l) = fan_in * mean(W^2), sigma_b2(l) = mean(b^2) (measured, so any init
works, layer by layer), phi(l) the activation after it (identity for none) and n(l) units. With
m0 = mean(X^2) of the batch and z ~ N(0, 1) (Poole et al. 2016):

    forward   q(1) = sigma_w2(1) m0 + sigma_b2(1),  q(l+1) = sigma_w2(l+1) M(l) + sigma_b2(l+1),
              M(l) = E[phi(l)(sqrt(q(l)) z)^2];  pre-activation std sqrt(q(l)),
              activation std sqrt(M(l) - E[phi(l)(sqrt(q(l)) z)]^2)
    backward  E[dz(l)^2] = E[phi(l)'(sqrt(q(l)) z)^2] * mean(W(l+1)^2) * fan_out(l+1) * E[dz(l+1)^2],
              anchored at the output layer: expected grad std(L) = measured grad std(L)

Finite width (Hanin & Rolnick 2018, generalised from relu to any phi and bias;
`initlab.theory.finite_width` holds the formulas): for one input, the log of its mean squared
pre-activation over the n(l) units, log(|z(l)|^2 / (n(l) q(l))), has mean D(l) + psi(n(l)/2) +
log(2/n(l)) and variance V(l) + psi_1(n(l)/2), where psi(n/2) + log(2/n) and psi_1(n/2) are the
exact moments of log(chi2_n / n) for the layer's own draw (~-1/n and ~2/n for wide layers, -1.27
and 4.93 for an output of one unit) and D, V what earlier layers add (`upstream_log_moments`): exact for
a layer with zero bias fed by relu, leaky relu or no activation (`initlab.theory.exact_layer`; relu
0.420 per layer of 16 units where the first-order 5/n gives 0.3125), elsewhere the first-order recursion
without the curvature term (an approximation to first order in 1/n: a bias, a smooth activation). A
Monte Carlo test checks both (relu at widths 16, 32 and 16/128 over 1,000 nets; tanh with bias and
sigmoid). The band is the mean +- 2 standard deviations of log(std) = half the above:
sqrt(q(l)) exp(mean/2 -+ sqrt(Var(l))); it is compared with the batch's root mean square
(`LayerStats.in_band`).

>>> relu = activation("relu")
>>> e = expected(1.0, [2.0, 2.0], [0.0, 0.0], [relu, None], [100, 1], [2.0, 2.0 / 100], 0.5)
>>> [round(x.pre_std, 12) for x in e], round(e[0].grad_std, 12)  # 0.5 sqrt(1/2 * 2/100 * 1)
([1.414213562373, 1.414213562373], 0.05)
>>> from initlab.theory.exact_layer import relu_log_moments
>>> var = relu_log_moments(100)[1] + math.pi ** 2 / 2  # the relu layer's exact term (5/100 to first order) + psi_1(1/2)
>>> round(var, 6), round(math.log(e[1].band_high / e[1].band_low) ** 2 / 4, 6)
(4.986742, 4.986742)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from initlab.theory import Activation, activation, finite_width  # activation: used by the doctests
from initlab.theory.finite_width import LINEAR, Moments, Step, chi2_log_moments, moments

__all__ = ["LINEAR", "Expected", "Moments", "chi2_log_moments", "expected", "forward_variances", "moments",
           "upstream_log_moments"]


@dataclass(frozen=True)
class Expected:
    pre_std: float
    band_low: float
    band_high: float
    activation_std: float
    grad_std: float


def forward_variances(m0: float, sigma_w2: Sequence[float], sigma_b2: Sequence[float],
                      acts: Sequence[Activation | None]) -> tuple[list[float], list[Moments]]:
    """q(l) for l = 1..L and the moments of phi(l) at q(l)."""
    qs, ms, previous = [], [], m0
    for w2, b2, act in zip(sigma_w2, sigma_b2, acts):
        qs.append(w2 * previous + b2)
        ms.append(moments(act, qs[-1]))
        previous = ms[-1].second
    return qs, ms


def upstream_log_moments(qs: Sequence[float], ms: Sequence[Moments], sigma_w2: Sequence[float],
                         units: Sequence[int]) -> list[tuple[float, float]]:
    """(D(l), V(l)) of the module docstring: the mean and variance that the layers before l add to
    log of one input's q(l) (`initlab.theory.finite_width`, without the curvature term)."""
    steps = [Step.at(ms[layer - 1], sigma_w2[layer], qs[layer]) for layer in range(1, len(qs))]
    return finite_width.upstream_log_moments(steps, units)


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
