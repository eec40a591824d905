"""Summary statistics of run records, one source for the terminal table, the JSON document and the
HTML report: for the final cost and the train and test accuracies, mean ± std AND median [min, max]
over the seeds, with the labels that say which is which.

A run record is a dict like `initlab.experiments.Run.to_json()` (init, seed, final_cost, diverged,
train_accuracy, test_accuracy, ...). The final cost is summarised over the runs that did not diverge
(a diverged run has no final cost); accuracies over every run that has one. std is the population
standard deviation (numpy's default, ddof=0) of the seeds at hand.

>>> runs = [{"init": "he_normal", "final_cost": c, "diverged": False, "train_accuracy": a, "test_accuracy": None}
...         for c, a in [(0.2, 0.9), (0.4, 0.8), (0.3, 1.0)]]
>>> row = summary_row(runs, label="he_normal")
>>> row["final_cost_median"], row["final_cost_min"], row["final_cost_max"]
(0.3, 0.2, 0.4)
>>> mean_std_text(row, "final_cost"), median_range_text(row, "final_cost")
('0.3 ± 0.082', '0.3 [0.2, 0.4]')
>>> mean_std_text(row, "train_accuracy"), median_range_text(row, "train_accuracy")
('90.0 ± 8.2%', '90 [80, 100]%')
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from initlab.numbers_text import MISSING, significant

QUANTITIES = ("final_cost", "train_accuracy", "test_accuracy")
STATISTICS = ("mean", "std", "median", "min", "max")
MEAN_STD = "mean ± std"
MEDIAN_RANGE = "median [min, max]"
STEPS = "target_reached_at"  # steps to target (`initlab.nn.target`): summarised over the runs that reached it
NAMES = {"final_cost": "final cost", "train_accuracy": "train acc", "test_accuracy": "test acc",
         STEPS: "reached at"}


def diverged(run: dict) -> bool:
    """A run diverged if it says so or has no finite final cost."""
    cost = run.get("final_cost")
    return bool(run.get("diverged")) or cost is None or not math.isfinite(cost)


def values(runs: Sequence[dict], quantity: str) -> list[float]:
    """The finite values of `quantity` over `runs`; final costs of diverged runs are left out."""
    kept = [run for run in runs if not diverged(run)] if quantity == "final_cost" else runs
    found = [run.get(quantity) for run in kept]
    return [float(v) for v in found if v is not None and math.isfinite(v)]


def spread(numbers: Sequence[float]) -> dict[str, float | None]:
    """mean, std (ddof=0), median, min and max of `numbers`; every one None when there are none."""
    if not numbers:
        return dict.fromkeys(STATISTICS)
    array = np.asarray(numbers, dtype=float)
    return {"mean": float(array.mean()), "std": float(array.std()), "median": float(np.median(array)),
            "min": float(array.min()), "max": float(array.max())}


def summary_row(runs: Sequence[dict], *, label: str, init: str | None = None, steps: bool = False) -> dict:
    """One summary row of a group of runs (the seeds of one scheme or grid point).

    Keys: init, label, n_seeds, n_diverged and `<quantity>_<statistic>` for every quantity in
    QUANTITIES and statistic in STATISTICS (None where no run has a value). With `steps` (the runs had
    a target), also n_reached and the statistics of target_reached_at over the runs that reached it.

    >>> row = summary_row([{"final_cost": 0.1, "target_reached_at": 40}, {"final_cost": 0.5}], label="a", steps=True)
    >>> row["n_reached"], mean_std_text(row, STEPS), median_range_text(row, STEPS), row_quantities(row)[-1]
    (1, '40', '40 [40, 40]', 'target_reached_at')
    """
    row = {"init": init if init is not None else (runs[0].get("init") if runs else label), "label": label,
           "n_seeds": len(runs), "n_diverged": sum(diverged(run) for run in runs)}
    if steps:
        row["n_reached"] = len(values(runs, STEPS))
    for quantity in row_quantities(row):
        stats = spread(values(runs, quantity))
        row.update({f"{quantity}_{name}": value for name, value in stats.items()})
        row[f"{quantity}_n"] = len(values(runs, quantity))
    return row


def row_quantities(row: dict) -> tuple[str, ...]:
    """The quantities a row summarises: QUANTITIES, and STEPS when its runs had a target."""
    return QUANTITIES + ((STEPS,) if "n_reached" in row else ())


def seeds_text(row: dict) -> str:
    """'5', '5, 1 diverged', '5, 3 reached' (runs that met their target)."""
    return (f"{row['n_seeds']}" + (f", {row['n_diverged']} diverged" if row["n_diverged"] else "")
            + (f", {row['n_reached']} reached" if "n_reached" in row else ""))


def mean_std_text(row: dict, quantity: str) -> str:
    """'mean ± std' of a row's quantity: costs to 4 significant digits (std 2), accuracies in percent
    to one decimal; just the mean for a single value; '-' for none."""
    mean, std, n = row[f"{quantity}_mean"], row[f"{quantity}_std"], row.get(f"{quantity}_n", 2)
    if mean is None:
        return MISSING
    if quantity in ("final_cost", STEPS):
        return significant(mean, 4) + (f" ± {significant(std, 2)}" if n > 1 else "")
    return f"{100 * mean:.1f}" + (f" ± {100 * std:.1f}" if n > 1 else "") + "%"


def median_range_text(row: dict, quantity: str) -> str:
    """'median [min, max]' of a row's quantity: costs to 4 (median) and 3 significant digits, accuracies
    in whole percent (a test set of a few hundred points resolves no finer); '-' for none."""
    median, low, high = row[f"{quantity}_median"], row[f"{quantity}_min"], row[f"{quantity}_max"]
    if median is None:
        return MISSING
    if quantity == "final_cost":
        return f"{significant(median, 4)} [{significant(low, 3)}, {significant(high, 3)}]"
    if quantity == STEPS:  # iterations: whole numbers
        return f"{significant(median, 4)} [{low:.0f}, {high:.0f}]"
    return f"{100 * median:.0f} [{100 * low:.0f}, {100 * high:.0f}]%"


__all__ = ["MEAN_STD", "MEDIAN_RANGE", "NAMES", "QUANTITIES", "STATISTICS", "STEPS", "diverged", "mean_std_text",
           "median_range_text", "row_quantities", "seeds_text", "spread", "summary_row", "values"]
