"""What a coordinate check found: per module the rms of its output at each step and size, the slope of
log(rms) against log(size) per step, and a verdict (`initlab.torch.coordcheck` measures it).

Slopes: for each seed and step, the least-squares slope of log(rms) on log(size) over the sizes
(widths or depths); the module's slope is their mean over seeds and its spread their standard
deviation (ddof 1; 0 for one seed). An rms of 0 at every size has slope 0 (a zero-initialised readout
stays put); at some sizes only, it counts as the smallest positive float (a layer dead at one width:
a steep slope); a non-finite rms (the run diverged) gives slope +inf.

Verdicts, with `tolerance` = 0.1 by default:

- a module *grows* when its slope is >= tolerance at some step (it broke at the first such step);
- else it *shrinks* when its slope is <= -tolerance at the last step T (it broke at the first step
  from which the slope stays there): a coordinate that vanishes at scale after training. A shrinking
  slope only at step 0 is allowed: muP's readout starts at O(1/sqrt(width)) by design and is O(1)
  after one step;
- else it is *stable*.

Attention logits never *shrink*: with muP's 1/d scale (and a zero-initialised query) they start at 0
and stay below O(1) early in training by design. The same rules apply to each module's *update*, the
rms of (output at step t - output at step 0): muP wants every update Theta(1) (Tensor Programs V's
desideratum), and an update that shrinks with width (a layer whose learning rate is scaled down too
much) leaves the output's rms at its init value, where the output's own slope cannot see it.

The overall verdict is "grows" if any output or update grows, else "shrinks" if any shrinks, else
"stable"; `first_broken` names the modules whose output or update has that verdict from the earliest
step on, the largest |slope| at that step first.

>>> import numpy as np
>>> sizes = [64, 128, 256]
>>> rms = np.array([[[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]])  # 1 seed, steps 0 and 1, 3 sizes
>>> slopes(rms, sizes).round(6).tolist()
[[0.0, 1.0]]
>>> check = module_check("fc", "hidden", rms, sizes, tolerance=0.1)
>>> check.verdict, check.broken_at, np.round(check.slopes, 6).tolist()
('grows', 1, [0.0, 1.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

TOLERANCE = 0.1
TINY = np.finfo(float).tiny
ROLES = ("embedding", "hidden", "attention logits", "readout")
VERDICTS = ("stable", "grows", "shrinks")


def slopes(rms: np.ndarray, sizes) -> np.ndarray:
    """Least-squares slopes of log(rms) on log(sizes) along the last axis of `rms` (module doc)."""
    x = np.log(np.asarray(sizes, dtype=float))
    x = x - x.mean()
    rms = np.asarray(rms, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(np.where(rms == 0, TINY, rms))
        y = y - y.mean(axis=-1, keepdims=True)
        found = (y * x).sum(axis=-1) / (x * x).sum()
    found = np.where((rms == 0).all(axis=-1), 0.0, found)
    return np.where(np.isfinite(rms).all(axis=-1), found, np.inf)


def _first(condition: np.ndarray) -> int | None:
    hits = np.flatnonzero(condition)
    return int(hits[0]) if hits.size else None


def _verdict(mean: np.ndarray, tolerance: float, may_shrink: bool = True) -> tuple[str, int | None]:
    grows = ~(mean < tolerance)  # nan counts as broken upwards: the run went non-finite somewhere
    if grows.any():
        return "grows", _first(grows)
    shrinks = mean <= -tolerance
    if may_shrink and shrinks[-1]:
        stays = np.flatnonzero(~shrinks)
        return "shrinks", int(stays[-1]) + 1 if stays.size else 0
    return "stable", None


def _number(x: float) -> float | None:
    """JSON has no inf or nan: None."""
    return float(x) if math.isfinite(x) else None


def _fit(rms: np.ndarray, sizes, tolerance: float, may_shrink: bool):
    """(mean over seeds [step][size], slopes, spreads, verdict, broken_at) of `rms` [seed][step][size]."""
    per_seed = slopes(rms, sizes)
    with np.errstate(invalid="ignore"):
        mean = per_seed.mean(axis=0)
        spread = per_seed.std(axis=0, ddof=1) if len(per_seed) > 1 else np.zeros_like(mean)
    verdict, broken = _verdict(mean, tolerance, may_shrink)
    return rms.mean(axis=0).tolist(), mean.tolist(), spread.tolist(), verdict, broken


@dataclass(frozen=True)
class ModuleCheck:
    """One module: `rms` [step][size] (mean over seeds), `rms_seeds` [seed][step][size], `slopes` and
    `slope_spread` [step], `verdict` and `broken_at` (the step it broke at; None when stable); the same
    for its update, the rms of (output at step t - output at step 0): `delta`, `delta_slopes`,
    `delta_spread`, `delta_verdict`, `delta_broken_at` (all stable and empty when not recorded)."""

    name: str
    role: str
    rms: list[list[float]]
    rms_seeds: list[list[list[float]]]
    slopes: list[float]
    slope_spread: list[float]
    verdict: str
    broken_at: int | None
    delta: list[list[float]] = field(default_factory=list)
    delta_slopes: list[float] = field(default_factory=list)
    delta_spread: list[float] = field(default_factory=list)
    delta_verdict: str = "stable"
    delta_broken_at: int | None = None

    def breaks(self, verdict: str) -> int | None:
        """The first step at which the output or its update breaks the check with `verdict`; None if neither."""
        steps = [step for v, step in ((self.verdict, self.broken_at), (self.delta_verdict, self.delta_broken_at))
                 if v == verdict and step is not None]
        return min(steps, default=None)

    def to_json(self) -> dict:
        def numbers(values):
            return [_number(v) for v in values]
        return {"name": self.name, "role": self.role, "rms": [numbers(row) for row in self.rms],
                "slopes": numbers(self.slopes), "slope_spread": numbers(self.slope_spread),
                "verdict": self.verdict, "broken_at": self.broken_at,
                "delta": [numbers(row) for row in self.delta], "delta_slopes": numbers(self.delta_slopes),
                "delta_spread": numbers(self.delta_spread), "delta_verdict": self.delta_verdict,
                "delta_broken_at": self.delta_broken_at}


def module_check(name: str, role: str, rms: np.ndarray, sizes, tolerance: float = TOLERANCE,
                 delta: np.ndarray | None = None) -> ModuleCheck:
    """The `ModuleCheck` of `rms` (and `delta`, the update's rms) [seed][step][size] (module doc)."""
    may_shrink = role != "attention logits"
    rms = np.asarray(rms, dtype=float)
    mean, slope, spread, verdict, broken = _fit(rms, sizes, tolerance, may_shrink)
    extra = {}
    if delta is not None:
        d_mean, d_slope, d_spread, d_verdict, d_broken = _fit(np.asarray(delta, dtype=float), sizes, tolerance,
                                                              may_shrink)
        extra = dict(delta=d_mean, delta_slopes=d_slope, delta_spread=d_spread, delta_verdict=d_verdict,
                     delta_broken_at=d_broken)
    return ModuleCheck(name, role, mean, rms.tolist(), slope, spread, verdict, broken, **extra)


@dataclass(frozen=True)
class CoordCheck:
    """A coordinate check: `axis` ("width" or "depth"), `sizes`, `steps` (T), the `modules` in call
    order, the `config` it ran with and the `tolerance` of the verdicts."""

    axis: str
    sizes: list[int]
    steps: int
    modules: list[ModuleCheck]
    config: dict = field(default_factory=dict)
    tolerance: float = TOLERANCE

    @property
    def verdict(self) -> str:
        found = {m.verdict for m in self.modules} | {m.delta_verdict for m in self.modules}
        return "grows" if "grows" in found else "shrinks" if "shrinks" in found else "stable"

    @property
    def first_broken(self) -> list[str]:
        """The modules whose output or update has the overall verdict from the earliest step on, the
        largest |slope| at that step first."""
        verdict = self.verdict
        broken = [(m.breaks(verdict), m) for m in self.modules if m.breaks(verdict) is not None]
        if not broken:
            return []
        step = min(s for s, _ in broken)

        def size(m):
            return max(abs(m.slopes[step]), abs(m.delta_slopes[step]) if m.delta_slopes else 0.0)
        return [m.name for m in sorted((m for s, m in broken if s == step), key=lambda m: -size(m))]

    def module(self, name: str) -> ModuleCheck:
        return next(m for m in self.modules if m.name == name)

    def to_json(self) -> dict:
        return {"config": self.config, "axis": self.axis, self.axis + "s": list(self.sizes), "steps": self.steps,
                "tolerance": self.tolerance, "modules": [m.to_json() for m in self.modules],
                "verdict": self.verdict, "first_broken": self.first_broken}
