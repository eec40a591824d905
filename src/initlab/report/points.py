"""Run records grouped into grid points: runs whose configs differ only in the seed.

A run record is a dict shaped like `Run.to_json()` (init, seed, final_cost, train_accuracy,
test_accuracy, diverged, diverged_at, cost_history, ...) plus "config": the resolved
`CompareConfig.to_json()` of that run. The record's "init" names its scheme (a compare's config
lists every scheme in "inits"; a sweep's lists just that run's).

>>> config = {"data": "circles", "hidden": [10, 5], "lr": 0.1, "inits": ["he_normal"], "seeds": 2}
>>> runs = [{"init": "he_normal", "seed": s, "final_cost": c, "diverged": False, "config": config}
...         for s, c in [(0, 0.25), (1, 0.75)]]
>>> [(p.label, p.seeds, p.cost_median) for p in group_points(runs)]
[('he_normal', [0, 1], 0.5)]
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from initlab._errors import ArgumentError

# Config fields that are not part of a grid point (the seed) or are replaced by the run's own scheme.
SEED_FIELDS = ("seeds", "first_seed")
# Fields that may differ between points but would only clutter a label.
QUIET_FIELDS = ("record_interval", "note", "initlab_version")
REQUIRED = ("init", "seed", "final_cost", "diverged")


@dataclass
class Point:
    """One grid point: its settings (config minus seed, with this point's scheme) and its runs."""

    settings: dict
    runs: list[dict] = field(default_factory=list)
    label: str = ""

    @property
    def init(self) -> str:
        return self.settings["init"]

    @property
    def seeds(self) -> list:
        return [run["seed"] for run in self.runs]

    @property
    def n_diverged(self) -> int:
        return sum(1 for run in self.runs if _diverged(run))

    @property
    def costs(self) -> list[float]:
        """Final costs of the runs that did not diverge."""
        return [float(run["final_cost"]) for run in self.runs if not _diverged(run)]

    @property
    def cost_median(self) -> float | None:
        return float(np.median(self.costs)) if self.costs else None

    def mean(self, key: str) -> float | None:
        values = [run.get(key) for run in self.runs]
        values = [float(v) for v in values if v is not None]
        return float(np.mean(values)) if values else None

    def histories(self) -> list[list[tuple[int, float]]]:
        """The cost histories of the runs that did not diverge, nulls as NaN."""
        return [[(int(i), math.nan if c is None else float(c)) for i, c in run.get("cost_history") or []]
                for run in self.runs if not _diverged(run)]


def _diverged(run: dict) -> bool:
    return bool(run["diverged"]) or run["final_cost"] is None or not math.isfinite(run["final_cost"])


def records_from_compare(document: dict) -> list[dict]:
    """Run records of a compare result document (`CompareResult.to_json()`): each run gets its config
    and, when the document has them, the training points its decision boundary is drawn over (one
    shared object, not a copy per run)."""
    extra = {"train_points": document["train_points"]} if document.get("train_points") else {}
    return [{**run, "config": document["config"], **extra} for run in document["runs"]]


def _settings(run: dict, config: dict) -> dict:
    init = run["init"]
    settings = {k: v for k, v in config.items() if k not in (*SEED_FIELDS, "inits", "labels")}
    label = (config.get("labels") or {}).get(init)
    settings = {"init": init, **({"init_label": label} if label and label != init else {}), **settings}
    return settings


def key(value) -> str:
    """A hashable, order-independent form of a JSON value."""
    return json.dumps(value, sort_keys=True, default=str)


def group_points(runs: Sequence[dict], config: dict | None = None) -> list[Point]:
    """Group run records into points (in order of first appearance) and label them.

    `config` is used for records that carry no "config" of their own.
    """
    if not runs:
        raise ArgumentError("runs", "expected at least one run record, got none")
    points: dict[str, Point] = {}
    for index, run in enumerate(runs):
        if not isinstance(run, dict):
            raise TypeError(f"runs[{index}]: expected a run record (dict), got {type(run).__name__}")
        missing = [name for name in REQUIRED if name not in run]
        if missing:
            raise ValueError(f"runs[{index}]: missing {', '.join(repr(m) for m in missing)}")
        run_config = run.get("config") if run.get("config") is not None else config or {}
        settings = _settings(run, run_config)
        points.setdefault(key(settings), Point(settings)).runs.append(run)
    result = list(points.values())
    varying = varying_fields(result)
    for point in result:
        point.label = label(point, varying)
    return result


def varying_fields(points: Sequence[Point]) -> list[str]:
    """Settings whose values are not the same for every point (missing counts as a value), in order."""
    names = list(dict.fromkeys(name for point in points for name in point.settings))
    return [name for name in names if len({key(p.settings.get(name)) for p in points}) > 1]


def shared_settings(points: Sequence[Point]) -> dict:
    varying = set(varying_fields(points))
    return {name: value for name, value in points[0].settings.items() if name not in varying}


def format_value(value) -> str:
    """Short text for a setting: 10,5 or 16x4 for a list, 0.1 for a float, '-' for None.

    >>> format_value([10, 5]), format_value([16, 16, 16, 16]), format_value(0.1), format_value(None)
    ('10,5', '16x4', '0.1', '-')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        if len(value) > 2 and len({key(v) for v in value}) == 1:
            return f"{format_value(value[0])}x{len(value)}"  # hidden [16, 16, 16, 16] as 16x4, like --hidden
        return ",".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    return str(value)


def label(point: Point, varying: Sequence[str]) -> str:
    """The scheme (or its display label) and every other field that differs between points."""
    parts = [point.settings.get("init_label") or point.init]
    for name in varying:
        if name not in ("init", "init_label", *QUIET_FIELDS):
            parts.append(f"{name}={format_value(point.settings.get(name))}")
    return ", ".join(parts)
