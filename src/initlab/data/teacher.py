"""Teacher-student regression sets: the targets are a fixed random network's outputs plus noise.

Spec: ``teacher:linear`` or ``teacher:mlp``, optionally followed by ``:key=value,...`` with keys
``n_features`` (D, default 10), ``n_outputs`` (K, default 1) and, for mlp, ``hidden`` (H, default 32):
``teacher:mlp:n_features=20,n_outputs=3,hidden=64``. From one numpy Generator, in this order:

1. the teacher's weights (so the same seed gives the same teacher whatever n_samples is):
   linear: W ~ N(0, 1/D) of shape (D, K), y = X W;
   mlp: W1 ~ N(0, 2/D) of shape (D, H), then W2 ~ N(0, 1/H) of shape (H, K), y = relu(X W1) W2
   (He scaling, zero biases: each output has variance 1 over the inputs, as the linear teacher's);
2. the inputs X ~ N(0, 1) of shape (n_samples, D);
3. the noise: targets = teacher(X) + noise * N(0, 1) of shape (n_samples, K) (`noise` default 0.1).

The targets are float64, 1-D for K = 1 and (n_samples, K) otherwise: a linear output with K units
and the mean squared error (multi-output regression). A test set must share the teacher: the default
split of the data, or ``--test-data`` equal to ``--data`` (drawn together), does; another seed's
teacher is a different function.

>>> X, y = teacher_set(5, np.random.default_rng(0), 0.0, parse_teacher("teacher:linear:n_features=3,n_outputs=2"))
>>> X.shape, y.shape, bool(np.allclose(y, X @ teacher_weights(parse_teacher("teacher:linear:n_features=3,n_outputs=2"),
...                                                          np.random.default_rng(0))[0]))
((5, 3), (5, 2), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from initlab._errors import ArgumentError

KINDS = ("linear", "mlp")
DEFAULTS = {"n_features": 10, "n_outputs": 1, "hidden": 32}
NOISE = 0.1
MAX_UNITS = 100_000  # per dimension: the teacher's weights are drawn in memory


@dataclass(frozen=True)
class Teacher:
    kind: str
    n_features: int = DEFAULTS["n_features"]
    n_outputs: int = DEFAULTS["n_outputs"]
    hidden: int = DEFAULTS["hidden"]

    @property
    def parameter_count(self) -> int:
        d, k, h = self.n_features, self.n_outputs, self.hidden
        return d * k if self.kind == "linear" else d * h + h * k


def parse_teacher(spec: str) -> Teacher:
    """The teacher a spec describes; a bad kind, key or value is one ArgumentError naming `data`."""
    _, _, rest = spec.partition(":")
    kind, _, options = rest.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ArgumentError("data", f"'{spec}': expected teacher:linear or teacher:mlp, optionally with "
                                    f":n_features=D,n_outputs=K[,hidden=H], got kind '{kind}'")
    values: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, equals, text = (x.strip() for x in item.partition("="))
        allowed = ("n_features", "n_outputs", "hidden") if kind == "mlp" else ("n_features", "n_outputs")
        if not equals or key not in allowed:
            raise ArgumentError("data", f"'{spec}': expected options {', '.join(k + '=N' for k in allowed)}, "
                                        f"got '{item}'")
        if not text.isdigit() or not 1 <= int(text) <= MAX_UNITS:
            raise ArgumentError("data", f"'{spec}': {key} must be an integer in 1..{MAX_UNITS:,}, got '{text}'")
        values[key] = int(text)
    return Teacher(kind, **values)


def teacher_weights(teacher: Teacher, rng: np.random.Generator) -> list[np.ndarray]:
    """Step 1 of the module doc: [W] (linear) or [W1, W2] (mlp)."""
    d, k, h = teacher.n_features, teacher.n_outputs, teacher.hidden
    if teacher.kind == "linear":
        return [rng.standard_normal((d, k)) * math.sqrt(1.0 / d)]
    w1 = rng.standard_normal((d, h)) * math.sqrt(2.0 / d)
    return [w1, rng.standard_normal((h, k)) * math.sqrt(1.0 / h)]


def teacher_outputs(weights: list[np.ndarray], X: np.ndarray) -> np.ndarray:
    """teacher(X): X W, or relu(X W1) W2."""
    if len(weights) == 1:
        return X @ weights[0]
    return np.maximum(X @ weights[0], 0.0) @ weights[1]


def teacher_set(n_samples: int, rng: np.random.Generator, noise: float,
                teacher: Teacher) -> tuple[np.ndarray, np.ndarray]:
    """(X, targets) by steps 1-3 of the module doc."""
    weights = teacher_weights(teacher, rng)
    X = rng.standard_normal((n_samples, teacher.n_features))
    y = teacher_outputs(weights, X) + noise * rng.standard_normal((n_samples, teacher.n_outputs))
    return np.ascontiguousarray(X), (y[:, 0] if teacher.n_outputs == 1 else y).astype(np.float64)
