"""Gradient checking: backprop against central finite differences, in float64."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab._random import as_generator
from initlab.nn.activations import ACTIVATIONS
from initlab.nn.heads import HEADS
from initlab.nn.mlp import MLP, Params


def numerical_grads(net: MLP, X: np.ndarray, y: np.ndarray, h: float = 1e-6) -> Params:
    """d loss / d parameter by central differences (loss(p + h) - loss(p - h)) / 2h, one entry at a time."""
    grads = []
    for W, b in net.params:
        pair = []
        for p in (W, b):
            g = np.zeros_like(p)
            flat, out = p.reshape(-1), g.reshape(-1)
            for i in range(flat.size):
                saved = flat[i]
                flat[i] = saved + h
                plus = net.loss(X, y)
                flat[i] = saved - h
                minus = net.loss(X, y)
                flat[i] = saved
                out[i] = (plus - minus) / (2 * h)
            pair.append(g)
        grads.append(tuple(pair))
    return grads


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||), 0 when both are zero."""
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denominator) if denominator else 0.0


def max_relative_error(analytic: Params, numeric: Params) -> float:
    """The worst relative error over every weight and bias tensor."""
    return max(relative_error(a, n) for pa, pn in zip(analytic, numeric) for a, n in zip(pa, pn))


@dataclass(frozen=True)
class GradCheck:
    activation: str
    output: str
    max_relative_error: float


def check_combination(activation: str, output: str, seed: int = 0, n_samples: int = 16) -> GradCheck:
    """Build a small float64 net with `activation` and `output`, compare backprop with finite differences."""
    rng = as_generator(seed)
    width = {"sigmoid": 1, "softmax": 3, "linear": 2}[output]
    net = MLP([4, 6, 5, width], activation=activation, output=output, init="xavier_normal",
              bias_init="normal(std=0.1)", seed=rng)
    X = rng.standard_normal((n_samples, 4))
    if output == "linear":
        y = rng.standard_normal((n_samples, width))
    else:
        y = rng.integers(0, max(width, 2), n_samples)
    _, analytic = net.loss_and_grads(X, y)
    return GradCheck(activation, output, max_relative_error(analytic, numerical_grads(net, X, y)))


def check_all(seed: int = 0) -> list[GradCheck]:
    """Every hidden activation x output combination."""
    return [check_combination(a, o, seed) for a in ACTIVATIONS for o in HEADS]
