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

from initlab._lazy import lazy_attributes
# Imported now: the function `export` must shadow its submodule of the same name.
from initlab.experiments.sweep.export import FORMATS, export, summary

# Imported on first use: `sweep plan` and a refused sweep file need only the spec, not the training code.
_EXPORTS = {
    "execute": ("SweepInterrupted", "SweepReport", "default_workers", "run_sweep", "status"),
    "spec": ("KEYS", "MAX_RUNS", "Point", "Sweep", "load_sweep", "plan"),
    "store": ("Store",),
}
__getattr__ = lazy_attributes(__name__, _EXPORTS)
__all__ = sorted(["FORMATS", "export", "summary", *(name for names in _EXPORTS.values() for name in names)])
