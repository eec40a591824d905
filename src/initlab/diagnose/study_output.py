"""How a diagnose study (`initlab.diagnose.study`) is shown on a terminal and written to its folder."""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from initlab.numbers_text import significant


def _median(row: dict, key: str) -> float | None:
    value = row.get(key)
    return None if value is None else value[0]


def _ratio(top: float | None, bottom: float | None) -> str:
    return significant(top / bottom if top is not None and bottom else None, 3)


def study_table(study) -> Table:
    """One row per scheme: verdicts over the seeds, then ratios of the medians over seeds along the depth."""
    summary = study.summary()
    seeds = {scheme["seeds"] for scheme in summary}
    model = study.runs[0].diagnosis.model.split(",")[0]
    table = Table(title=f"{model}: {len(study.runs)} diagnoses" + (f", {seeds.pop()} seeds per scheme"
                                                                  if len(seeds) == 1 else ""),
                  caption="medians over seeds; L = last hidden layer; Var(dL/dW): largest over smallest hidden layer; "
                          "|c|: two inputs' correlation, measured (correlation map)")
    for column in ("scheme", "verdicts", "act std L/1", "dL/dz std 1/L", "Var(dL/dW) max/min", "|c| at L"):
        table.add_column(column, justify="left" if column in ("scheme", "verdicts") else "right",
                         no_wrap=column != "scheme")
    for scheme in summary:
        rows = scheme["layers"]
        hidden = rows[:-1] or rows
        first, last = hidden[0], hidden[-1]
        variances = [v for v in (_median(row, "weight_grad_var") for row in hidden) if v]
        measured, predicted = _median(last, "correlation"), _median(last, "correlation_map")
        correlation = "-" if measured is None else f"{significant(measured, 3)} ({significant(predicted, 3)})"
        verdicts = ", ".join(f"{verdict} {count}" for verdict, count in scheme["verdicts"].items())
        table.add_row(escape(scheme["init"]), escape(verdicts),
                      _ratio(_median(last, "activation_std"), _median(first, "activation_std")),
                      _ratio(_median(first, "grad_std"), _median(last, "grad_std")),
                      _ratio(max(variances), min(variances)) if variances else "-", correlation)
    return table


def write_figures(study, folder: Path) -> list[str]:
    """histograms.png and layers.png (`initlab.diagnose.study_figure`)."""
    from initlab.diagnose.study_figure import histograms_figure, layers_figure
    histograms_figure(study, folder / "histograms.png")
    layers_figure(study, folder / "layers.png")
    return ["histograms.png", "layers.png"]


def write_study(study, folder: str | Path, figures: bool = True) -> list[str]:
    """study.json (the --json document) and, with `figures`, the study's two figures; returns the names."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.json").write_text(json.dumps(study.to_json(), indent=1, allow_nan=False) + "\n")
    if not figures:
        for stale in ("histograms.png", "layers.png"):
            (folder / stale).unlink(missing_ok=True)
        return ["study.json"]
    return ["study.json", *write_figures(study, folder)]
