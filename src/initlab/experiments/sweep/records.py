"""A sweep store's runs as report records: `initlab report --store` reads them here, so the report
layer never opens the store itself."""

from __future__ import annotations

from pathlib import Path

from initlab._errors import ArgumentError
from initlab.experiments.sweep.store import Store


def sweep_records(path: str | Path) -> tuple[list[dict], str]:
    """Every finished run of the store at `path` (`Store.runs()`, records in plan order) and a default
    page title."""
    path = Path(path)
    if not path.exists():
        raise ArgumentError("store", f"'{path}' does not exist; give the results.db of a sweep")
    with Store(path) as store:
        runs = store.runs()
    if not runs:
        raise ArgumentError("store", f"'{path}' holds no finished runs yet")
    return runs, f"initlab sweep: {path.name}"
