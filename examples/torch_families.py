"""The README's "PyTorch models" table: every initlab.torch tool on every model family of `examples.families`.

For each family, built with its library's default init (seed 0):

- audit: flags raised on the model as built (tied: GPT-2's lm_head is its token embedding);
- diagnose: the verdict at the library default on a batch of 8 (`initlab.diagnose.diagnose_torch`);
- apply: parameter tensors `initialise(model, "he_normal")` filled / left alone (with why, in the table
  of `initlab apply`);
- lsuv: calibrated (tol=0.02) on 128 samples (`family_batch(name, 1)`), then every Linear, Conv,
  Conv1D output and attention q/k/v and output measured on 128 fresh ones (`family_batch(name, 2)`,
  `projection_stds`): how many, and the range of their stds (lsuv leaves a tied output layer alone:
  GPT-2's lm_head is its token embedding);
- auto: the diagnose verdict after `auto(model, example=batch)` (analytic, data-free but for the input's
  dtype and shape).

    python examples/torch_families.py
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples.families import FAMILIES, family_batch, projection_stds  # noqa: E402
from initlab.diagnose import diagnose_torch  # noqa: E402
from initlab.torch import audit, auto, initialise, lsuv  # noqa: E402


def row(name: str) -> tuple[str, ...]:
    build, batch = FAMILIES[name]
    calibration, fresh = family_batch(name, 1), family_batch(name, 2)
    flags = sorted({flag for r in audit(build()).rows for flag in r.flags})
    verdict = diagnose_torch(build(), calibration).verdict
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        applied = initialise(build(), "he_normal", seed=0)
        model = build()
        calibrated = {layer.name for layer in lsuv(model, calibration, std_tol=0.02, seed=0).layers}
        stds = [std for layer, std in projection_stds(model, fresh).items() if layer in calibrated]
        automatic = build()
        auto(automatic, example=calibration, seed=0)
        after_auto = diagnose_torch(automatic, fresh).verdict
    parameters = len(applied.rows)
    return (name, str(parameters), ", ".join(flags) or "none", verdict,
            f"{len(applied.initialised)} / {len(applied.left_alone)}",
            f"{len(stds)}: {min(stds):.3f}-{max(stds):.3f}", after_auto)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated names [all]")
    args = parser.parse_args()
    torch.set_num_threads(1)
    header = ("family", "tensors", "audit flags", "diagnose", "apply set / left", "lsuv outputs: std range",
              "diagnose after auto")
    rows = [header] + [row(name) for name in args.families.split(",")]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
