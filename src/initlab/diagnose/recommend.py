"""The init to use instead, chosen from the network's (most common hidden) activation.

Each choice puts the layers on the mean-field critical line chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2] = 1
(Poole et al. 2016; Schoenholz et al. 2017), where signals and gradients neither shrink nor grow:

- relu: sigma_w2 = 2 (He et al. 2015), leaky_relu with slope a: 2 / (1 + a^2) -> he_normal(a=a);
- tanh: sigma_w2 = 1 at zero bias (q* = 0, tanh'(0) = 1) -> lecun_normal, N(0, 1/fan_in);
- linear: sigma_w2 = 1 -> lecun_normal;
- sigmoid: critical at zero bias only at sigma_w2 ~ 103 -> critical(activation=sigmoid, sigma_b2=0),
  which keeps the gradients but saturates about half the units: the advice says that a deep
  sigmoid net has no healthy init and a centred activation (tanh, relu) is the real fix;
- other smooth activations initlab's theory knows (erf): critical(activation=..., sigma_b2=0);
- gelu, silu and activations initlab's theory does not name (torch models: ELU, Softplus, a
  user's module): "auto", which finds the gain by quadrature (`initlab.torch`).

>>> from initlab.theory import activation
>>> recommend([activation("leaky_relu", slope=0.1)])["scheme"]
'he_normal(a=0.1)'
>>> recommend([activation("tanh"), None])["scheme"]
'lecun_normal'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from initlab.theory import ACTIVATIONS, Activation, critical_sigma_w2

BIAS_HINT = "; the biases push the pre-activations below zero: use --bias-init zeros"


def dominant(activations: Sequence[Activation | None]) -> Activation | None:
    """The most common hidden activation (the first of equals); None when there is none."""
    named = [a for a in activations if a is not None]
    if not named:
        return None
    top = Counter(a.name for a in named).most_common(1)[0][0]
    return next(a for a in named if a.name == top)


def recommend(hidden: Sequence[Activation | None], bias: bool = False) -> dict:
    """{"scheme", "why"} for hidden activations `hidden` (None: identity); with `bias` (dead units
    caused by negative biases), also {"bias_init": "zeros"}."""
    out = _scheme(dominant(hidden))
    if bias:
        out["why"] += BIAS_HINT
        out["bias_init"] = "zeros"
    return out


def _auto(name: str) -> dict:
    return {"scheme": "auto", "why": f"{name} has no closed-form gain; initlab.torch.auto computes it by "
                                     "quadrature so every layer's pre-activation variance stays 1 (with bias "
                                     "variance where that fixed point is unstable, as for gelu and silu)"}


def _scheme(act: Activation | None) -> dict:
    if act is None or act.name == "linear":
        return {"scheme": "lecun_normal", "why": "a linear layer keeps the signal's second moment when "
                                                 "sigma_w2 = 1: lecun_normal, N(0, 1/fan_in)"}
    if act.name == "relu":
        return {"scheme": "he_normal", "why": "relu passes half the second moment (E[relu(u)^2] = q/2), so "
                                              "sigma_w2 = 2 keeps signals and gradients constant with depth "
                                              "(He et al. 2015)"}
    if act.name == "leaky_relu":
        return {"scheme": f"he_normal(a={act.slope:g})",
                "why": f"leaky_relu with slope {act.slope:g} passes (1 + a^2)/2 of the second moment, so "
                       f"sigma_w2 = 2/(1 + a^2) = {2 / (1 + act.slope ** 2):.4g} keeps it (He et al. 2015)"}
    if act.name == "tanh":
        return {"scheme": "lecun_normal", "why": "tanh is critical at sigma_w2 = 1 with zero biases "
                                                 "(chi_1 = sigma_w2 tanh'(0)^2 = 1 at q* = 0; Poole et al. 2016): "
                                                 "lecun_normal, N(0, 1/fan_in); xavier_normal is the same when "
                                                 "fan_in = fan_out"}
    if act.name == "sigmoid":
        return {"scheme": "critical(activation=sigmoid, sigma_b2=0)",
                "why": "sigmoid keeps its gradients (chi_1 = 1) at zero bias only at sigma_w2 ~ 103, where about half "
                       "its outputs sit at 0 or 1: a deep sigmoid net has no healthy init, so prefer tanh "
                       "(lecun_normal) or relu (he_normal)"}
    if act.name in ("gelu", "silu") or act.name not in ACTIVATIONS:
        return _auto(act.name)
    return {"scheme": f"critical(activation={act.name}, sigma_b2=0)",
            "why": f"{act.name} is critical (chi_1 = 1) at sigma_w2 = {critical_sigma_w2(act, 0.0):.4g} with "
                   "zero biases (Poole et al. 2016)"}
