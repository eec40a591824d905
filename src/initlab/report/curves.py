"""Cost curves of grid points, the one cost plotter of compare folders and reports: the mean over
seeds as a line, the min-max band shaded, log-scale y, ln 2 marked.

One plot for up to `MAX_LINES` points, else small multiples: one panel per scheme spec, each with
its own y scale (a diverging scheme's costs would flatten every other panel). Diverged runs stay
out of the band and are counted in the label. ln 2 = 0.693 is the binary cross-entropy of predicting
1/2 for every sample: the cost a zeros init never leaves; it is drawn when the runs train a sigmoid
output (recorded, or `output` sigmoid or auto). Legends and titles are at least `LEGEND_SIZE` pt.
Built on matplotlib's object API (no pyplot state).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from initlab.report.points import Point

MAX_LINES = 8  # more points than this get one panel per scheme
MAX_PANELS = 12
LEGEND_SIZE = 9  # pt: the smallest text in a figure, readable when the PNG is shown at its own size
LN2 = math.log(2)
LN2_LABEL = "ln 2 = 0.693: cost of guessing 1/2 (zeros init)"


def cost_curves(histories: Sequence[Sequence[tuple[int, float]]]) -> tuple[np.ndarray, np.ndarray]:
    """Align several seeds' (iteration, cost) histories on one iteration grid.

    Returns the iterations and a (n_seeds, n_points) array, NaN where a run had stopped (diverged).
    """
    iterations = np.array(sorted({i for history in histories for i, _ in history}), dtype=np.int64)
    column = {int(i): k for k, i in enumerate(iterations)}
    costs = np.full((len(histories), len(iterations)), np.nan)
    for row, history in enumerate(histories):
        for i, cost in history:
            costs[row, column[i]] = cost if cost is not None and np.isfinite(cost) else np.nan
    return iterations, costs


def plain(text: str) -> str:
    """Text shown literally by matplotlib: a '$' would otherwise start mathtext."""
    return str(text).replace("$", r"\$")


def scheme_name(init: str) -> str:
    """'normal(std=10)' -> 'normal' (the text before the parenthesis)."""
    return str(init).split("(", 1)[0].strip()


def family(init: str) -> str:
    """A scheme with its parameters left open, for a panel that holds several: 'normal(std=10)' ->
    'normal(...)'; a scheme without parameters is itself ('he_normal')."""
    name = scheme_name(init)
    return f"{name}(...)" if "(" in str(init) else name


def binary_cross_entropy(points: Sequence[Point]) -> bool:
    """True when every point trains a sigmoid output: its records' "head", else its `output` setting
    (auto resolves to sigmoid for the two-class data sets the lesson uses)."""
    def sigmoid(point: Point) -> bool:
        heads = {run.get("head") for run in point.runs} - {None}
        if heads:
            return heads == {"sigmoid"}
        return point.settings.get("output", "auto") in ("sigmoid", "auto")
    return all(sigmoid(point) for point in points)


def png_base64(fig: Figure, dpi: int = 100) -> str:
    """The figure as a base64-encoded PNG (for a data: URL)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _draw(ax, point: Point, color, prefix: str = "") -> None:
    """The point's mean curve and band; `prefix` (the panel's title) is left out of its label."""
    kept = point.histories()
    text = point.label.removeprefix(prefix) if prefix and point.label != prefix.rstrip(", ") else point.label
    label = f"{text} ({_count(len(kept), 'seed')}"
    label += f", {point.n_diverged} diverged)" if point.n_diverged else ")"
    kept = [history for history in kept if history]
    if not kept:
        ax.plot([], [], color=color, label=plain(label))
        return
    iterations, costs = cost_curves(kept)
    filled = ~np.all(np.isnan(costs), axis=0)  # iterations where some seed has a finite cost
    iterations, costs = iterations[filled], costs[:, filled]
    ax.plot(iterations, np.nanmean(costs, axis=0), color=color, label=plain(label))
    if len(costs) > 1:
        ax.fill_between(iterations, np.nanmin(costs, axis=0), np.nanmax(costs, axis=0), color=color,
                        alpha=0.2, linewidth=0)


def _colors(n: int) -> list:
    if n <= 10:
        return [f"C{k}" for k in range(n)]
    return list(colormaps["viridis"](np.linspace(0, 0.95, n)))


def panels(points: Sequence[Point]) -> dict[str, list[Point]]:
    """Up to MAX_LINES points share one plot; else one panel per scheme spec (per scheme name if
    that would make more than MAX_PANELS panels)."""
    if len(points) <= MAX_LINES:
        return {"": list(points)}
    by_spec: dict[str, list[Point]] = {}
    for point in points:
        by_spec.setdefault(point.settings.get("init_label") or point.init, []).append(point)
    if len(by_spec) <= MAX_PANELS:
        return by_spec
    by_name: dict[str, list[Point]] = {}
    for point in points:
        by_name.setdefault(family(point.init), []).append(point)
    return by_name


def cost_points_figure(points: Sequence[Point], title: str = "", ylabel: str = "training cost") -> Figure:
    """Cost vs iteration, one line per point (mean over seeds, min-max band), log-scale y, ln 2 marked;
    one panel per scheme (own y scale) above MAX_LINES points."""
    panels_ = panels(points)
    n_cols = min(3, len(panels_))
    n_rows = -(-len(panels_) // n_cols)
    size = (8, 5) if len(panels_) == 1 else (5.2 * n_cols, 4.2 * n_rows)
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    ln2 = binary_cross_entropy(points)
    for ax, (name, members) in zip(axes, panels_.items()):
        for point, color in zip(members, _colors(len(members))):
            _draw(ax, point, color, prefix=f"{name}, " if name else "")
        if ln2:
            ax.axhline(LN2, color="0.35", linestyle="--", linewidth=1, label=LN2_LABEL)
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=LEGEND_SIZE)
        if name:
            ax.set_title(plain(name), fontsize=LEGEND_SIZE + 1)
    for ax in axes[len(panels_):]:
        ax.set_visible(False)
    seeds = max(len(point.runs) for point in points)
    spread = "mean over seeds, band = min to max" if seeds > 1 else "one seed"
    if len(panels_) > 1:
        spread += "; each panel has its own y scale"
    fig.suptitle(plain(f"{title}\n{spread}" if title else spread), fontsize=LEGEND_SIZE + 1, wrap=True)
    return fig
