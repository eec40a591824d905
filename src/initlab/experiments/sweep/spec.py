"""A sweep: fixed settings, a grid of values to cross, and a number of seeds.

A sweep is a TOML file or the same dict. Keys are the `compare` options: top-level data
settings and `seeds`, a `[model]` and a `[train]` table, and a `[grid]` table whose keys are
the same dotted names (``"model.init"``, ``"train.lr"``, ``"data"``) with lists of values; an
axis replaces a fixed setting of the same name.
Every grid point is one `CompareConfig` with a single scheme; it runs with seeds 0..seeds-1.
A sweep holds at most MAX_RUNS runs (points x seeds, counted before the grid is expanded).
When `model.init` is neither fixed nor in the grid, the four default schemes of `compare`
(zeros, normal(std=10), he_normal, xavier_normal) are a grid axis. A numeric axis can be written as a
range, ``{from = 1, to = 4, steps = 7}`` (evenly spaced, both ends included) or with ``log = true``
(evenly spaced in log), expanded by `expand_range`.

>>> sweep = load_sweep({"seeds": 2, "model": {"hidden": "10,5"},
...                     "grid": {"model.init": ["zeros", "he_normal"], "train.lr": [0.1, 0.01]}})
>>> len(sweep.points), sweep.n_runs
(4, 8)
>>> sweep.points[1].axes, sweep.points[1].config.inits, sweep.points[1].config.hidden
({'model.init': 'zeros', 'train.lr': 0.01}, ('zeros',), (10, 5))
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from initlab._errors import ArgumentError, did_you_mean, renamed
from initlab.experiments.config import SOURCE_SCHEMES, CompareConfig
from initlab.options import parse_hidden

MAX_RUNS = 100_000  # runs in one sweep (grid points x seeds); counted before the grid is expanded

# Sweep key -> CompareConfig field, in the order tables and exports show them.
KEYS = {
    "data": "data", "test_data": "test_data", "n_samples": "n_samples", "noise": "noise",
    "image_size": "image_size", "test_fraction": "test_fraction", "standardize": "standardize",
    "data_seed": "data_seed", "seeds": "seeds",
    "model.hidden": "hidden", "model.activation": "activation", "model.output": "output",
    "model.init": "inits", "model.bias_init": "bias_init",
    "train.lr": "lr", "train.iterations": "iterations", "train.optimizer": "optimizer",
    "train.batch_size": "batch_size", "train.dtype": "dtype", "train.record_every": "record_every",
}
# CompareConfig field (or the name its errors use) -> sweep key.
FIELD_KEYS = {field: key for key, field in KEYS.items()} | {"init": "model.init",
                                                            "record_interval": "train.record_interval"}
STRINGS = {"data", "test_data", "model.activation", "model.output", "model.init", "model.bias_init",
           "train.optimizer", "train.dtype"}
# Left out of a run's identity: the seeds are the run's own, the rest is presentation.
NOT_HASHED = ("seeds", "first_seed", "initlab_version", "labels", "note")


def digest(document: object) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of `document`."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def settings(config: CompareConfig) -> dict:
    """The resolved config that identifies a grid point: `config.to_json()` without NOT_HASHED."""
    return {k: v for k, v in config.to_json().items() if k not in NOT_HASHED}


def run_key(point_settings: dict, seed: int) -> str:
    """The store key of one run: `digest({"config": settings, "seed": seed})`."""
    return digest({"config": point_settings, "seed": seed})


def config_from_settings(point_settings: dict, seeds: int = 1) -> CompareConfig:
    """Rebuild the `CompareConfig` of a point from its `settings` (in a worker, or from the store)."""
    names = {f.name for f in fields(CompareConfig)}
    values = {k: v for k, v in point_settings.items() if k in names}
    values.update(hidden=tuple(values["hidden"]), inits=tuple(values["inits"]), seeds=seeds)
    return CompareConfig(**values)


@dataclass(frozen=True)
class Point:
    """One grid point: its axis values as written, its config (one scheme) and its hash."""

    index: int
    axes: dict
    config: CompareConfig
    settings: dict
    config_hash: str

    @property
    def init(self) -> str:
        return self.config.inits[0]

    def key(self, seed: int) -> str:
        return run_key(self.settings, seed)


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: fixed settings, grid axes, seeds, and the expanded points."""

    fixed: dict
    grid: dict
    seeds: int
    points: tuple[Point, ...]
    path: str | None = None  # the file it was read from

    @property
    def name(self) -> str:
        return self.path or "sweep"

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.seeds

    def runs(self) -> list[dict]:
        """Every run in plan order: key, config_hash, point, init, seed."""
        return [{"key": p.key(seed), "config_hash": p.config_hash, "point": p.index, "init": p.init,
                 "seed": seed} for p in self.points for seed in range(self.seeds)]

    def to_json(self) -> dict:
        return {"sweep": self.name, "fixed": self.fixed, "grid": {k: list(v) for k, v in self.grid.items()},
                "seeds": self.seeds, "n_points": len(self.points), "n_runs": self.n_runs,
                "runs": [run | {"config": self.points[run["point"]].settings} for run in self.runs()]}


def load_sweep(source: str | Path | Mapping | Sweep) -> Sweep:
    """A `Sweep` from a TOML file or a dict, with every grid point validated.

    Errors are ValueError naming the sweep key (and the file, when read from one).
    """
    if isinstance(source, Sweep):
        return source
    if isinstance(source, Mapping):
        return _build(source, None)
    path = Path(source)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such sweep file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, expected a sweep file (.toml)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a valid TOML file: {error}") from None
    try:
        return _build(document, str(path))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


RANGE_KEYS = {"from", "to", "steps", "log"}
MAX_STEPS = 10_000


def _is_range(value: object) -> bool:
    return isinstance(value, Mapping) and "from" in value


def expand_range(key: str, spec: Mapping) -> list:
    """The values of a range axis {from, to, steps[, log]}: `steps` values from `from` to `to`, both included,
    evenly spaced (in log with log = true), rounded to 12 significant digits; integers when `from`, `to` and
    the spacing are (linear only).

    >>> expand_range("train.lr", {"from": 1e-3, "to": 1e-1, "steps": 3, "log": True})
    [0.001, 0.01, 0.1]
    >>> expand_range("train.iterations", {"from": 100, "to": 400, "steps": 4})
    [100, 200, 300, 400]
    """
    unknown = sorted(set(spec) - RANGE_KEYS)
    if unknown:
        raise ArgumentError(key, f"a range has the keys from, to, steps and log, got {', '.join(map(str, unknown))}")
    missing = sorted({"from", "to", "steps"} - set(spec))
    if missing:
        raise ArgumentError(key, f"a range needs from, to and steps, missing {', '.join(missing)}")
    low, high, steps, log = spec["from"], spec["to"], spec["steps"], spec.get("log", False)
    for name, value in (("from", low), ("to", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ArgumentError(key, f"range {name}: expected a finite number, got {value!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS:
        raise ArgumentError(key, f"range steps: expected an integer from 2 to {MAX_STEPS}, got {steps!r}")
    if not isinstance(log, bool):
        raise ArgumentError(key, f"range log: expected true or false, got {log!r}")
    if log and (low <= 0 or high <= 0):
        raise ArgumentError(key, f"a log range needs from and to > 0, got from = {low}, to = {high}")
    if isinstance(low, int) and isinstance(high, int) and not log and (high - low) % (steps - 1) == 0:
        return list(range(low, high + 1, (high - low) // (steps - 1))) if high != low else [low] * steps
    values = (low * (high / low) ** (i / (steps - 1)) if log else low + (high - low) * i / (steps - 1)
              for i in range(steps))
    return [float(f"{v:.12g}") for v in values]


def _flatten(table: Mapping, prefix: str = "") -> dict:
    """{"model": {"init": x}} -> {"model.init": x}; quoted dotted keys ("model.init") stay as they are; a range
    table ({from, to, steps}) is a value."""
    flat = {}
    for key, value in table.items():
        if isinstance(value, Mapping) and not _is_range(value):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _check_key(key: str) -> None:
    if key not in KEYS:
        hint = did_you_mean(key, list(KEYS))
        raise ArgumentError(key, f"unknown key{hint}" if hint else f"unknown key; keys: {', '.join(KEYS)}")


def _split(document: Mapping) -> tuple[dict, dict]:
    if not isinstance(document, Mapping):
        raise ValueError(f"expected a table of settings, got {type(document).__name__}")
    grid_table = document.get("grid", {})
    if not isinstance(grid_table, Mapping):
        raise ArgumentError("grid", f"expected a table of lists like {{\"model.init\" = [...]}}, got {grid_table!r}")
    fixed = _flatten({k: v for k, v in document.items() if k != "grid"})
    grid = _flatten(grid_table)
    for key in (*fixed, *grid):
        _check_key(key)
        if _is_range(fixed.get(key)):
            raise ArgumentError(key, "a range of values is a grid axis: put it under [grid]")
    grid = {key: expand_range(key, values) if _is_range(values) else values for key, values in grid.items()}
    for key, values in grid.items():
        if key == "seeds":
            raise ArgumentError("seeds", "cannot be a grid axis; 'seeds = N' runs every point with seeds 0..N-1")
        if not isinstance(values, list):
            raise ArgumentError(key, f"a grid axis needs a list of values, got {values!r} "
                             "(a single value goes outside [grid])")
        if not values:
            raise ArgumentError(key, "the grid axis is empty ([]), so the sweep has no runs; give at least one value")
    if isinstance(fixed.get("model.init"), list) and "model.init" not in grid:
        raise ArgumentError("model.init", f"expected one scheme spec, got {fixed['model.init']!r} "
                         "(several schemes go in [grid] as \"model.init\" = [...])")
    # A grid axis replaces a fixed setting of the same name (e.g. a fixed "model.hidden" under [model] and a "model.hidden" grid axis).
    return {k: v for k, v in fixed.items() if k not in grid}, grid


def _field_value(key: str, value: object) -> tuple[str, object]:
    """The CompareConfig field and value for one sweep setting."""
    if key in STRINGS and not isinstance(value, str):
        raise ArgumentError(key, f"expected a string, got {value!r}")
    if key == "model.hidden":
        if isinstance(value, list):
            if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in value):
                raise ArgumentError("model.hidden", f"expected positive integers, got {value!r}")
            return "hidden", tuple(value)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ArgumentError("model.hidden", f"expected a list of widths or a string like '10,5' or '100x30', "
                             f"got {value!r}")
        return "hidden", parse_hidden(str(value), "model.hidden")
    if key == "model.init":
        return "inits", (value,)
    return KEYS[key], value


def named_error(error: Exception, path: str | None = None) -> Exception:
    """Rename the CompareConfig field a message starts with to its sweep key; prefix the file."""
    error = renamed(error, FIELD_KEYS)
    return ValueError(f"{path}: {error}") if path else error


def make_config(values: Mapping) -> CompareConfig:
    """The CompareConfig for sweep settings {key: value}; errors name the sweep key."""
    kwargs = dict(_field_value(key, value) for key, value in values.items())
    try:
        return CompareConfig(**kwargs)
    except (ValueError, TypeError) as error:
        raise named_error(error) from None


def _build(document: Mapping, path: str | None) -> Sweep:
    fixed, grid = _split(document)
    if "model.init" not in fixed and "model.init" not in grid:
        grid = {"model.init": list(SOURCE_SCHEMES), **grid}
    seeds = fixed.pop("seeds", CompareConfig.seeds)
    base = make_config({**fixed, "seeds": seeds})  # fixed settings fail here, before any grid point
    n_points = math.prod(len(values) for values in grid.values())
    if n_points * base.seeds > MAX_RUNS:
        sizes = " x ".join(f"{len(values)} {key}" for key, values in grid.items())
        raise ArgumentError("grid" if n_points > MAX_RUNS else "seeds",
                            f"a sweep holds at most {MAX_RUNS} runs, got {sizes} x {base.seeds} seeds = "
                            f"{n_points * base.seeds} runs; split it into several sweeps on one store")
    points, seen = [], {}
    for index, combination in enumerate(itertools.product(*grid.values())):
        axes = dict(zip(grid, combination))
        config = make_config({**fixed, **axes, "seeds": base.seeds})
        point_settings = settings(config)
        config_hash = digest(point_settings)
        if config_hash in seen:
            raise ArgumentError("grid", f"points {_shown(seen[config_hash])} and {_shown(axes)} are the same "
                             "settings; remove one of the values")
        seen[config_hash] = axes
        points.append(Point(index, axes, config, point_settings, config_hash))
    return Sweep(fixed, {k: tuple(v) for k, v in grid.items()}, base.seeds, tuple(points), path)


def _shown(axes: dict) -> str:
    return "{" + ", ".join(f"{k}={v!r}" for k, v in axes.items()) + "}"


def shown_value(value: object) -> str:
    """A setting as a user would type it: [10, 5] -> '10,5'."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


plan = load_sweep  # the plan of a sweep is its expanded, validated grid
