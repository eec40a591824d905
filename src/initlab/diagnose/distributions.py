"""Per-layer histograms of activations, dL/dz and dL/dW: Glorot & Bengio's (2010) figures 6-8.

Glorot & Bengio compared initializations by the distribution of each layer's activation values
(their figure 6), back-propagated gradients (figure 7) and weight gradients (figure 8): with the
"standard" U(-1/sqrt(n), 1/sqrt(n)) init, tanh activations pile up at 0 in higher layers and the
weight gradients' spread differs from layer to layer; with their normalized init both stay alike
across depth. `layer_distributions` gives the same histograms for any diagnosed model, and
`Var(dW)` per layer, the quantity their analysis keeps constant.

>>> import numpy as np
>>> from initlab.nn.mlp import MLP
>>> from initlab.diagnose.mlp_probe import capture_mlp
>>> net = MLP([2, 8, 8, 1], activation="tanh", init="xavier_uniform", seed=0)
>>> layers = layer_distributions(capture_mlp(net, np.ones((4, 2)), np.array([0, 1, 0, 1])))
>>> [layer["name"] for layer in layers], sum(layers[0]["activation"]["counts"])
(['layer 1', 'layer 2', 'layer 3'], 32)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from initlab.diagnose.capture import Capture

BINS = 40


def histogram(values: np.ndarray, bins: int = BINS) -> dict:
    """Counts of the finite entries in `bins` equal bins over their range (`nonfinite` counts the others)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite, bins=bins) if len(finite) else (np.zeros(bins, int), np.linspace(-1, 1, bins + 1))
    return {"edges": [float(f"{e:.6g}") for e in edges], "counts": counts.tolist(),
            "nonfinite": int(len(values) - len(finite))}


def layer_distributions(captures: Sequence[Capture], bins: int = BINS) -> list[dict]:
    """Per layer: histograms of its activation a, of dL/dz and of dL/dW, and Var(dL/dW) over the entries."""
    out = []
    for index, c in enumerate(captures, start=1):
        with np.errstate(all="ignore"):
            variance = float(np.var(c.weight_grad, dtype=np.float64))
        out.append({"index": index, "name": c.name, "activation": histogram(c.a, bins), "grad": histogram(c.dz, bins),
                    "weight_grad": histogram(c.weight_grad, bins),
                    "weight_grad_var": variance if math.isfinite(variance) else None})
    return out
