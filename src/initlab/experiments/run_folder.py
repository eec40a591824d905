"""The output folder of a comparison: config.json and results.json, plus what a `draw` function adds
from the result document (the CLI passes `initlab.report.folder.write_compare_figures`: cost.png,
boundary.png, report.html). Experiments write records; the report layer draws them.

Files are written to a hidden temporary folder beside the target and moved in at the end, so a
failure part-way leaves the target as it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
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


def write_run_folder(result: CompareResult, folder: Path,
                     draw: Callable[[dict, Path], object] | None = None) -> list[str]:
    """Write the comparison's files into `folder` (created if needed); returns their names.

    `draw(document, staging_folder)` writes more files from the result document (figures) before
    everything is moved in."""
    folder = check_out(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    document = result.to_json()
    with tempfile.TemporaryDirectory(prefix=f".{folder.name}-", dir=folder.parent) as scratch:
        staging = Path(scratch)
        (staging / "config.json").write_text(json.dumps(document["config"], indent=2) + "\n")
        (staging / "results.json").write_text(json.dumps(document, allow_nan=False) + "\n")
        if draw is not None:
            draw(document, staging)
        names = sorted(p.name for p in staging.iterdir())
        folder.mkdir(exist_ok=True)
        for name in names:
            shutil.move(staging / name, folder / name)
    return names
