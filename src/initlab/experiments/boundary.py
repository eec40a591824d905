"""Decision surfaces of trained classifiers on 2-D inputs, as plain data a run record can carry.

A surface is the predicted class at the centres of a `resolution` x `resolution` grid over the
training points' box (widened by 10% on each side), row by row from the bottom (lowest y) up:

    {"extent": [x_min, x_max, y_min, y_max], "resolution": n, "classes": [[class, count], ...]}

"classes" is run-length encoded (a boundary crosses a row a few times, so a 120 x 120 surface is a
few hundred pairs instead of 14,400 numbers). `initlab.report.boundaries` decodes and draws it
without the network.

>>> run_lengths(np.array([0, 0, 1, 1, 1, 0]))
[[0, 2], [1, 3], [0, 1]]
"""

from __future__ import annotations

import numpy as np

RESOLUTION = 120


def extent(X: np.ndarray) -> list[float]:
    """[x_min, x_max, y_min, y_max] of the points, widened by 10% of their range on each side."""
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low) + 1e-9
    return [float(low[0] - margin[0]), float(high[0] + margin[0]), float(low[1] - margin[1]),
            float(high[1] + margin[1])]


def grid(box: list[float], resolution: int) -> np.ndarray:
    """The (resolution**2, 2) grid points of `box`, row by row from the bottom."""
    gx, gy = np.meshgrid(np.linspace(box[0], box[1], resolution), np.linspace(box[2], box[3], resolution))
    return np.column_stack([gx.ravel(), gy.ravel()])


def run_lengths(labels: np.ndarray) -> list[list[int]]:
    """[[value, count], ...] of consecutive equal integers."""
    labels = np.asarray(labels).ravel()
    if labels.size == 0:
        return []
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    counts = np.diff(np.r_[starts, labels.size])
    return [[int(labels[s]), int(c)] for s, c in zip(starts, counts)]


def decision_surface(net, box: list[float], resolution: int = RESOLUTION) -> dict:
    """The class `net` predicts over `box` (see the module docstring for the format)."""
    classes = np.asarray(net.predict(grid(box, resolution))).astype(np.int64).ravel()
    return {"extent": list(box), "resolution": int(resolution), "classes": run_lengths(classes)}
