"""Per-layer views of one network for the playground: histograms of activations and dL/dz next to theory.

Everything measured comes from `initlab diagnose`'s own pass over the NumPy engine's MLP
(`initlab.diagnose.mlp_probe.capture_mlp`, `initlab.diagnose.doctor.diagnose`, the histograms of
`initlab.diagnose.distributions`, with `nonfinite` counting overflowed entries): the statistics,
mean-field theory's expected std per layer (computed from the weights as they are now, so it holds
during training too) and the saturated / dead / duplicate units. Nothing here is new theory.

- ``activation``: the layer's output phi(z) (the output layer: its logits z); ``theory_std`` is
  diagnose's expected activation std;
- ``grad``: dL/dz of the mean training loss; ``theory_std`` is diagnose's expected root mean square
  of dL/dz (anchored at the output layer's measured rms), so compare it with ``rms``;
- ``saturated``: the share of saturated activations times the units (a count of units' worth of
  entries, rounded), with ``saturated_fraction`` as diagnose reports it; ``dead``: units of an
  activation that can die (relu, relu6) whose pre-activation is <= 0 on every training point, so
  their output and gradient are exactly 0 there (`dead_units`; diagnose's own rule is stricter: it
  also asks the mean to be a layer sd below 0, so a layer of units all exactly 0 could count few),
  with ``dead_fraction`` = dead / units (both null where the activation cannot saturate or die);
  ``duplicate``: units in groups of identical units (they stay identical under training);
  ``no_gradient``: true when dL/dz is exactly 0 on every point and unit of the layer (nothing before
  it can learn from this data). `RULES` words these rules for the page (the state's ``rules``).

>>> from initlab.nn.mlp import MLP
>>> net = MLP([2, 8, 1], activation="tanh", init="zeros", seed=0)
>>> view = layer_views(net, np.ones((5, 2)), np.array([0, 1, 0, 1, 1]))
>>> [(v["layer"], v["units"], v["duplicate"]) for v in view]  # zeros: the 8 hidden units are one
[(1, 8, 8), (2, 1, 0)]
>>> view[0]["activation"]["std"], len(view[0]["activation"]["counts"])
(0.0, 20)
"""

from __future__ import annotations

import math

import numpy as np

from initlab.diagnose.distributions import histogram
from initlab.diagnose.doctor import diagnose, mlp_pass
from initlab.diagnose.mlp_probe import describe_mlp
from initlab.diagnose.stats import can_die

BINS = 20  # diagnose's figures use 40; a page's small panels read better with fewer
RULES = {  # what each count means, in the words the page can show next to it
    "dead": "relu units that are 0 on every training point (pre-activation <= 0 everywhere: no gradient either)",
    "saturated": "share of activations near a flat side of a saturating activation (as initlab diagnose "
                 "counts them), times the units",
    "duplicate": "units in groups of identical units: they stay identical under training",
    "no_gradient": "dL/dz is exactly 0 on every training point and unit: layers before it cannot learn",
}


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def dead_units(capture) -> int | None:
    """Units whose pre-activation is <= 0 on every point (an activation that can die: their output and
    gradient are then exactly 0 on the whole batch); None for activations that cannot die."""
    if not can_die(capture.activation_name):
        return None
    return int(np.sum(np.all(capture.per_unit(capture.z) <= 0, axis=1)))


def layer_views(net, X: np.ndarray, y: np.ndarray) -> list[dict]:
    """One view per layer (hidden layers, then the output) of `net` on the batch (`X`, `y`)."""
    with np.errstate(all="ignore"):
        captures, m0 = mlp_pass(net, X, y)
        layers = diagnose(captures, m0, describe_mlp(net)).layers
    views = []
    for stats, capture in zip(layers, captures):
        saturated, dead = stats.saturated_fraction, dead_units(capture)
        views.append({
            "layer": stats.index, "units": stats.units, "activation_name": stats.activation,
            "activation": {**histogram(capture.a, BINS), "std": _number(stats.activation_std),
                           "theory_std": _number(stats.expected_activation_std)},
            "grad": {**histogram(capture.dz, BINS), "std": _number(stats.grad_std), "rms": _number(stats.grad_rms),
                     "theory_std": _number(stats.expected_grad_std)},
            "saturated": None if saturated is None else round(saturated * stats.units),
            "saturated_fraction": saturated,
            "dead": dead, "dead_fraction": None if dead is None else dead / stats.units,
            "duplicate": stats.duplicate_units, "no_gradient": bool(np.all(capture.dz == 0))})
    return views
