"""Singular values of a chain's hidden Jacobian: dynamical isometry (Pennington, Schoenholz & Ganguli 2017).

For an MLP with hidden layers 1..L, J = d h(L) / d h(1) = D(L) W(L) ... D(2) W(2), with
D(l) = diag(phi'(z(l))), per example. Its mean squared singular value is what mean-field theory
predicts (the product over layers of sigma_w^2 (n(l) / n(l-1)) E[phi'(z(l))^2], chi_1 per layer
when the widths are equal), but its *spread* is not: a deep linear net with Gaussian weights has
squared singular values whose variance grows like the depth (for products of Gaussian matrices
E[s^4] = L' + 1 with L' = L - 1 factors, the Fuss-Catalan numbers), while orthogonal weights keep
every singular value at exactly 1. Pennington et al. show that this spread, not the mean, separates
networks that train fast at depth (tanh, orthogonal, at criticality) from those that do not.

>>> import numpy as np
>>> from initlab.nn.mlp import MLP
>>> from initlab.diagnose.mlp_probe import capture_mlp
>>> net = MLP([4, 16, 16, 16, 1], activation="linear", init="orthogonal", seed=0)
>>> X, y = np.ones((8, 4)), np.zeros(8, dtype=int)
>>> s = spectrum(capture_mlp(net, X, y), input_mean_square=1.0)
>>> s.examples, s.shape, round(s.measured["max"], 12), round(s.measured["min"], 12)
(8, (16, 16), 1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from initlab._errors import ArgumentError
from initlab.diagnose.capture import Capture
from initlab.diagnose.expected import forward_variances
from initlab.diagnose.stats import sigma_b2, sigma_w2

EXAMPLES = 16  # Jacobians per diagnosis: each costs a product of L - 1 square-ish matrices
MAX_FLOPS = 2e11  # about a minute of matrix products on two cores; above it the request is refused up front
CHUNK_BYTES = 256 * 2**20  # Jacobians held at once


@dataclass(frozen=True)
class Spectrum:
    """The hidden Jacobians' singular values over `examples` inputs and what they summarise."""

    layers: int  # hidden layers: J runs from layer 1's output to layer `layers`'
    examples: int
    shape: tuple[int, int]  # (units of the last hidden layer, units of the first)
    singular_values: np.ndarray  # (examples, min(shape)), each row descending
    measured: dict  # mean_square, var_square, max, min, median and the 5% / 95% quantiles of s
    theory_mean_square: float  # mean-field prediction of the mean squared singular value

    def to_json(self) -> dict:
        def number(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None
        return {"from": "layer 1", "to": f"layer {self.layers}", "examples": self.examples, "shape": list(self.shape),
                **{key: number(value) for key, value in self.measured.items()},
                "theory_mean_square": number(self.theory_mean_square), "histogram": self.histogram()}

    def histogram(self, bins: int = 40) -> dict | None:
        """Counts of log10(s) over the positive, finite singular values (None when there are none): the
        figure's bars, small enough for the JSON whatever the width."""
        s = self.singular_values[np.isfinite(self.singular_values) & (self.singular_values > 0)]
        if not len(s):
            return None
        counts, edges = np.histogram(np.log10(s), bins=bins)
        return {"log10_edges": [round(float(e), 6) for e in edges], "counts": counts.tolist(),
                "zero": int(np.sum(self.singular_values == 0))}


def flops(units: Sequence[int], examples: int) -> float:
    """Multiply-adds of the Jacobians of `units` (hidden widths, first to last) over `examples` inputs."""
    return float(examples) * sum(units[i] * units[i - 1] * units[0] for i in range(1, len(units)))


def check_cost(units: Sequence[int], examples: int = EXAMPLES, argument: str = "jacobian") -> None:
    """Refuse up front a spectrum that would take minutes (estimated from the widths)."""
    if len(units) < 2:
        raise ArgumentError(argument, f"needs at least 2 hidden layers (the Jacobian runs from the first hidden "
                            f"layer to the last), got {len(units)}")
    cost = flops(units, examples)
    if cost > MAX_FLOPS:
        widths = f"{units[0]}x{len(units)}" if len(set(units)) == 1 else ",".join(map(str, units))
        raise ArgumentError(argument, f"the Jacobians of {examples} inputs through hidden widths {widths} need "
                            f"about {cost:.2g} multiply-adds, over the {MAX_FLOPS:.0e} limit (minutes on 2 cores): "
                            "use fewer or narrower layers")


def spectrum(captures: Sequence[Capture], input_mean_square: float, examples: int = EXAMPLES) -> Spectrum:
    """The singular values of d h(L) / d h(1) on the first `examples` rows of the captured batch.

    `captures` are a dense chain's (`initlab.diagnose.mlp_probe.capture_mlp`): every layer but the
    last is hidden, with its activation's phi'."""
    hidden = list(captures[:-1])
    check_cost([c.units for c in hidden], examples)
    n = min(examples, len(hidden[0].z))
    chunk = max(1, CHUNK_BYTES // (8 * max(c.units for c in hidden) * hidden[0].units))
    values = []
    with np.errstate(all="ignore"):  # an exploding chain gives inf/nan singular values: a finding
        for start in range(0, n, chunk):
            rows = slice(start, min(n, start + chunk))
            J = np.broadcast_to(np.eye(hidden[0].units), (rows.stop - start, *[hidden[0].units] * 2))
            for c in hidden[1:]:  # J <- D(l) W(l) J: layer l's weights, then its activation's slope
                J = _derivative(c, rows)[:, :, None] * (c.weight @ J)
            values.append(np.linalg.svd(J, compute_uv=False) if np.isfinite(J).all()
                          else np.full((len(J), min(J.shape[1:])), np.nan))
    s = np.concatenate(values)
    return Spectrum(len(hidden), n, (hidden[-1].units, hidden[0].units), s, _summary(s),
                    _theory(captures, input_mean_square))


def _derivative(c: Capture, rows: slice) -> np.ndarray:
    """phi'(z) of layer `c` on `rows` (as (rows, units)); 1 where the activation is the identity."""
    z = c.z[rows].astype(np.float64)
    return np.ones_like(z) if c.activation is None else np.asarray(c.activation.dphi(z), dtype=np.float64)


def _summary(s: np.ndarray) -> dict:
    square = s * s
    low, median, high = np.quantile(s, [0.05, 0.5, 0.95]) if np.isfinite(s).all() else (math.nan,) * 3
    return {"mean_square": float(square.mean()), "var_square": float(square.var()), "max": float(s.max()),
            "min": float(s.min()), "median": float(median), "q05": float(low), "q95": float(high)}


def _theory(captures: Sequence[Capture], input_mean_square: float) -> float:
    """prod over hidden layers 2..L of mean(W(l)^2) n(l) E[phi'(z(l))^2] at the mean-field q(l)."""
    w2, b2 = [sigma_w2(c) for c in captures], [sigma_b2(c) for c in captures]
    _, moments = forward_variances(input_mean_square, w2, b2, [c.activation for c in captures])
    hidden = captures[:-1]
    with np.errstate(all="ignore"):
        return float(np.prod([w2[i] / hidden[i].fan_in * hidden[i].units * moments[i].dphi2
                              for i in range(1, len(hidden))]))
