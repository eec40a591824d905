"""Parallel efficiency of `initlab sweep run`: the same CPU-bound sweep with 1 and with 2 workers.

Each worker runs one thread (BLAS and the ensemble kernel; `--workers 1` too), so 2 workers on
2 cores should take a little over half the time of 1, once the ~2 s start-up of a worker process
(imports, loading the compiled kernel) is small next to the work. Both stores must hold identical numbers (checked and printed).

Run: python benchmarks/sweep_workers.py [--iterations 20000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from initlab.experiments.sweep import run_sweep


def sweep(iterations: int) -> dict:
    # 8 grid points x 4 seeds; points are the unit of work, so 8 tasks keep 2 workers busy.
    return {"data": "circles", "n_samples": 300, "seeds": 4,
            "model": {"activation": "relu"},
            "train": {"lr": 0.05, "iterations": iterations},
            "grid": {"model.init": ["he_normal", "xavier_normal", "normal(std=0.1)", "lecun_normal"],
                     "model.hidden": [[32, 32], [32, 32, 32]]}}


def numbers(store: Path) -> list[tuple]:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT key, final_cost, train_accuracy, cost_history FROM runs ORDER BY key").fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20000)
    args = parser.parse_args()
    times, stores = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for workers in (1, 2):
            stores[workers] = Path(folder) / f"workers{workers}.db"
            start = time.perf_counter()
            report = run_sweep(sweep(args.iterations), stores[workers], workers=workers)
            times[workers] = time.perf_counter() - start
        identical = numbers(stores[1]) == numbers(stores[2])
    print(f"sweep: {report.total} runs (8 points x 4 seeds), [2, 32, 32(, 32), 1] relu, circles 300 points, "
          f"{args.iterations} iterations; stores identical: {identical}")
    print("| workers | time (s) | vs 1 worker |")
    print("|---|---|---|")
    for workers in (1, 2):
        print(f"| {workers} | {times[workers]:.1f} | {times[workers] / times[1]:.2f}x |")


if __name__ == "__main__":
    main()
