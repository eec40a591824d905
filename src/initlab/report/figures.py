"""Figures of a comparison: cost curves with a band over seeds, and decision boundaries.

Built on matplotlib's object API (no pyplot state), saved as PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from initlab._errors import ArgumentError
from initlab.experiments.compare import CompareResult


def cost_curves(histories: Sequence[Sequence[tuple[int, float]]]) -> tuple[np.ndarray, np.ndarray]:
    """Align several seeds' (iteration, cost) histories on one iteration grid.

    Returns the iterations and a (n_seeds, n_points) array, NaN where a run had stopped (diverged).
    """
    iterations = np.array(sorted({i for history in histories for i, _ in history}), dtype=np.int64)
    column = {int(i): k for k, i in enumerate(iterations)}
    costs = np.full((len(histories), len(iterations)), np.nan)
    for row, history in enumerate(histories):
        for i, cost in history:
            costs[row, column[i]] = cost if np.isfinite(cost) else np.nan
    return iterations, costs


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def cost_figure(result: CompareResult, path: Path) -> Path:
    """Cost vs iteration per scheme: the mean over seeds as a line, the min-max band shaded, log-scale y."""
    config = result.config
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.add_subplot()
    for init in config.inits:
        runs = [run.result for run in result.runs if run.init == init]
        # Diverged runs end in non-finite costs after huge finite ones; they would set the scale.
        kept = [run.cost_history for run in runs if not run.diverged]
        n_diverged = len(runs) - len(kept)
        label = f"{config.label(init)} ({_count(len(kept), 'seed')}" + (f", {n_diverged} diverged)" if n_diverged else ")")
        if not kept:
            ax.plot([], [], label=label)
            continue
        iterations, costs = cost_curves(kept)
        mean = np.nanmean(costs, axis=0)
        line, = ax.plot(iterations, mean, label=label)
        if len(costs) > 1:
            ax.fill_between(iterations, np.nanmin(costs, axis=0), np.nanmax(costs, axis=0),
                            color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"training cost ({result.models[config.inits[0]].head.loss_name})")
    spread = "mean over seeds, band = min to max" if config.seeds > 1 else "one seed"
    ax.set_title(f"{result.title}\n{spread}" + (f"\n{config.note}" if config.note else ""), fontsize=9, wrap=True)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return path


def boundary_figure(result: CompareResult, path: Path, resolution: int = 200) -> Path:
    """One panel per scheme: the first seed's predicted class over the plane, with the training points."""
    X, y = result.data.X_train, result.data.y_train
    if X.shape[1] != 2:
        raise ArgumentError("data", f"decision boundaries need 2 features, got {X.shape[1]}")
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    inits = result.config.inits
    fig = Figure(figsize=(3.2 * len(inits), 3.4), layout="constrained")
    axes = fig.subplots(1, len(inits), squeeze=False)[0]
    for ax, init in zip(axes, inits):
        net = result.models[init]
        run = next(r for r in result.runs if r.init == init).result
        n_classes = int(y.max()) + 1
        if not run.diverged:
            surface = net.predict(grid).reshape(gx.shape).astype(float)
            ax.contourf(gx, gy, surface, levels=np.arange(-0.5, n_classes), cmap="coolwarm", vmin=0,
                        vmax=n_classes - 1, alpha=0.35)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", vmin=0, vmax=n_classes - 1, s=8, edgecolors="k", linewidths=0.2)
        accuracy = "diverged" if run.diverged else f"train acc {run.train_accuracy:.2f}"
        ax.set_title(f"{result.config.label(init)}\n{accuracy}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.savefig(path, dpi=110)
    return path
