"""Export a store as a table, one row per run; summarise runs by grid point.

Columns, in order: `RUN_COLUMNS` (the run's identity and results), then the resolved config,
one column per setting named as in a sweep file (``data``, ``model.hidden``, ``train.lr``, ...,
``train.record_interval``). `model.hidden` is "10,5" in CSV and a list in JSON and Parquet.
Cost curves are not exported (read them with `Store.runs()`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from initlab._checks import output_file
from initlab._errors import ArgumentError, unknown_choice
from initlab.experiments.sweep.spec import FIELD_KEYS
from initlab.experiments.sweep.store import Store
from initlab.experiments.sweep.storefile import store_path
from initlab.summary import summary_row

FORMATS = ("csv", "json", "parquet")
RUN_COLUMNS = ("key", "config_hash", "init", "seed", "final_cost", "train_accuracy", "test_accuracy", "diverged",
               "diverged_at", "target_reached_at", "sample_space", "wall_time", "finished_at")


def rows(records: list[dict]) -> list[dict]:
    """Flat rows from `Store.runs()` records: RUN_COLUMNS, then one column per config setting."""
    order = list(FIELD_KEYS)
    table = []
    for record in records:
        row = {name: record[name] for name in RUN_COLUMNS}
        config = {k: v for k, v in record["config"].items() if k != "inits"}
        for field in sorted(config, key=lambda f: (order.index(f) if f in order else len(order), f)):
            row[FIELD_KEYS.get(field, field)] = config[field]
        table.append(row)
    return table


def export(store: str | Path | Store, format: str = "csv", out: str | Path | None = None) -> str | None:
    """Write every run of `store` to `out` as csv, json or parquet; without `out`, return the text.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.db"
    >>> Store(path, create=True).close()
    >>> export(path, "csv").splitlines()[0].startswith("key,config_hash,init,seed,final_cost")
    True
    """
    if format not in FORMATS:
        raise unknown_choice("format", "format", str(format), FORMATS)
    if format == "parquet" and out is None:
        raise ArgumentError("out", "parquet is a binary format; give --out FILE")
    if out is not None:
        out = output_file("out", out, f"runs.{format}")  # missing parent folders are created later
        store_file = store.path if isinstance(store, Store) else store_path(store)
        if out.absolute() == store_file.absolute():
            raise ArgumentError("out", f"'{out}' is the store itself; give another file name")
    if isinstance(store, Store):
        table = rows(store.runs())
    else:
        with Store(store) as db:
            table = rows(db.runs())
    if format == "parquet":
        _write_atomically(out, lambda path: _parquet(table, path))
        return None
    text = _csv(table) if format == "csv" else json.dumps({"runs": table}, allow_nan=False) + "\n"
    if out is None:
        return text
    _write_atomically(out, lambda path: Path(path).write_text(text))
    return None


def _columns(table: list[dict]) -> list[str]:
    return list(table[0]) if table else list(RUN_COLUMNS)


def _csv(table: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, _columns(table), lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: ",".join(map(str, v)) if isinstance(v, list) else _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    return "" if value is None else value


def _parquet(table: list[dict], path: str) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ArgumentError("format", "parquet needs pyarrow (pip install 'initlab[parquet]')") from None
    columns = {name: [row[name] for row in table] for name in _columns(table)}
    pq.write_table(pa.table(columns), path)


def _write_atomically(out: Path, write) -> None:
    """Write to a temporary file beside `out`, then move it in: `out` is whole or as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{out.name}-", dir=out.parent)
    os.close(handle)
    try:
        write(scratch)
        os.replace(scratch, out)
    finally:
        if os.path.exists(scratch):
            os.remove(scratch)


def stored_summary(sweep, store) -> list[dict]:
    """`summary` of the sweep's points over the runs its store (a path) holds."""
    with Store(store) as db:
        return summary(sweep.points, db.runs())


def summary(points, records: list[dict]) -> list[dict]:
    """One row per grid point: its axes, seeds stored, diverged, and the final cost and accuracies as
    mean ± std and median [min, max] over the seeds (`initlab.summary.summary_row`)."""
    by_point = {}
    for record in records:
        by_point.setdefault(record["config_hash"], []).append(record)
    table = []
    for point in points:
        row = summary_row(by_point.get(point.config_hash, []), label=str(point.index), init="",
                          steps=point.config.target.active)
        del row["init"], row["label"]
        table.append({"axes": point.axes, "config_hash": point.config_hash, **row})
    return table
