"""The weight and bias variances that keep a layer's pre-activation second moment at q = 1 (the length map of
Poole et al. 2016): what `initlab.torch.auto` and the NumPy engine's `auto` (`initlab.nn.data_init`) draw.

>>> from initlab.theory import activation
>>> sigma_w2, sigma_b2, chi, _ = gains(activation("relu"))
>>> sigma_w2, sigma_b2, chi
(2.0, 0.0, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import replace

from initlab._errors import ArgumentError
from initlab.theory import Activation
from initlab.theory.finite_width import Step, moments, step
from initlab.theory.meanfield import CRITICAL_TOLERANCE


def gains(act: Activation | None, stabilize: bool = False) -> tuple[float, float, float, Step]:
    """(sigma_w^2, sigma_b^2, chi_1, length-map step) at q = 1 for a layer fed by `act` (None: identity);
    with `stabilize`, a slope > 1 (gelu, silu: q = 1 an unstable fixed point) is brought to 1 by the bias
    variance sigma_b^2 = 1 - 1 / slope, with sigma_w^2 = (1 - sigma_b^2) / E[act(z)^2]."""
    m = moments(act, 1.0)
    if not (math.isfinite(m.second) and m.second > 0):
        name = "identity" if act is None else act.name
        raise ArgumentError("model", f"activation '{name}' has E[act(z)^2] = {m.second:g} at q = 1; "
                         "no weight variance brings the next layer back to q = 1")
    unstable = m.u_phi_dphi > m.second * (1.0 + CRITICAL_TOLERANCE)
    sigma_b2 = 1.0 - m.second / m.u_phi_dphi if stabilize and unstable else 0.0
    sigma_w2 = (1.0 - sigma_b2) / m.second
    point = step(m, sigma_w2, sigma_b2)
    if sigma_b2:
        point = replace(point, slope=1.0)  # exactly, by construction
    return sigma_w2, sigma_b2, sigma_w2 * m.dphi2, point
