"""`initlab report`: one self-contained HTML page from a sweep's store or a compare's results.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from initlab._errors import ArgumentError
from initlab.cli.flags import names_flags
from initlab.cli.output import err


@names_flags()
def report(store: Annotated[Optional[Path], typer.Option(metavar="FILE", help="A sweep's store (results.db).")] = None,
           results: Annotated[Optional[Path], typer.Option(metavar="FILE", help="A compare's results.json.")] = None,
           out: Annotated[Path, typer.Option(metavar="FILE", help="HTML file to write.")] = Path("runs/report.html"),
           title: Annotated[Optional[str], typer.Option(help="Page title. [default: from the input]")] = None) -> None:
    """Write one self-contained HTML page: cost curves, a table per grid point, heatmaps, the config."""
    from initlab.report import write_report
    runs, default_title = _records(store, results)
    path = write_report(runs, out, title=title or default_title)
    err.print(f"wrote {escape(str(path))} ({len(runs)} runs)", soft_wrap=True)


def _records(store: Path | None, results: Path | None) -> tuple[list[dict], str]:
    """The run records and default title of exactly one source: the sweep layer reads a store, the
    report layer a results.json; the report itself only ever sees records."""
    if (store is None) == (results is None):
        raise ArgumentError("store", "give exactly one of --store FILE (a sweep) or --results FILE (a compare)")
    if store is not None:
        from initlab.experiments.sweep.records import sweep_records
        return sweep_records(store)
    from initlab.report.sources import runs_from_results
    return runs_from_results(results)
