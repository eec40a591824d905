"""`initlab sweep plan|run|status|export`: the logic is in initlab.experiments.sweep."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, new_table, progress_bar, show
from initlab.cli.params import JsonOption, sub_app
from initlab.cli.summary_table import print_summary

sweep_app = sub_app(
    "Sweeps: schemes x settings x seeds from a TOML file, on local processes or a Dask cluster, kept in a "
    "SQLite store (one transaction per finished run, so a killed sweep resumes). The file uses the compare option names: top-level data "
    "settings and 'seeds', [model] (hidden, activation, output, init, bias_init), [train] (lr, iterations, "
    "optimizer, batch_size, dtype, record_every), and [grid] with lists to cross, keyed 'model.init', "
    "'train.lr', 'data', ... Without model.init the four classic schemes (zeros, normal(std=10), he_normal, "
    "xavier_normal) are a grid axis. See examples/*.toml.", no_args_is_help=True)
SweepFile = Annotated[Path, typer.Argument(metavar="FILE", help="Sweep file (TOML), e.g. examples/source_schemes.toml.")]
StoreOpt = Annotated[Path, typer.Option("--store", metavar="FILE", help="Results store (SQLite), e.g. runs/results.db.")]


def _axes_table(axes: list[str], rows: list[list[str]]):
    table = new_table(("point", *axes), left=axes, wrap=())
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


@sweep_app.command("plan")
@names_flags()
def sweep_plan(file: SweepFile, as_json: JsonOption = False) -> None:
    """Show the runs a sweep expands to: its grid points, seeds and run count."""
    from initlab.experiments.sweep import load_sweep
    from initlab.experiments.sweep.spec import shown_value
    sweep = load_sweep(file)
    if as_json:
        emit_json(sweep.to_json())
        return
    rows = [[str(p.index), *(shown_value(v) for v in p.axes.values()), p.config_hash[:12]] for p in sweep.points]
    err.print(escape(f"{file}: {len(sweep.points)} points x {sweep.seeds} seeds (0..{sweep.seeds - 1}) = "
                     f"{sweep.n_runs} runs"), soft_wrap=True)
    if sweep.fixed:
        err.print("fixed: " + escape(", ".join(f"{k} = {shown_value(v)}" for k, v in sweep.fixed.items())),
                  soft_wrap=True)
    show(_axes_table([*sweep.grid, "config hash"], rows), optional=("config hash",))


def _point_rows(sweep, store: Path) -> list[dict]:
    """The stored summary of each grid point, labelled with its index and axis values."""
    from initlab.experiments.sweep.export import stored_summary
    from initlab.experiments.sweep.spec import shown_value
    rows = stored_summary(sweep, store)
    for point, row in zip(sweep.points, rows):
        row["label"] = f"{point.index}: " + ", ".join(shown_value(v) for v in point.axes.values())
    return rows


@sweep_app.command("run")
@names_flags()
def sweep_run(file: SweepFile, store: StoreOpt,
              workers: Annotated[Optional[int], typer.Option(help="Local worker processes. [default: the core count]")] = None,
              scheduler: Annotated[Optional[str], typer.Option(metavar="ADDRESS",
                  help="Run on a Dask distributed scheduler, e.g. tcp://host:8786, instead of local processes.")] = None,
              timeout: Annotated[float, typer.Option(help="Seconds to wait for the scheduler.")] = 5.0,
              as_json: JsonOption = False) -> None:
    """Run every run of the sweep that the store does not hold yet (a killed or interrupted sweep resumes)."""
    import shlex
    from initlab.experiments.sweep import load_sweep
    sweep = load_sweep(file)  # a bad file is refused before the training code is imported
    from initlab.experiments.sweep import SweepInterrupted, run_sweep
    with progress_bar() as progress:
        task = progress.add_task(f"sweep: {len(sweep.points)} points x {sweep.seeds} seeds, runs", total=sweep.n_runs)
        started = []

        def advance(done: int, total: int) -> None:
            if not started:  # runs already stored are not part of the speed behind the ETA
                started.append(True)
                progress.reset(task, total=total, completed=done)
            progress.update(task, completed=done)

        try:
            report = run_sweep(sweep, store, workers=workers, scheduler=scheduler, timeout=timeout, on_progress=advance,
                               on_note=lambda text: err.print(f"note: {escape(text)}", soft_wrap=True))
        except SweepInterrupted as stop:
            progress.stop()
            command = ["initlab", "sweep", "run", str(file), "--store", str(store)]
            command += ["--workers", str(workers)] if workers is not None else []
            command += ["--scheduler", scheduler] if scheduler is not None else []
            err.print(f"interrupted: {stop.report.done} of {stop.report.total} runs stored in {escape(str(store))}; "
                      f"resume with: {escape(shlex.join(command))}", soft_wrap=True)
            raise typer.Exit(130) from None
    print_summary(f"{store}: each grid point ({', '.join(sweep.grid)}) over its seeds", _point_rows(sweep, store),
                  first="grid point")
    others = f", {report.by_others} by another runner" if report.by_others else ""
    err.print(f"{escape(str(store))}: ran {report.ran} runs, {report.skipped} were already stored{others}; "
              f"{report.done} of {report.total} done", soft_wrap=True)
    if as_json:
        emit_json(report.to_json())


@sweep_app.command("status")
@names_flags()
def sweep_status(store: StoreOpt,
                 file: Annotated[Optional[Path], typer.Argument(metavar="FILE", help=(
                     "Count against this sweep's runs. [default: every run planned or stored in the store]"))] = None,
                 as_json: JsonOption = False) -> None:
    """Count the runs of a store: done, pending (planned but not finished) and diverged."""
    from initlab.experiments.sweep import status
    counts = status(store, file)
    if as_json:
        emit_json(counts)
        return
    err.print(f"{escape(str(store))}: {counts['done']} of {counts['total']} runs done, {counts['pending']} pending, "
              f"{counts['diverged']} diverged", soft_wrap=True)


@sweep_app.command("export")
@names_flags()
def sweep_export(store: StoreOpt,
                 export_format: Annotated[str, typer.Option("--format", help="csv, json or parquet.")] = "csv",
                 out: Annotated[Optional[Path], typer.Option(metavar="FILE",
                     help="File to write. [default: stdout; parquet needs a file]")] = None) -> None:
    """Write one row per run: scheme, seed, final cost, accuracies, diverged, wall time, config and its hash."""
    from initlab.experiments.sweep import export, status
    text = export(store, export_format, out)
    if text is None:
        err.print(f"wrote {escape(str(out))} ({status(store)['done']} runs)", soft_wrap=True)
    else:
        sys.stdout.write(text)
