"""Sweeps: schemes x settings x seeds, run on a local process pool or a Dask cluster, kept in SQLite.

spec -> plan -> run -> store -> export:

- `load_sweep(path_or_dict)` reads and validates a sweep (TOML file or dict) and expands its grid;
- `plan(...)` is the same sweep, for listing its runs (`Sweep.runs()`, `Sweep.n_runs`);
- `run_sweep(sweep, store, workers=..., scheduler=...)` runs what the store does not hold yet; several
  calls on one store (in one process or many) share the work, each run computed once;
- `Store(path)` opens a results store for reading; `Store.runs()` returns one record per run;
- `status(store, sweep=None)` counts done / pending runs;
- `export(store, "csv" | "json" | "parquet", out)` writes one row per run.

A sweep holds at most MAX_RUNS runs. A store that cannot be used (damaged, not initlab's, of a newer
schema, read-only for a sweep, in a missing folder) raises ValueError `store: <rule>, got '<path>'`.
"""

from initlab.experiments.sweep.execute import SweepInterrupted, SweepReport, default_workers, run_sweep, status
from initlab.experiments.sweep.export import FORMATS, export, summary
from initlab.experiments.sweep.spec import KEYS, MAX_RUNS, Point, Sweep, load_sweep
from initlab.experiments.sweep.store import Store

plan = load_sweep  # the plan of a sweep is its expanded, validated grid

__all__ = ["FORMATS", "KEYS", "MAX_RUNS", "Point", "Store", "Sweep", "SweepInterrupted", "SweepReport", "default_workers",
           "export", "load_sweep", "plan", "run_sweep", "status", "summary"]
