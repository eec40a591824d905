"""Cost curves of grid points: the mean over seeds as a line, the min-max band shaded, log-scale y.

One plot for up to `MAX_LINES` points, else small multiples: one panel per scheme.
Follows `cost_figure`'s conventions: diverged runs stay out of the band and are counted in the
label. Built on matplotlib's object API (no pyplot state).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from initlab.report.figures import cost_curves
from initlab.report.points import Point

MAX_LINES = 8  # more points than this get one panel per scheme
MAX_PANELS = 12


def plain(text: str) -> str:
    """Text shown literally by matplotlib: a '$' would otherwise start mathtext."""
    return str(text).replace("$", r"\$")


def scheme_name(init: str) -> str:
    """'normal(std=10)' -> 'normal' (the text before the parenthesis)."""
    return str(init).split("(", 1)[0].strip()


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
        by_name.setdefault(scheme_name(point.init), []).append(point)
    return by_name


def cost_points_figure(points: Sequence[Point], title: str = "") -> Figure:
    """Cost vs iteration, one line per point (mean over seeds, min-max band), log-scale y."""
    panels_ = panels(points)
    n_cols = min(3, len(panels_))
    n_rows = -(-len(panels_) // n_cols)
    size = (8, 5) if len(panels_) == 1 else (4.6 * n_cols, 3.8 * n_rows)
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharey=True).ravel()
    for ax, (name, members) in zip(axes, panels_.items()):
        for point, color in zip(members, _colors(len(members))):
            _draw(ax, point, color, prefix=f"{name}, " if name else "")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7 if len(panels_) == 1 else 6)
        if name:
            ax.set_title(plain(name), fontsize=10)
    for ax in axes[: len(axes): n_cols]:
        ax.set_ylabel("training cost")
    for ax in axes[len(panels_):]:
        ax.set_visible(False)
    seeds = max(len(point.runs) for point in points)
    spread = "mean over seeds, band = min to max" if seeds > 1 else "one seed"
    fig.suptitle(plain(f"{title}\n{spread}" if title else spread), fontsize=9)
    return fig
