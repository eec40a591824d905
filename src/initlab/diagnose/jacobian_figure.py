"""jacobian.png: the histogram of the hidden Jacobian's singular values (`initlab.diagnose.jacobian`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def jacobian_figure(jacobian: dict, path: str | Path, title: str | None = None) -> None:
    """Bars of log10(s) with the measured and mean-field root-mean-square singular value marked; isometry
    (every s = 1) is a single bar at 0."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = figure.subplots()
    histogram = jacobian.get("histogram")
    if histogram:
        edges = np.asarray(histogram["log10_edges"])
        ax.stairs(histogram["counts"], edges, fill=True, alpha=0.6, label="singular values")
    for key, label, style in (("mean_square", "measured rms", "-"), ("theory_mean_square", "mean-field rms", "--")):
        if jacobian.get(key):
            ax.axvline(0.5 * np.log10(jacobian[key]), color="black", linestyle=style, label=label)
    ax.axvline(0.0, color="tab:green", linewidth=0.8, label="isometry (s = 1)")
    zero = histogram.get("zero", 0) if histogram else 0
    ax.set_xlabel("log10 singular value of d h(L) / d h(1)" + (f"  ({zero} exactly 0, not shown)" if zero else ""))
    ax.set_ylabel("count")
    ax.set_title(title or f"Jacobian from {jacobian['from']} to {jacobian['to']}, {jacobian['examples']} inputs")
    ax.legend(fontsize="small")
    figure.savefig(path, dpi=110)
