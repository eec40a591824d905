"""The output folder of a comparison: config.json, results.json, cost.png, boundary.png, report.html.

Files are written to a hidden temporary folder beside the target and moved in at the end, so a
failure part-way leaves the target as it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from initlab._checks import output_folder

if TYPE_CHECKING:  # only an annotation: the CLI checks --out before importing the training code
    from initlab.experiments.compare import CompareResult


def new_run_folder(command: str) -> Path:
    """runs/<command>-<time>, with a suffix if a run started in the same second already took it."""
    base = Path("runs") / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, k = base, 1
    while folder.exists():
        k += 1
        folder = base.with_name(f"{base.name}-{k}")
    return folder


def check_out(folder: Path) -> Path:
    """Fail early (before any training) if `folder` cannot become the output folder; missing
    parents are created when the files are written (`initlab._checks.output_folder`)."""
    return output_folder("out", folder)


def write_run_folder(result: CompareResult, folder: Path, figures: bool = True) -> list[str]:
    """Write the comparison's files into `folder` (created if needed); returns their names."""
    folder = check_out(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    document = result.to_json()
    with tempfile.TemporaryDirectory(prefix=f".{folder.name}-", dir=folder.parent) as scratch:
        staging = Path(scratch)
        (staging / "config.json").write_text(json.dumps(document["config"], indent=2) + "\n")
        (staging / "results.json").write_text(json.dumps(document, allow_nan=False) + "\n")
        if figures:
            from initlab.report import boundary_figure, cost_figure, records_from_compare, write_report
            cost_figure(result, staging / "cost.png")
            if result.shows_boundaries:
                boundary_figure(result, staging / "boundary.png")
            write_report(records_from_compare(document), staging / "report.html", title=result.title)
        names = sorted(p.name for p in staging.iterdir())
        folder.mkdir(exist_ok=True)
        for name in names:
            shutil.move(staging / name, folder / name)
    return names
