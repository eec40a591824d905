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

The overall verdict is "grows" if any module grows, else "shrinks" if any shrinks, else "stable";
`first_broken` names the modules with that verdict that broke at the earliest step, the largest
|slope| at that step first.

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


def _verdict(mean: np.ndarray, tolerance: float) -> tuple[str, int | None]:
    grows = ~(mean < tolerance)  # nan counts as broken upwards: the run went non-finite somewhere
    if grows.any():
        return "grows", _first(grows)
    shrinks = mean <= -tolerance
    if shrinks[-1]:
        stays = np.flatnonzero(~shrinks)
        return "shrinks", int(stays[-1]) + 1 if stays.size else 0
    return "stable", None


def _number(x: float) -> float | None:
    """JSON has no inf or nan: None."""
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class ModuleCheck:
    """One module: `rms` [step][size] (mean over seeds), `rms_seeds` [seed][step][size], `slopes` and
    `slope_spread` [step], `verdict` and `broken_at` (the step it broke at; None when stable)."""

    name: str
    role: str
    rms: list[list[float]]
    rms_seeds: list[list[list[float]]]
    slopes: list[float]
    slope_spread: list[float]
    verdict: str
    broken_at: int | None

    def to_json(self) -> dict:
        return {"name": self.name, "role": self.role,
                "rms": [[_number(v) for v in row] for row in self.rms],
                "slopes": [_number(v) for v in self.slopes],
                "slope_spread": [_number(v) for v in self.slope_spread],
                "verdict": self.verdict, "broken_at": self.broken_at}


def module_check(name: str, role: str, rms: np.ndarray, sizes, tolerance: float = TOLERANCE) -> ModuleCheck:
    """The `ModuleCheck` of `rms` [seed][step][size] (module doc)."""
    rms = np.asarray(rms, dtype=float)
    per_seed = slopes(rms, sizes)
    with np.errstate(invalid="ignore"):
        mean = per_seed.mean(axis=0)
        spread = per_seed.std(axis=0, ddof=1) if len(per_seed) > 1 else np.zeros_like(mean)
    verdict, broken = _verdict(mean, tolerance)
    return ModuleCheck(name, role, rms.mean(axis=0).tolist(), rms.tolist(), mean.tolist(), spread.tolist(),
                       verdict, broken)


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
        found = {m.verdict for m in self.modules}
        return "grows" if "grows" in found else "shrinks" if "shrinks" in found else "stable"

    @property
    def first_broken(self) -> list[str]:
        """The modules with the overall verdict that broke at the earliest step, largest |slope| first."""
        broken = [m for m in self.modules if m.verdict == self.verdict and m.broken_at is not None]
        if not broken:
            return []
        step = min(m.broken_at for m in broken)
        first = sorted((m for m in broken if m.broken_at == step), key=lambda m: -abs(m.slopes[step]))
        return [m.name for m in first]

    def module(self, name: str) -> ModuleCheck:
        return next(m for m in self.modules if m.name == name)

    def to_json(self) -> dict:
        return {"config": self.config, "axis": self.axis, self.axis + "s": list(self.sizes), "steps": self.steps,
                "tolerance": self.tolerance, "modules": [m.to_json() for m in self.modules],
                "verdict": self.verdict, "first_broken": self.first_broken}
