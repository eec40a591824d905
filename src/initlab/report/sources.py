"""Where a report's run records come from: a sweep store or a compare's results.json.

Both give a list of run records (see `initlab.report.points`) and a default page title.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from initlab._errors import ArgumentError
from initlab.report.points import records_from_compare


def runs_from_store(path: str | Path) -> tuple[list[dict], str]:
    """Every run of a sweep store (`initlab.experiments.sweep.Store(path).runs()`)."""
    from initlab.experiments.sweep.storefile import store_path
    path = store_path(path)
    if not path.exists() and path.absolute().parent.is_dir():
        raise ArgumentError("store", f"no such file (give the results.db of a sweep), got '{path}'")
    try:
        from initlab.experiments.sweep import Store
    except ImportError:
        raise ArgumentError("store", "this initlab has no sweep store (initlab.experiments.sweep.Store)") from None
    with Store(path) as store:
        runs = store.runs()
    if not runs:
        raise ArgumentError("store", f"no finished runs yet, got '{path}'")
    return runs, f"initlab sweep: {path.name}"


def runs_from_results(path: str | Path) -> tuple[list[dict], str]:
    """Every run of a compare's results.json (the `initlab compare --json` document).

    A document with NaN or infinity anywhere (which initlab never writes: a missing number is null)
    is refused with the field that holds it, rather than drawn as if it were a result.
    """
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
    where = _non_finite(document)
    if where is not None:
        raise ArgumentError("results", f"{where[1]} at {where[0]} (initlab writes a missing number as null; a "
                                       f"result with NaN or infinity was not written by it), got '{path}'")
    config = document["config"]
    title = (f"initlab compare: {config.get('data')}, hidden {config.get('hidden')}, {config.get('activation')}, "
             f"{config.get('optimizer')} lr {config.get('lr')}, {config.get('iterations')} iterations")
    return records_from_compare(document), title


def _non_finite(document: object, where: str = "") -> tuple[str, str] | None:
    """(field path, 'NaN' | 'Infinity' | '-Infinity') of the first non-finite number in a JSON document."""
    if isinstance(document, float) and not math.isfinite(document):
        return where, "NaN" if math.isnan(document) else ("Infinity" if document > 0 else "-Infinity")
    items = (document.items() if isinstance(document, dict)
             else enumerate(document) if isinstance(document, list) else ())
    for key, value in items:
        found = _non_finite(value, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key)
        if found is not None:
            return found
    return None


def load_runs(store: str | Path | None = None, results: str | Path | None = None) -> tuple[list[dict], str]:
    """The run records and default title of exactly one source."""
    if (store is None) == (results is None):
        raise ArgumentError("store", "give exactly one of --store FILE (a sweep) or --results FILE (a compare)")
    return runs_from_store(store) if store is not None else runs_from_results(results)
