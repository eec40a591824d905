"""Run records from a compare's results.json (the `initlab compare --json` document), with a default
page title. A sweep store's records come from `initlab.experiments.sweep.records`: the report layer
reads files of records, never the store that produced them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from initlab._errors import ArgumentError
from initlab.report.points import records_from_compare


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
    title = document.get("title") if isinstance(document.get("title"), str) and document.get("title") else (
        f"initlab compare: {config.get('data')}, hidden {config.get('hidden')}, {config.get('activation')}, "
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

