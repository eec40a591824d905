"""Where a report's run records come from: a sweep store or a compare's results.json.

Both give a list of run records (see `initlab.report.points`) and a default page title.
"""

from __future__ import annotations

import json
from pathlib import Path

from initlab._errors import ArgumentError
from initlab.report.points import records_from_compare


def runs_from_store(path: str | Path) -> tuple[list[dict], str]:
    """Every run of a sweep store (`initlab.experiments.sweep.Store(path).runs()`)."""
    path = Path(path)
    if not path.exists():
        raise ArgumentError("store", f"'{path}' does not exist; give the results.db of a sweep")
    try:
        from initlab.experiments.sweep import Store
    except ImportError:
        raise ArgumentError("store", "this initlab has no sweep store (initlab.experiments.sweep.Store)") from None
    with Store(path) as store:
        runs = store.runs()
    if not runs:
        raise ArgumentError("store", f"'{path}' holds no finished runs yet")
    return runs, f"initlab sweep: {path.name}"


def runs_from_results(path: str | Path) -> tuple[list[dict], str]:
    """Every run of a compare's results.json (the `initlab compare --json` document)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArgumentError("results", f"'{path}' does not exist; give the results.json of a compare run folder") from None
    except IsADirectoryError:
        raise ArgumentError("results", f"'{path}' is a folder; give its results.json") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArgumentError("results", f"'{path}' is not a JSON document: {error}") from None
    if not (isinstance(document, dict) and isinstance(document.get("config"), dict)
            and isinstance(document.get("runs"), list) and document["runs"]):
        raise ArgumentError("results", f"'{path}' is not a compare result (expected 'config' and a non-empty 'runs')")
    config = document["config"]
    title = (f"initlab compare: {config.get('data')}, hidden {config.get('hidden')}, {config.get('activation')}, "
             f"{config.get('optimizer')} lr {config.get('lr')}, {config.get('iterations')} iterations")
    return records_from_compare(document), title


def load_runs(store: str | Path | None = None, results: str | Path | None = None) -> tuple[list[dict], str]:
    """The run records and default title of exactly one source."""
    if (store is None) == (results is None):
        raise ArgumentError("store", "give exactly one of --store FILE (a sweep) or --results FILE (a compare)")
    return runs_from_store(store) if store is not None else runs_from_results(results)
