"""The diagnosis figure: signal size by depth, forward (root mean square of the pre-activations, what
theory's sqrt(q) predicts; the std in a wide layer) and backward (rms of dL/dz), measured against the
mean-field theory curve and its finite-width fluctuation band.

Built on matplotlib's object API (no pyplot state). Zero or non-finite values (a zeros init has
std 0 everywhere) cannot sit on a log axis; they are drawn as open markers on the bottom edge and
counted in the legend, so an empty panel never hides a real result. When some layer has identical
units (a zeros or constant init never breaks the symmetry), a third panel shows it: per layer, its
units and how many of them are distinct (identical units counted once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from initlab.report.curves import LEGEND_SIZE, plain

MEASURED, THEORY = "#1f5fbf", "#d0451b"


def _values(layers: Sequence, field: str) -> np.ndarray:
    return np.array([math.nan if getattr(s, field) is None else float(getattr(s, field)) for s in layers])


def _positive(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _panel(ax, depth: np.ndarray, measured: np.ndarray, expected: np.ndarray, what: str,
           band: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    shown, theory = _positive(measured), _positive(expected)
    if band is not None and np.isfinite(_positive(band[0])).any():
        ax.fill_between(depth, _positive(band[0]), _positive(band[1]), color=THEORY, alpha=0.15, lw=0,
                        label="finite-width band (±2 sd)")
    if np.isfinite(theory).any():
        ax.plot(depth, theory, color=THEORY, lw=1.8, label="theory (mean field)")
    ax.plot(depth, shown, "o-", color=MEASURED, ms=3.5, lw=1.2, label=f"measured {what}")
    missing = ~np.isfinite(shown)
    finite = np.concatenate([shown[~missing], theory[np.isfinite(theory)]])
    ax.set_yscale("log")
    if missing.any():
        bottom = finite.min() / 10 if finite.size else 1e-12
        ax.set_ylim(bottom=bottom, top=finite.max() * 10 if finite.size else 1.0)
        ax.plot(depth[missing], np.full(missing.sum(), bottom), "o", mfc="none", color=MEASURED, ms=6,
                clip_on=False, label=f"zero or not finite ({missing.sum()} layers)")
    ax.set_xlabel("layer")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=LEGEND_SIZE, loc="best")


def distinct_units(layer) -> int:
    """Units of a layer that differ from each other: each group of identical units counts once."""
    return int(layer.units - layer.duplicate_units + layer.duplicate_groups)


def has_duplicates(layers: Sequence) -> bool:
    return any(layer.duplicate_units for layer in layers)


def symmetry_panel(ax, layers: Sequence) -> None:
    """Bars per layer: its units (light) and its distinct units (dark), numbers written in for up to
    12 layers; log scale, so 1 distinct unit out of 100 is as visible as 100 out of 100."""
    depth = np.array([s.index for s in layers], dtype=float)
    units = np.array([s.units for s in layers], dtype=float)
    distinct = np.array([distinct_units(s) for s in layers], dtype=float)
    ax.bar(depth, units, width=0.8, color="0.85", edgecolor="0.6", label="units in the layer")
    bars = ax.bar(depth, distinct, width=0.5, color=MEASURED, label="distinct units (identical ones counted once)")
    if len(layers) <= 12:
        ax.bar_label(bars, labels=[f"{d:.0f} of {u:.0f}" for d, u in zip(distinct, units)], fontsize=LEGEND_SIZE)
    ax.set_yscale("log")
    ax.set_ylim(0.5, units.max() * 3)
    ax.set_xlabel("layer")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("units")
    ax.legend(fontsize=LEGEND_SIZE, loc="upper right")
    wide = [s for s in layers if s.units > 1]  # a one-unit layer is trivially "all identical"
    identical = sum(distinct_units(s) == 1 for s in wide)
    ax.set_title(f"symmetry: distinct units per layer\n({identical} of {len(wide)} layers with > 1 unit: "
                 "every unit identical)", fontsize=LEGEND_SIZE + 1)


def diagnose_figure(diagnosis, path: str | Path | None = None, *, title: str | None = None) -> Figure:
    """Draw `diagnosis` (an `initlab.diagnose.Diagnosis`); save it as PNG when `path` is given."""
    layers = diagnosis.layers
    depth = np.array([s.index for s in layers], dtype=float)
    symmetric = has_duplicates(layers)
    fig = Figure(figsize=(16, 4.4) if symmetric else (11, 4.2), layout="constrained")
    forward, backward, *rest = fig.subplots(1, 3 if symmetric else 2)
    if symmetric:
        symmetry_panel(rest[0], layers)
    _panel(forward, depth, _values(layers, "pre_rms"), _values(layers, "expected_pre_std"),
           "rms of pre-activations", (_values(layers, "band_low"), _values(layers, "band_high")))
    forward.set_title("forward: rms of each layer's output z\n(its std when the mean is 0)", fontsize=LEGEND_SIZE + 1)
    _panel(backward, depth, _values(layers, "grad_rms"), _values(layers, "expected_grad_std"), "rms of dL/dz")
    covered = np.isfinite(_values(layers, "expected_grad_std")).any()  # nan: the chain theory does not cover it
    backward.set_title("backward: rms of dL/dz\n" + ("(theory anchored at the last layer)" if covered else
                                                     "(no chain theory: residual/normalized model)"),
                       fontsize=LEGEND_SIZE + 1)
    fig.suptitle(plain(title or f"{diagnosis.model}: {diagnosis.verdict}"))
    if path is not None:
        fig.savefig(Path(path), dpi=100)
    return fig
