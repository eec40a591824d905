"""The (sigma_w^2, sigma_b^2) phase diagram: trainable depth 6 xi_c as a heat map, the critical line.

Built on matplotlib's object API (no pyplot state), saved as PNG.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from initlab._checks import integer, number, output_file
from initlab.theory.activations import activation
from initlab.theory.meanfield import MAX_VARIANCE, TRAINABLE_DEPTHS, critical_sigma_w2, depth_scale

MAX_RESOLUTION = 201  # grid points per axis: ~40,000 points, a minute or two for tanh on one core
MAX_DEPTH = 1000.0  # the colour scale's top; critical points (xi_c = inf) are drawn there


def phase_grid(act: str, sigma_w2: np.ndarray, sigma_b2: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """Trainable depth 6 xi_c on the grid, shape (len(sigma_b2), len(sigma_w2)); nan where q* diverges.

    >>> phase_grid("relu", np.array([1.0, 1.5]), np.array([0.0])).round(2).tolist()
    [[8.66, 20.86]]
    """
    phi = activation(act, slope)
    depth = np.full((len(sigma_b2), len(sigma_w2)), math.nan)
    for i, b in enumerate(sigma_b2):
        for j, w in enumerate(sigma_w2):
            q, _, _, xi, phase = depth_scale(phi, float(w), float(b))
            if math.isfinite(q) or phase == "critical":
                depth[i, j] = min(MAX_DEPTH, TRAINABLE_DEPTHS * xi)
    return depth


def critical_line(act: str, sigma_b2: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """critical sigma_w^2 for each sigma_b^2 (nan where there is none)."""
    def one(b: float) -> float:
        try:
            return critical_sigma_w2(act, b, slope)
        except ValueError:
            return math.nan
    return np.array([one(float(b)) for b in sigma_b2])


def phase_figure(act: str, path: Path, *, sigma_w2_max: float | None = None, sigma_b2_max: float = 0.3,
                 resolution: int = 41, slope: float = 0.01) -> Path:
    """Draw the phase diagram of `act` to `path` (PNG); the folder of `path` is created if needed.

    `resolution` is at most `MAX_RESOLUTION`, the edges at most `MAX_VARIANCE` (see `theory`)."""
    phi = activation(act, slope)
    resolution = integer("resolution", resolution, minimum=3, maximum=MAX_RESOLUTION)
    sigma_b2_max = number("sigma_b2_max", sigma_b2_max, positive=True, maximum=MAX_VARIANCE)
    if sigma_w2_max is None:
        sigma_w2_max = 2.5 * critical_sigma_w2(phi, 0.0, slope)
    sigma_w2_max = number("sigma_w2_max", sigma_w2_max, positive=True, maximum=MAX_VARIANCE)
    path = output_file("out", path, "phase.png")
    w = np.linspace(sigma_w2_max / resolution, sigma_w2_max, resolution)
    b = np.linspace(0.0, sigma_b2_max, resolution)
    depth = phase_grid(act, w, b, slope)
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.subplots()
    mesh = ax.pcolormesh(w, b, np.ma.masked_invalid(depth), norm=LogNorm(1.0, MAX_DEPTH), cmap="viridis",
                         shading="nearest")
    fig.colorbar(mesh, ax=ax, label="trainable depth ~ 6 xi_c (layers)")
    fine = np.linspace(0.0, sigma_b2_max, 2 * resolution)
    ax.plot(critical_line(act, fine, slope), fine, color="white", lw=2, label="critical line (chi_1 = 1)")
    ax.set_xlim(w[0], w[-1])
    ax.set_ylim(0.0, sigma_b2_max)
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("sigma_b^2")
    ax.set_title(f"{phi.name}: ordered (left) / chaotic (right); grey: q diverges")
    ax.set_facecolor("0.8")
    ax.legend(loc="upper left")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
