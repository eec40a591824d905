"""`initlab diagnose` over several schemes and seeds in one run: the experiments of Glorot & Bengio (2010).

Every (scheme, seed) pair is one full diagnosis (`initlab.diagnose.command.run`, with per-layer
histograms and two-input correlations); seed s draws its own batch and weights, as `--seed s` would.
The summary gives, per scheme and layer, the median and the range over seeds of the activation std,
the dL/dz std, Var(dL/dW) and the measured and predicted correlation, and how often each verdict came.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from initlab._checks import MAX_SEED, integer
from initlab._errors import ArgumentError

MAX_SCHEMES = 8  # one colour and one figure row each
MAX_RUNS = 400  # diagnoses per study, counted before any is run


@dataclass(frozen=True)
class Run:
    init: str  # the scheme as given ('model' for a torch model as its factory built it)
    seed: int
    diagnosis: object  # initlab.diagnose.verdict.Diagnosis


@dataclass(frozen=True)
class Study:
    runs: list[Run]

    @property
    def schemes(self) -> list[str]:
        return list(dict.fromkeys(run.init for run in self.runs))

    def of(self, init: str) -> list[Run]:
        return [run for run in self.runs if run.init == init]

    def summary(self) -> list[dict]:
        """Per scheme: verdict counts and, per layer, [median, min, max] over seeds of each statistic."""
        return [{"init": init, "seeds": len(self.of(init)),
                 "verdicts": dict(Counter(run.diagnosis.verdict for run in self.of(init)).most_common()),
                 "layers": _layer_ranges(self.of(init))} for init in self.schemes]

    def to_json(self) -> dict:
        return {"schemes": self.summary(),
                "runs": [{"init": run.init, "seed": run.seed, **run.diagnosis.to_json()} for run in self.runs]}


def _range(values: list) -> list | None:
    values = np.array([np.nan if v is None else v for v in values], dtype=float)
    values = values[np.isfinite(values)]
    return [float(np.median(values)), float(values.min()), float(values.max())] if len(values) else None


def _layer_ranges(runs: list[Run]) -> list[dict]:
    first = runs[0].diagnosis
    rows = []
    for i, layer in enumerate(first.layers):
        def over_seeds(get):
            return _range([get(run.diagnosis, i) for run in runs])
        rows.append({"index": layer.index, "name": layer.name,
                     "activation_std": over_seeds(lambda d, i: d.layers[i].activation_std),
                     "grad_std": over_seeds(lambda d, i: d.layers[i].grad_std),
                     "weight_grad_var": over_seeds(lambda d, i: d.distributions[i]["weight_grad_var"]
                                                   if d.distributions else None),
                     "correlation": over_seeds(lambda d, i: _correlation(d, i, "measured")),
                     "correlation_map": over_seeds(lambda d, i: _correlation(d, i, "chained"))})
    return rows


def _correlation(diagnosis, index: int, key: str) -> float | None:
    rows = diagnosis.correlation or []
    return rows[index][key] if index < len(rows) else None


def check_study(inits: list[str | None], seeds: int, first_seed: int = 0) -> None:
    """Refuse a study that is too large, or whose last seed is out of range, before running any diagnosis."""
    integer("seeds", seeds, maximum=MAX_RUNS)
    if first_seed + seeds - 1 > MAX_SEED:
        raise ArgumentError("seeds", f"seeds {first_seed}..{first_seed + seeds - 1} go past the largest seed "
                            f"{MAX_SEED}")
    if len(inits) > MAX_SCHEMES:
        raise ArgumentError("init", f"expected at most {MAX_SCHEMES} schemes in one study, got {len(inits)}")
    if len(set(inits)) < len(inits):
        twice = next(i for i in inits if inits.count(i) > 1)
        raise ArgumentError("init", f"each scheme once, got '{twice}' {inits.count(twice)} times")
    if len(inits) * seeds > MAX_RUNS:
        raise ArgumentError("seeds", f"{len(inits)} schemes x {seeds} seeds = {len(inits) * seeds} diagnoses, "
                            f"over the {MAX_RUNS} limit of one study")


def run_study(options, inits: list[str | None], seeds: int, progress=None) -> Study:
    """Diagnose `options` with each scheme in `inits` (None: the default) at seeds options.seed ..
    options.seed + seeds - 1; `progress()` is called after each diagnosis."""
    from initlab.diagnose.command import MLP_DEFAULTS, run
    check_study(inits, seeds, options.seed)
    runs = []
    for init in inits:
        label = init or (MLP_DEFAULTS["init"] if options.torch_factory is None else "model")
        for seed in range(options.seed, options.seed + seeds):
            runs.append(Run(label, seed, run(replace(options, init=init, seed=seed), detail=True)))
            if progress is not None:
                progress()
    return Study(runs)
