"""Decision boundaries of every seed, drawn from run records (their "boundary" surfaces, see
`initlab.experiments.boundary` for the format) and the training points.

Small multiples: one row per grid point (scheme), one column per seed, each panel titled with its
seed and its test and train accuracy, so a lucky seed cannot stand for the mean. With more than
`MAX_SEED_COLUMNS` seeds, each point shows its median seed instead (ranked by test accuracy, else
train accuracy, then final cost; diverged runs rank lowest; the lower median of an even count),
labelled as such. Built on matplotlib's object API (no pyplot state).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from initlab._errors import ArgumentError
from initlab.report.curves import LEGEND_SIZE, plain
from initlab.report.points import Point
from initlab.summary import diverged

MAX_SEED_COLUMNS = 6
MAX_POINTS = 12  # a larger grid is a sweep, read through its heatmaps: no boundaries drawn
PANEL = 2.3  # inches per panel side


def expand(pairs: list[list[int]]) -> np.ndarray:
    """The integers a run-length list [[value, count], ...] encodes.

    >>> expand([[0, 2], [1, 3], [0, 1]]).tolist()
    [0, 0, 1, 1, 1, 0]
    """
    if not pairs:
        return np.zeros(0, dtype=np.int64)
    values, counts = np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T
    if (counts < 0).any() or counts.sum() > 10**8:  # a hostile record must not allocate gigabytes
        raise ValueError("run lengths out of range")
    return np.repeat(values, counts)


def surface_array(surface: dict) -> np.ndarray:
    """A surface record as a (resolution, resolution) array of classes, row 0 at the bottom; checked."""
    try:
        n = int(surface["resolution"])
        classes = expand(surface["classes"])
        box = np.asarray(surface["extent"], dtype=float)
    except (TypeError, KeyError, ValueError, OverflowError):
        raise ArgumentError("boundary", "expected {'extent': [4 numbers], 'resolution': n, "
                                        "'classes': [[class, count], ...]}") from None
    if n < 1 or classes.size != n * n or (classes < 0).any():
        raise ArgumentError("boundary", f"expected {n} x {n} classes >= 0, got {classes.size} values")
    if box.shape != (4,) or not np.isfinite(box).all() or box[0] >= box[1] or box[2] >= box[3]:
        raise ArgumentError("boundary", f"expected an extent [x_min, x_max, y_min, y_max], got {box.tolist()}")
    return classes.reshape(n, n)


def training_points(train_points) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a record's "train_points", checked: X of shape (n, 2), finite; y n class numbers."""
    try:
        X = np.asarray(train_points["X"], dtype=float)
        y = np.asarray(train_points["y"], dtype=float)
    except (TypeError, KeyError, ValueError, IndexError):
        raise ArgumentError("train_points", "expected {'X': [[x, y], ...], 'y': [class, ...]}") from None
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),) or not len(X) or not np.isfinite(X).all() \
            or not (np.isfinite(y).all() and (y == np.round(y)).all() and (y >= 0).all()):
        raise ArgumentError("train_points", f"expected n points of 2 finite numbers and n class numbers, got X of "
                                            f"shape {X.shape} and y of shape {y.shape}")
    return X, y.astype(np.int64)


def has_boundaries(points: Sequence[Point]) -> bool:
    """Some run carries a decision surface and there are at most MAX_POINTS points."""
    return len(points) <= MAX_POINTS and any(run.get("boundary") for point in points for run in point.runs)


def _rank(run: dict) -> tuple:
    """Sort key: worse runs first (diverged, then lower accuracy, then higher final cost)."""
    accuracy = run.get("test_accuracy")
    if accuracy is None:
        accuracy = run.get("train_accuracy")
    cost = run.get("final_cost")
    return (not diverged(run), -math.inf if accuracy is None else accuracy,
            -(cost if cost is not None and math.isfinite(cost) else math.inf))


def median_run(runs: Sequence[dict]) -> dict:
    """The run in the middle when ranked (module docstring); the lower one of an even count."""
    ordered = sorted(runs, key=_rank)
    return ordered[(len(ordered) - 1) // 2]


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def panel_title(run: dict, median_of: int | None = None) -> str:
    """'seed 3: test 88%, train 90%' (or 'diverged'); for a median seed, says so and of how many."""
    who = f"median of {median_of} seeds: seed {run['seed']}" if median_of else f"seed {run['seed']}"
    if diverged(run):
        return f"{who}\ndiverged"
    parts = ([f"test {_percent(run['test_accuracy'])}"] if run.get("test_accuracy") is not None else [])
    parts.append(f"train {_percent(run.get('train_accuracy'))}")
    return f"{who}\n{', '.join(parts)}"


def boundary_panels(points: Sequence[Point]) -> list[tuple[Point, list[dict], int | None]]:
    """(point, runs to draw, median_of) per point: every seed, or the median seed of many."""
    rows = []
    for point in points:
        runs = sorted(point.runs, key=lambda r: (str(type(r["seed"])), r["seed"]))
        if len(runs) > MAX_SEED_COLUMNS:
            rows.append((point, [median_run(runs)], len(runs)))
        else:
            rows.append((point, runs, None))
    return rows


def boundary_figure(points: Sequence[Point], train_points: dict) -> Figure:
    """Small multiples of the predicted class over the plane, with the training points on top.

    `train_points` is {"X": [[x, y], ...], "y": [class, ...]} (a compare document's "train_points").
    """
    X, y = training_points(train_points)
    rows = boundary_panels(points)
    surfaces = {id(run): surface_array(run["boundary"]) for _, runs, _ in rows for run in runs
                if run.get("boundary") and not diverged(run)}
    n_classes = int(max([y.max(), *(s.max() for s in surfaces.values())])) + 1
    median = any(of for _, _, of in rows)
    if median:  # one panel per point, in a near-square grid
        n_cols = min(4, len(rows))
        n_rows = -(-len(rows) // n_cols)
    else:
        n_rows, n_cols = len(rows), max(len(runs) for _, runs, _ in rows)
    fig = Figure(figsize=(PANEL * n_cols + 0.6, (PANEL + 0.45) * n_rows + 0.5), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_visible(False)
    for r, (point, runs, of) in enumerate(rows):
        for c, run in enumerate(runs):
            ax = axes.flat[r] if median else axes[r, c]
            ax.set_visible(True)
            if id(run) in surfaces:
                box = [float(v) for v in run["boundary"]["extent"]]
                ax.imshow(surfaces[id(run)], origin="lower", extent=box, cmap="coolwarm", vmin=0,
                          vmax=max(n_classes - 1, 1), alpha=0.35, aspect="auto", interpolation="nearest")
                ax.set_xlim(box[:2])
                ax.set_ylim(box[2:])
            ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", vmin=0, vmax=max(n_classes - 1, 1), s=6,
                       edgecolors="k", linewidths=0.2)
            ax.set_xticks([])
            ax.set_yticks([])
            title = panel_title(run, of)
            ax.set_title(plain(f"{point.label}\n{title}" if median else title), fontsize=LEGEND_SIZE)
            if not median and c == 0:
                ax.set_ylabel(plain(point.label), fontsize=LEGEND_SIZE + 1)
    how = ("the median seed of each point\n(ranked by test accuracy)" if median
           else "every seed\n(rows: points, columns: seeds)")
    fig.suptitle(f"Decision boundaries of {how}\nshading: predicted class; dots: training points",
                 fontsize=LEGEND_SIZE + 1)
    return fig
