"""Two inputs' correlation through a chain's layers, measured and by the mean-field correlation map.

For two inputs a and b, layer l's pre-activations have q_ab = z_a . z_b / n and correlation
c = q_ab / sqrt(q_aa q_bb). Mean-field theory (Poole et al. 2016; Schoenholz et al. 2017) maps
it to the next layer as c' = (sigma_w^2 E[phi(u_a) phi(u_b)] + sigma_b^2) / (sigma_w^2 E[phi(u)^2] + sigma_b^2),
(u_a, u_b) Gaussian with variance q and correlation c. Each pair is predicted from its own measured c
and q at the layer before (one step), so the comparison isolates the map, not the accumulated drift;
`chained` iterates the map from layer 1 as the theory would over depth. The rows give means over the
pairs of |c|: the pairs of a batch have correlations of both signs (their plain mean is near 0 whatever the
depth), and for an odd activation with zero biases the map is odd, so |c| is what depth changes: it goes to 1
in the ordered phase and to c* (0 for tanh without biases) in the chaotic one.

>>> import numpy as np
>>> from initlab.nn.mlp import MLP
>>> from initlab.diagnose.mlp_probe import capture_mlp
>>> X = np.random.default_rng(0).standard_normal((8, 4))
>>> net = MLP([4, 400, 400, 1], activation="relu", init="he_normal", seed=0)
>>> layers = correlations(capture_mlp(net, X, np.zeros(8, dtype=int)))
>>> round(layers[1]["measured"], 2), round(layers[1]["predicted"], 2)
(0.54, 0.54)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from initlab.diagnose.capture import Capture
from initlab.diagnose.stats import sigma_b2, sigma_w2
from initlab.theory.finite_width import LINEAR

PAIRS = 16  # rows (0, 1), (2, 3), ... of the batch


def _pairs(z: np.ndarray, pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """(c, q) of the first `pairs` disjoint row pairs of the layer output `z` (n, units)."""
    a, b = z[0:2 * pairs:2].astype(np.float64), z[1:2 * pairs:2].astype(np.float64)
    qa, qb = np.mean(a * a, axis=1), np.mean(b * b, axis=1)
    with np.errstate(all="ignore"):
        return np.mean(a * b, axis=1) / np.sqrt(qa * qb), (qa + qb) / 2


def _next(c: float, q: float, act, w2: float, b2: float) -> float:
    act = LINEAR if act is None else act
    if not (math.isfinite(c) and math.isfinite(q) and q > 0):
        return math.nan
    return (w2 * act.cross_moment(q, c) + b2) / (w2 * act.second_moment(q) + b2)


def _mean_abs(values) -> float:
    return float(np.mean(np.abs(np.asarray(values, dtype=float))))


def correlations(captures: Sequence[Capture], pairs: int = PAIRS) -> list[dict] | None:
    """Per hidden layer: the measured mean |correlation| of the input pairs' pre-activations, the one-step
    prediction from the layer before, and the prediction chained from layer 1. None for fewer than two
    inputs or layers that are not dense (the map is a dense chain's)."""
    hidden = list(captures[:-1])
    if len(hidden) < 2 or any(c.kind != "dense" or c.z.ndim != 2 for c in hidden) or len(hidden[0].z) < 2:
        return None
    n = min(pairs, len(hidden[0].z) // 2)
    measured = [_pairs(c.z, n) for c in hidden]
    chained = measured[0][0].copy()
    out = [{"layer": 1, "measured": _mean_abs(measured[0][0]), "predicted": None, "chained": None}]
    for layer in range(1, len(hidden)):
        (c, q), act = measured[layer - 1], hidden[layer - 1].activation
        w2, b2 = sigma_w2(hidden[layer]), sigma_b2(hidden[layer])
        one_step = [_next(ci, qi, act, w2, b2) for ci, qi in zip(c, q)]
        chained = np.array([_next(ci, qi, act, w2, b2) for ci, qi in zip(chained, q)])
        out.append({"layer": layer + 1, "measured": _mean_abs(measured[layer][0]),
                    "predicted": _mean_abs(one_step), "chained": _mean_abs(chained)})
    return [{key: (None if isinstance(v, float) and not math.isfinite(v) else v) for key, v in row.items()}
            for row in out]
