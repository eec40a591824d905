"""The diagnosis figure: signal size by depth, forward (root mean square of the pre-activations, what
theory's sqrt(q) predicts; the std in a wide layer) and backward (rms of dL/dz), measured against the
mean-field theory curve and its finite-width fluctuation band.

Built on matplotlib's object API (no pyplot state). Zero or non-finite values (a zeros init has
std 0 everywhere) cannot sit on a log axis; they are drawn as open markers on the bottom edge and
counted in the legend, so an empty panel never hides a real result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from initlab.report.curves import plain

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
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def diagnose_figure(diagnosis, path: str | Path | None = None, *, title: str | None = None) -> Figure:
    """Draw `diagnosis` (an `initlab.diagnose.Diagnosis`); save it as PNG when `path` is given."""
    layers = diagnosis.layers
    depth = np.array([s.index for s in layers], dtype=float)
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    forward, backward = fig.subplots(1, 2)
    _panel(forward, depth, _values(layers, "pre_rms"), _values(layers, "expected_pre_std"),
           "rms of pre-activations", (_values(layers, "band_low"), _values(layers, "band_high")))
    forward.set_title("forward: rms of each layer's output z (its std when the mean is 0)")
    _panel(backward, depth, _values(layers, "grad_rms"), _values(layers, "expected_grad_std"), "rms of dL/dz")
    backward.set_title("backward: rms of dL/dz (theory anchored at the last layer)")
    fig.suptitle(plain(title or f"{diagnosis.model}: {diagnosis.verdict}"))
    if path is not None:
        fig.savefig(Path(path), dpi=100)
    return fig
