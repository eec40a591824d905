"""`lsuv` and `auto` for the NumPy engine's `MLP`: `--init lsuv` / `--init auto` in compare, train and sweeps.

- ``lsuv`` (Mishkin & Matas 2016, "All you need is a good init"): orthonormal weights (initlab's
  `orthogonal`), then layer by layer, on the training batch, W(l) is divided by the std of its
  pre-activations z(l) until |Var(z(l)) - 1| < 0.1, the paper's criterion on the variance (at most 10
  rescalings per layer; the output layer too, as the paper does for every layer). Data-dependent: the
  same seed on other data gives other weights.
- ``auto``: data-free, as `initlab.torch.auto` does for torch models: Var W(l) = sigma_w^2 / fan_in with
  sigma_w^2 = 1 / E[act(z)^2] for the activation feeding layer l (1 for the first layer, whose inputs are
  standardized; 2 after relu, as He et al. 2015), so every layer's pre-activations keep a second moment
  of 1 (the length map of Poole et al. 2016); for activations whose fixed point q = 1 is unstable (gelu,
  silu) a bias variance brings its slope to 1 (`initlab.theory.gains`).

Both start from the weights the scheme's base draws (`BASE`) with the network's seed, so runs are
reproducible bit for bit; the biases are the network's own (`bias_init`) except where `auto` stabilizes.

>>> import numpy as np
>>> from initlab.nn.mlp import MLP
>>> X = np.random.default_rng(0).standard_normal((200, 3))
>>> net = MLP([3, 50, 50, 1], activation="tanh", init=BASE["lsuv"], seed=0)
>>> [round(float(np.var(z)), 2) for z in lsuv(net, X).variances]
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from initlab._checks import integer, number
from initlab.nn.mlp import MLP

DATA_INITS = ("lsuv", "auto")
BASE = {"lsuv": "orthogonal", "auto": "lecun_normal"}  # what is drawn before the data-dependent step
LSUV_TOL, LSUV_MAX_ITER = 0.1, 10


@dataclass(frozen=True)
class LsuvResult:
    iterations: list[int]  # rescalings per layer
    variances: list[np.ndarray]  # each layer's pre-activations on the batch after calibration

    @property
    def converged(self) -> bool:
        return all(abs(float(np.var(z)) - 1.0) < LSUV_TOL for z in self.variances)


def lsuv(net: MLP, X: np.ndarray, tol: float = LSUV_TOL, max_iter: int = LSUV_MAX_ITER) -> LsuvResult:
    """Rescale `net`'s weights in place, first layer to last, so each layer's pre-activations on `X` have
    variance within `tol` of 1 (module doc). The weights should be orthonormal already (`BASE`)."""
    tol, max_iter = number("tol", tol, positive=True), integer("max_iter", max_iter)
    A = net.as_input(X)
    done, outputs = [], []
    for layer, (W, b) in enumerate(net.params):
        z, steps = A @ W + b, 0
        while steps < max_iter and abs(float(np.var(z)) - 1.0) >= tol and np.var(z) > 0 and np.isfinite(z).all():
            W /= np.sqrt(np.var(z))  # in place: net.params holds this array
            z, steps = A @ W + b, steps + 1
        done.append(steps)
        outputs.append(z)
        if layer < len(net.activations):
            A = net.activations[layer].forward(z)
    return LsuvResult(done, outputs)


def auto(net: MLP, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Scale `net`'s weights in place from Var W = 1 / fan_in (`BASE`) to sigma_w^2 / fan_in per layer; returns
    (sigma_w^2, sigma_b^2) per layer. Stabilizing biases are drawn from `rng`."""
    from initlab.diagnose.mlp_probe import from_engine_activation
    from initlab.theory.gains import gains
    out = []
    for layer, (W, b) in enumerate(net.params):
        feeding = None if layer == 0 else from_engine_activation(net.activations[layer - 1])
        sigma_w2, sigma_b2, _, _ = gains(feeding, stabilize=True)
        W *= math.sqrt(sigma_w2)
        if sigma_b2:
            b[...] = rng.normal(0.0, math.sqrt(sigma_b2), size=b.shape).astype(b.dtype)
        out.append((sigma_w2, sigma_b2))
    return out


def initialise(net: MLP, init: str, X: np.ndarray, rng: np.random.Generator) -> MLP:
    """Apply the data init `init` ('lsuv' on `X`, or 'auto') to `net`, built with `BASE[init]`; returns `net`."""
    if init == "lsuv":
        lsuv(net, X)
    else:
        auto(net, rng)
    return net
