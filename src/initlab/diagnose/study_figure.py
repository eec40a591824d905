"""The figures of a diagnose study (`initlab.diagnose.study`).

histograms.png: one row per scheme, Glorot & Bengio's (2010) figures 6-8 side by side: the normalized
histograms of the activations, of dL/dz and of dL/dW of a few layers spread over the depth (the first
seed's network). layers.png: per layer, the median and min..max band over seeds of the activation std,
the dL/dz std, Var(dL/dW) and the two-input correlation with the correlation map's prediction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SHOWN_LAYERS = 6
PANELS = (("activation", "activation values"), ("grad", "back-propagated gradients dL/dz"),
          ("weight_grad", "weight gradients dL/dW"))


def _shown(n_hidden: int) -> list[int]:
    """Up to SHOWN_LAYERS hidden-layer indices (0-based) spread evenly from the first to the last."""
    return sorted({int(round(i)) for i in np.linspace(0, n_hidden - 1, min(SHOWN_LAYERS, n_hidden))})


def histograms_figure(study, path: str | Path) -> None:
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    schemes = study.schemes
    figure = Figure(figsize=(13, 2.9 * len(schemes) + 0.4), layout="constrained")
    axes = np.atleast_2d(figure.subplots(len(schemes), len(PANELS), squeeze=False))
    for row, init in zip(axes, schemes):
        first = study.of(init)[0]
        layers = first.diagnosis.distributions or []
        hidden = layers[:-1] or layers
        shown = _shown(len(hidden))
        colours = colormaps["viridis"](np.linspace(0, 0.9, len(shown)))
        for ax, (key, title) in zip(row, PANELS):
            for colour, index in zip(colours, shown):
                h = hidden[index][key]
                edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"], dtype=float)
                total = counts.sum()
                if total:
                    ax.plot((edges[:-1] + edges[1:]) / 2, counts / total, color=colour, label=hidden[index]["name"])
            ax.set_title(f"{init} (seed {first.seed}): {title}", fontsize="small")
            ax.set_ylabel("fraction")
        row[0].legend(fontsize="x-small")
    figure.savefig(path, dpi=100)


LAYER_PANELS = (("activation_std", "activation std", True), ("grad_std", "dL/dz std", True),
                ("weight_grad_var", "Var(dL/dW)", True), ("correlation", "two inputs' |correlation|", False))


def layers_figure(study, path: str | Path) -> None:
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    figure = Figure(figsize=(13, 3.9), layout="constrained")
    axes = figure.subplots(1, len(LAYER_PANELS))
    colours = colormaps["tab10"].colors
    for colour, scheme in zip(colours, study.summary()):
        rows = scheme["layers"]
        for ax, (key, title, log) in zip(axes, LAYER_PANELS):
            _band(ax, rows, key, colour, f"{scheme['init']} ({scheme['seeds']} seeds)", positive=log)
            if key == "correlation":
                _band(ax, rows, "correlation_map", colour, None, "--")
            ax.set_title(title + (" (dashed: c-map)" if key == "correlation" else ""), fontsize="small")
            ax.set_xlabel("layer")
            if log:
                ax.set_yscale("log")
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=min(4, len(study.schemes)),
                  fontsize="small")
    figure.savefig(path, dpi=100)


def _band(ax, rows: list[dict], key: str, colour, label: str | None, style: str = "-", positive: bool = False) -> None:
    """The median over seeds as a line, min..max as a band (`positive`: only the layers a log axis can show)."""
    points = [(row["index"], row[key]) for row in rows if row.get(key)]
    if not points:
        return
    x = np.array([p[0] for p in points])
    median, low, high = (np.array([p[1][k] for p in points]) for k in range(3))
    if positive:
        keep = median > 0
        x, median, low, high = x[keep], median[keep], np.maximum(low[keep], 1e-300), high[keep]
    ax.plot(x, median, style, color=colour, label=label)
    if style == "-":
        ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)
