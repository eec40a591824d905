"""Cost curves for the page: mean and min..max band over seeds, and the test cost sampled at view updates.

>>> band(np.array([[1.0, 2.0, np.nan], [3.0, np.nan, np.nan]]))
{'mean': [2.0, 2.0, None], 'low': [1.0, 2.0, None], 'high': [3.0, 2.0, None]}
"""

from __future__ import annotations

import math

import numpy as np

from initlab.experiments.compare import finite_or_none


def band(rows: np.ndarray) -> dict:
    """Per column of `rows` (one row per seed; NaN: no value, e.g. diverged): mean, min and max of
    the finite values, null where there is none."""
    alive = np.isfinite(rows)
    count = alive.sum(axis=0)
    total = np.where(alive, rows, 0.0).sum(axis=0)
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    low = np.where(alive, rows, np.inf).min(axis=0, initial=np.inf)
    high = np.where(alive, rows, -np.inf).max(axis=0, initial=-np.inf)
    return {name: [finite_or_none(float(v)) for v in values] for name, values in
            (("mean", mean), ("low", low), ("high", high))}


def thinned(count: int, points: int) -> np.ndarray:
    """Indices of at most `points` of `count` entries, evenly spaced from the first."""
    return np.arange(0, count, math.ceil(count / points)) if count else np.arange(0)


class Samples:
    """Values per network at some iterations (the test cost at each view update): at most `2 * points`
    kept, every other one dropped when there are more."""

    def __init__(self, points: int):
        self.points, self.iterations, self.values = points, [], []

    def add(self, iteration: int, values: list[float | None]) -> None:
        if self.iterations and self.iterations[-1] >= iteration:
            return  # once per iteration (and none from before a reset: the caller starts a new one)
        self.iterations.append(iteration)
        self.values.append([np.nan if v is None else v for v in values])
        if len(self.iterations) > 2 * self.points:
            self.iterations, self.values = self.iterations[::2], self.values[::2]

    def curves(self, groups: int) -> dict:
        """`groups` equal groups of networks (schemes): a band over each group's networks."""
        if not self.iterations:
            return {"iterations": [], "schemes": [{"mean": [], "low": [], "high": []} for _ in range(groups)]}
        keep = thinned(len(self.iterations), self.points)
        table = np.array(self.values, dtype=np.float64).reshape(len(self.iterations), -1)[keep].T
        size = table.shape[0] // groups if groups else 0
        return {"iterations": [self.iterations[i] for i in keep],
                "schemes": [band(table[g * size:(g + 1) * size]) for g in range(groups)]}
