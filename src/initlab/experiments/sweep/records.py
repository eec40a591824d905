"""A sweep store's runs as report records: `initlab report --store` reads them here, so the report
layer never opens the store itself."""

from __future__ import annotations

from pathlib import Path

from initlab._errors import ArgumentError
from initlab.experiments.sweep.store import Store
from initlab.experiments.sweep.storefile import store_path


def sweep_records(path: str | Path) -> tuple[list[dict], str]:
    """Every finished run of the store at `path` (`Store.runs()`, records in plan order) and a default
    page title."""
    path = store_path(path)
    if not path.exists() and path.absolute().parent.is_dir():
        raise ArgumentError("store", f"no such file (give the results.db of a sweep), got '{path}'")
    with Store(path) as store:
        runs = store.runs()
    if not runs:
        raise ArgumentError("store", f"no finished runs yet, got '{path}'")
    return runs, f"initlab sweep: {path.name}"
