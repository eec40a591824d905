"""`initlab report`: one self-contained HTML page from a sweep's store or a compare's results.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from initlab.cli.flags import names_flags
from initlab.cli.output import err


@names_flags()
def report(store: Annotated[Optional[Path], typer.Option(metavar="FILE", help="A sweep's store (results.db).")] = None,
           results: Annotated[Optional[Path], typer.Option(metavar="FILE", help="A compare's results.json.")] = None,
           out: Annotated[Path, typer.Option(metavar="FILE", help="HTML file to write.")] = Path("runs/report.html"),
           title: Annotated[Optional[str], typer.Option(help="Page title. [default: from the input]")] = None) -> None:
    """Write one self-contained HTML page: cost curves, a table per grid point, heatmaps, the config."""
    from initlab.report import write_report
    from initlab.report.sources import load_runs
    runs, default_title = load_runs(store=store, results=results)
    path = write_report(runs, out, title=title or default_title)
    err.print(f"wrote {escape(str(path))} ({len(runs)} runs)", soft_wrap=True)
