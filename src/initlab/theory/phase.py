"""The (sigma_w^2, sigma_b^2) phase diagram: trainable depth 6 xi_c as a heat map, the critical line,
and where common initializations sit.

The title names the regions the grid actually holds: tanh has an ordered phase (chi_1 < 1, left of
the critical line) and a chaotic one (chi_1 > 1, right of it); relu has no chaotic phase: right of
sigma_w^2 = 2 its q grows without bound (no fixed point q*, drawn grey).

Markers (zero biases, so on the sigma_b^2 = 0 edge), each sigma_w^2 = fan_in * Var(W):
Xavier/Glorot (Glorot & Bengio 2010) Var = 2 / (fan_in + fan_out), 1 for a square layer;
He/Kaiming (He et al. 2015) Var = 2 / fan_in, 2; `randn * 10` (normal(std=10), the large init of
Andrew Ng's and the deeplearning.ai courses) Var = 100, so sigma_w^2 = 100 * fan_in: 10,000 for the
default fan_in = 100 (the width `initlab diagnose` uses), far right of the usual chart and then
drawn as an arrow on its right edge with its value.

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
FAN_IN = 100
LEGEND_SIZE = 9


def phase_grid(act: str, sigma_w2: np.ndarray, sigma_b2: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """Trainable depth 6 xi_c on the grid, shape (len(sigma_b2), len(sigma_w2)); nan where q* diverges.

    >>> phase_grid("relu", np.array([1.0, 1.5]), np.array([0.0])).round(2).tolist()
    [[8.66, 20.86]]
    """
    return phase_map(act, sigma_w2, sigma_b2, slope)[0]


def phase_map(act: str, sigma_w2: np.ndarray, sigma_b2: np.ndarray,
              slope: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """(trainable depth as in `phase_grid`, phase per cell: 'ordered', 'chaotic', 'critical' or
    'diverges' where q* is infinite)."""
    phi = activation(act, slope)
    depth = np.full((len(sigma_b2), len(sigma_w2)), math.nan)
    phases = np.full(depth.shape, "diverges", dtype=object)
    for i, b in enumerate(sigma_b2):
        for j, w in enumerate(sigma_w2):
            q, _, _, xi, phase = depth_scale(phi, float(w), float(b))
            if math.isfinite(q) or phase == "critical":
                depth[i, j] = min(MAX_DEPTH, TRAINABLE_DEPTHS * xi)
                phases[i, j] = phase
    return depth, phases


def regions_title(name: str, phases: np.ndarray) -> str:
    r"""The title naming the regions present in `phases`.

    >>> regions_title("relu", np.array([["ordered", "diverges"]], dtype=object))
    'relu: ordered left of the critical line (chi_1 < 1)\ngrey: q* diverges (no fixed point); no chaotic phase'
    >>> regions_title("tanh", np.array([["ordered", "chaotic"]], dtype=object))
    'tanh: ordered left of the critical line (chi_1 < 1)\nchaotic right of it (chi_1 > 1)'
    """
    present = set(phases.ravel())
    lines = []
    if "ordered" in present:
        lines.append("ordered left of the critical line (chi_1 < 1)")
    if "chaotic" in present:
        lines.append("chaotic right of it (chi_1 > 1)")
    last = (["grey: q* diverges (no fixed point)"] if "diverges" in present else []) + (
        ["no chaotic phase"] if "chaotic" not in present else [])
    if last:
        lines.append("; ".join(last))
    return f"{name}: " + "\n".join(lines or ["critical"])


def init_points(fan_in: int = FAN_IN) -> list[tuple[str, float]]:
    """(label, sigma_w^2) of Xavier (square layer), He and randn * 10 on a layer of `fan_in` inputs."""
    return [("Xavier (square layer)", 1.0), ("He", 2.0), (f"randn * 10 on fan_in {fan_in}", 100.0 * fan_in)]


def critical_line(act: str, sigma_b2: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """critical sigma_w^2 for each sigma_b^2 (nan where there is none)."""
    def one(b: float) -> float:
        try:
            return critical_sigma_w2(act, b, slope)
        except ValueError:
            return math.nan
    return np.array([one(float(b)) for b in sigma_b2])


def phase_plot(act: str, *, sigma_w2_max: float | None = None, sigma_b2_max: float = 0.3,
               resolution: int = 41, slope: float = 0.01, fan_in: int = FAN_IN) -> Figure:
    """The phase diagram of `act` as a figure (module docstring); `resolution` is at most
    `MAX_RESOLUTION`, the edges at most `MAX_VARIANCE` (see `initlab.theory.theory`)."""
    phi = activation(act, slope)
    resolution = integer("resolution", resolution, minimum=3, maximum=MAX_RESOLUTION)
    fan_in = integer("fan_in", fan_in, minimum=1)
    sigma_b2_max = number("sigma_b2_max", sigma_b2_max, positive=True, maximum=MAX_VARIANCE)
    if sigma_w2_max is None:
        sigma_w2_max = 2.5 * critical_sigma_w2(phi, 0.0, slope)
    sigma_w2_max = number("sigma_w2_max", sigma_w2_max, positive=True, maximum=MAX_VARIANCE)
    w = np.linspace(sigma_w2_max / resolution, sigma_w2_max, resolution)
    b = np.linspace(0.0, sigma_b2_max, resolution)
    depth, phases = phase_map(act, w, b, slope)
    fig = Figure(figsize=(8.6, 5.8), layout="constrained")
    ax = fig.subplots()
    mesh = ax.pcolormesh(w, b, np.ma.masked_invalid(depth), norm=LogNorm(1.0, MAX_DEPTH), cmap="viridis",
                         shading="nearest")
    fig.colorbar(mesh, ax=ax, label="trainable depth ~ 6 xi_c (layers)")
    fine = np.linspace(0.0, sigma_b2_max, 2 * resolution)
    ax.plot(critical_line(act, fine, slope), fine, color="white", lw=2, label="critical line (chi_1 = 1)")
    for (label, x), marker in zip(init_points(fan_in), ("o", "s", "D")):
        inside = x <= w[-1]
        shown = f"{label}: sigma_w^2 = {x:g}" + ("" if inside else " (off chart ->)")
        ax.plot([x if inside else w[-1]], [0.0], marker if inside else ">", ms=10, mec="black", mfc="white",
                clip_on=False, zorder=5, linestyle="none", label=shown)
    ax.set_xlim(w[0], w[-1])
    ax.set_ylim(0.0, sigma_b2_max)
    ax.set_xlabel("sigma_w^2 (fan_in x weight variance)")
    ax.set_ylabel("sigma_b^2 (bias variance)")
    ax.set_title(regions_title(phi.name, phases), fontsize=LEGEND_SIZE + 1)
    ax.set_facecolor("0.8")
    fig.legend(loc="outside lower center", ncols=2, fontsize=LEGEND_SIZE, facecolor="0.8")  # the white line shows
    return fig


def phase_figure(act: str, path: Path, *, sigma_w2_max: float | None = None, sigma_b2_max: float = 0.3,
                 resolution: int = 41, slope: float = 0.01, fan_in: int = FAN_IN) -> Path:
    """Draw the phase diagram of `act` (`phase_plot`) to `path` (PNG); the folder of `path` is created
    with its parents if missing (refused before drawing if it cannot be)."""
    path = output_file("out", path, "phase.png")
    fig = phase_plot(act, sigma_w2_max=sigma_w2_max, sigma_b2_max=sigma_b2_max, resolution=resolution,
                     slope=slope, fan_in=fan_in)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
