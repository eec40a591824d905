"""The `initlab` command. Thin: parses options, calls the library, prints tables and JSON.

Human-readable output (tables, progress) goes to stderr; `--json` prints exactly one JSON
document on stdout. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from initlab import __version__
from initlab._checks import integer, number
from initlab.data.loader import USAGE
from initlab.experiments import PRESETS, CompareConfig, resolve, run_compare
from initlab.experiments.compare import CompareResult, load_dataset
from initlab.experiments.run_folder import check_out, write_run_folder
from initlab.init import LAYOUTS, SCHEMES, initializer
from initlab.nn import ACTIVATIONS, HEADS, OPTIMIZERS
from initlab.options import parse_hidden, parse_int_list

app = typer.Typer(help="initlab: neural-network parameter initialization, measured.",
                  rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else there.")]


def emit_json(document: dict) -> None:
    sys.stdout.write(json.dumps(document, allow_nan=False) + "\n")


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


@app.command()
def schemes(as_json: JsonOption = False) -> None:
    """List every initialization scheme: name, aliases, formula, distribution, source."""
    rows = [{"name": s.name, "aliases": list(s.aliases), "parameters": [p.name for p in s.parameters],
             "formula": s.formula, "distribution": s.distribution, "source": s.source} for s in SCHEMES.values()]
    if as_json:
        emit_json({"schemes": rows})
        return
    table = Table(title="initlab schemes (spec: name or name(key=value, ...))")
    for column in ("name", "aliases", "parameters", "formula", "distribution", "source"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in (  # formulas contain [a, b], which Rich reads as markup
            row["name"], ", ".join(row["aliases"]), ", ".join(row["parameters"]), row["formula"],
            row["distribution"], row["source"])))
    err.print(table)


@app.command()
def sample(spec: Annotated[str, typer.Argument(help="Scheme spec, e.g. he_normal or 'normal(std=0.01)'.")],
           shape: Annotated[str, typer.Option(help="Tensor shape, comma-separated.")] = "400,25",
           seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
           dtype: Annotated[str, typer.Option(help="float32 or float64.")] = "float64",
           layout: Annotated[str, typer.Option(help=f"Shape layout for fans: {', '.join(LAYOUTS)}.")] = "numpy",
           as_json: JsonOption = False) -> None:
    """Draw one tensor and compare its statistics with what the scheme's formula expects."""
    dims = parse_int_list(shape, "shape")
    integer("seed", seed, minimum=0)
    init = initializer(spec, layout=layout)
    values = init(dims, seed, dtype)
    mean, std = init.moments(dims)
    stats = {"spec": str(init), "shape": list(dims), "seed": seed, "layout": layout,
             "dtype": values.dtype.name, "n": int(values.size),
             "mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
             "max": float(values.max()), "expected_mean": mean, "expected_std": std}
    if as_json:
        emit_json(stats)
        return
    err.print(f"{stats['spec']}  shape {tuple(dims)}  seed {seed}  {stats['dtype']}")
    table = Table()
    for column in ("", "sample", "formula"):
        table.add_column(column, justify="right")
    table.add_row("mean", fmt(stats["mean"], 6), fmt(mean, 6))
    table.add_row("std", fmt(stats["std"], 6), fmt(std, 6))
    table.add_row("min", fmt(stats["min"], 6), "")
    table.add_row("max", fmt(stats["max"], 6), "")
    err.print(table)


def _gradcheck_table(results) -> Table:
    err.print("worst relative error, backprop vs central differences (float64)")
    table = Table()
    table.add_column("activation")
    for output in HEADS:
        table.add_column(f"{output} output", justify="right")
    for act in ACTIVATIONS:
        table.add_row(act, *[f"{r.max_relative_error:.1e}" for r in results if r.activation == act])
    return table


@app.command()
def gradcheck(seed: Annotated[int, typer.Option(help="Seed for the weights and data.")] = 0,
              tolerance: Annotated[float, typer.Option(help="Largest accepted relative error.")] = 1e-7,
              as_json: JsonOption = False) -> None:
    """Check backprop against finite differences for every activation x output combination."""
    from initlab.nn.gradcheck import check_all
    number("tolerance", tolerance, positive=True)
    results = check_all(seed)
    worst = max(r.max_relative_error for r in results)
    if as_json:
        emit_json({"tolerance": tolerance, "passed": worst < tolerance, "checks": [
            {"activation": r.activation, "output": r.output, "max_relative_error": r.max_relative_error}
            for r in results]})
    else:
        err.print(_gradcheck_table(results))
        err.print(f"worst {worst:.1e} {'<' if worst < tolerance else '>='} tolerance {tolerance:.0e}: "
                  f"{'PASS' if worst < tolerance else 'FAIL'}")
    if worst >= tolerance:
        raise typer.Exit(1)


# ----- compare and train share their options -----

PRESET_HELP = " ".join(f"'{p.name}': {p.description}" for p in PRESETS.values())
Data = Annotated[Optional[str], typer.Option(metavar="SPEC", help=f"Dataset: {USAGE}. [default: circles]")]
TestData = Annotated[Optional[str], typer.Option(metavar="SPEC", help="Separate test set spec (else a split of --data).")]
NSamples = Annotated[Optional[int], typer.Option(help="Samples to generate. [default: 300]")]
Noise = Annotated[Optional[float], typer.Option(help="Noise of a generated dataset.")]
ImageSize = Annotated[Optional[int], typer.Option(help="Resize images to SIZE x SIZE (images:PATH).")]
TestFraction = Annotated[Optional[float], typer.Option(help="Held-out fraction when no --test-data. [default: 0.25]")]
DataSeed = Annotated[Optional[int], typer.Option(help="Seed of the generated data and the split. [default: 0]")]
Standardize = Annotated[Optional[bool], typer.Option("--standardize/--no-standardize",
                                                     help="Scale features with the training mean and std.")]
Hidden = Annotated[Optional[str], typer.Option(metavar="WIDTHS", help="Hidden widths: '10,5' or WIDTHxDEPTH. [default: 10,5]")]
ActivationOpt = Annotated[Optional[str], typer.Option(help=f"Hidden activation: {', '.join(ACTIVATIONS)}. "
                                                      "[default: relu]")]
Output = Annotated[Optional[str], typer.Option(help=f"Output layer: {', '.join(HEADS)} or auto. [default: auto]")]
BiasInit = Annotated[Optional[str], typer.Option(help="Bias scheme spec. [default: zeros]")]
Lr = Annotated[Optional[float], typer.Option(help="Learning rate. [default: 0.01]")]
Iterations = Annotated[Optional[int], typer.Option(help="Training iterations. [default: 15000]")]
Optimizer = Annotated[Optional[str], typer.Option(help=f"{', '.join(OPTIMIZERS)}. [default: gd]")]
BatchSize = Annotated[Optional[int], typer.Option(help="Minibatch size. [default: full batch]")]
Dtype = Annotated[Optional[str], typer.Option(help="float32 or float64. [default: float64]")]
RecordEvery = Annotated[Optional[int], typer.Option(help="Record the cost every N iterations. [default: ~300 points]")]
PresetOpt = Annotated[Optional[str], typer.Option("--preset", metavar="NAME", help=(
    f"A documented experiment; options given explicitly override it. {PRESET_HELP}"))]
Out = Annotated[Optional[Path], typer.Option(metavar="DIR", help="Output folder. [default: runs/<command>-<time>]")]
NoFigures = Annotated[bool, typer.Option("--no-figures", help="Skip cost.png, boundary.png and report.html.")]


def _new_run_folder(command: str) -> Path:
    """runs/<command>-<time>, with a suffix if a run started in the same second already took it."""
    base = Path("runs") / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, k = base, 1
    while folder.exists():
        k += 1
        folder = base.with_name(f"{base.name}-{k}")
    return folder


def _run(config: CompareConfig, out: Path | None, command: str, as_json: bool, figures: bool) -> CompareResult:
    folder = check_out(out or _new_run_folder(command))
    data = load_dataset(config)  # bad data fails here, before the progress bar draws anything
    total = len(config.inits) * config.seeds * config.iterations
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(f"{command}: {len(config.inits)} schemes x {config.seeds} seeds, iterations",
                                 total=total)
        result = run_compare(config, data, on_iterations=lambda n: progress.advance(task, n))
    written = write_run_folder(result, folder, figures)
    err.print(_summary_table(result))
    if config.note:
        err.print(f"note: {config.note}")
    err.print(f"wrote {', '.join(written)} to {folder}", soft_wrap=True)
    if as_json:
        emit_json(result.to_json())
    return result


def _summary_table(result: CompareResult) -> Table:
    table = Table(title=result.title)
    for column in ("init", "seeds", "final cost (mean ± std)", "train acc", "test acc", "diverged"):
        table.add_column(column, justify="left" if column == "init" else "right")
    for row in result.summary():
        cost = "-" if row["final_cost_mean"] is None else f"{row['final_cost_mean']:.4g}"
        if row["final_cost_mean"] is not None and row["n_seeds"] - row["n_diverged"] > 1:
            cost += f" ± {row['final_cost_std']:.2g}"
        table.add_row(row["label"], str(row["n_seeds"]), cost, pct(row["train_accuracy_mean"]),
                      pct(row["test_accuracy_mean"]), str(row["n_diverged"]))
    return table


def _hidden(text: str | None) -> tuple[int, ...] | None:
    return None if text is None else parse_hidden(text)


@app.command()
def compare(data: Data = None, test_data: TestData = None, n_samples: NSamples = None, noise: Noise = None,
            image_size: ImageSize = None, test_fraction: TestFraction = None, standardize: Standardize = None,
            data_seed: DataSeed = None, hidden: Hidden = None, activation: ActivationOpt = None, output: Output = None,
            init: Annotated[Optional[list[str]], typer.Option(metavar="SPEC",
                help="Scheme spec, repeatable. [default: zeros, normal(std=10), he_normal, xavier_normal]")] = None,
            bias_init: BiasInit = None,
            seeds: Annotated[Optional[int], typer.Option(help="Seeds per scheme (0..N-1). [default: 5]")] = None,
            lr: Lr = None, iterations: Iterations = None, optimizer: Optimizer = None,
            batch_size: BatchSize = None, dtype: Dtype = None, record_every: RecordEvery = None,
            preset_name: PresetOpt = None, out: Out = None, no_figures: NoFigures = False,
            as_json: JsonOption = False) -> None:
    """Train the same network from several schemes x seeds; write cost.png, boundary.png and results.json."""
    options = dict(data=data, test_data=test_data, n_samples=n_samples, noise=noise, image_size=image_size,
                   test_fraction=test_fraction, standardize=standardize, data_seed=data_seed,
                   hidden=_hidden(hidden),
                   activation=activation, output=output, inits=tuple(init) if init else None, bias_init=bias_init, seeds=seeds, lr=lr,
                   iterations=iterations, optimizer=optimizer, batch_size=batch_size, dtype=dtype,
                   record_every=record_every)
    _run(resolve(preset_name, **options), out, "compare", as_json, not no_figures)


@app.command("train")
def train_command(data: Data = None, test_data: TestData = None, n_samples: NSamples = None, noise: Noise = None,
                  image_size: ImageSize = None, test_fraction: TestFraction = None,
                  standardize: Standardize = None, data_seed: DataSeed = None, hidden: Hidden = None, activation: ActivationOpt = None,
                  output: Output = None,
                  init: Annotated[str, typer.Option(metavar="SPEC", help="Scheme spec.")] = "he_normal",
                  bias_init: BiasInit = None, seed: Annotated[int, typer.Option(help="Seed of the weights.")] = 0,
                  lr: Lr = None, iterations: Iterations = None, optimizer: Optimizer = None,
                  batch_size: BatchSize = None, dtype: Dtype = None, record_every: RecordEvery = None,
                  out: Out = None, no_figures: NoFigures = False, as_json: JsonOption = False) -> None:
    """Train one network (one scheme, one seed) and report its cost curve and accuracies."""
    options = dict(data=data, test_data=test_data, n_samples=n_samples, noise=noise, image_size=image_size,
                   test_fraction=test_fraction, standardize=standardize, data_seed=data_seed,
                   hidden=_hidden(hidden),
                   activation=activation, output=output, inits=(init,), bias_init=bias_init, seeds=1, first_seed=seed, lr=lr,
                   iterations=iterations, optimizer=optimizer, batch_size=batch_size, dtype=dtype,
                   record_every=record_every)
    _run(resolve(None, **options), out, "train", as_json, not no_figures)


@app.command()
def report(store: Annotated[Optional[Path], typer.Option(metavar="FILE", help="A sweep's store (results.db).")] = None,
           results: Annotated[Optional[Path], typer.Option(metavar="FILE", help="A compare's results.json.")] = None,
           out: Annotated[Path, typer.Option(metavar="FILE", help="HTML file to write.")] = Path("report.html"),
           title: Annotated[Optional[str], typer.Option(help="Page title. [default: from the input]")] = None) -> None:
    """Write one self-contained HTML page: cost curves, a table per grid point, heatmaps, the config."""
    from initlab.report import write_report
    from initlab.report.sources import load_runs
    runs, default_title = load_runs(store=store, results=results)
    path = write_report(runs, out, title=title or default_title)
    print(f"wrote {path} ({len(runs)} runs)", file=sys.stderr)


# ----- sweep: plan, run, status, export (the logic is in initlab.experiments.sweep) -----

sweep_app = typer.Typer(help=(
    "Sweeps: schemes x settings x seeds from a TOML file, run on local processes or a Dask cluster, "
    "every finished run kept in a SQLite store. The file uses the compare option names: top-level data "
    "settings and 'seeds', [model] (hidden, activation, output, init, bias_init), [train] (lr, iterations, "
    "optimizer, batch_size, dtype, record_every), and [grid] with lists to cross, keyed 'model.init', "
    "'train.lr', 'data', ... Without model.init the four source schemes are a grid axis. See examples/*.toml."),
    rich_markup_mode=None, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(sweep_app, name="sweep")
SweepFile = Annotated[Path, typer.Argument(metavar="FILE", help="Sweep file (TOML), e.g. examples/source_schemes.toml.")]
StoreOpt = Annotated[Path, typer.Option("--store", metavar="FILE", help="Results store (SQLite), e.g. results.db.")]
SWEEP_FLAGS = ("store", "workers", "scheduler", "timeout", "format", "out")


def _print_wide(table: Table) -> None:
    """A sweep's tables are wide: wrap them at the terminal's width, not at 80 columns in a log."""
    (err if err.is_terminal else Console(stderr=True, width=160)).print(table)


def _sweep_flags(function):
    """Errors about a command option name the flag: 'store: ...' -> '--store: ...'."""
    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError as error:
            name, separator, rest = str(error).partition(": ")
            if separator and name in SWEEP_FLAGS:
                raise ValueError(f"--{name}: {rest}") from None
            raise
    return wrapped


def _axes_table(axes: list[str], rows: list[list[str]]) -> Table:
    table = Table()
    for column in ("point", *axes):
        table.add_column(column, justify="right" if column == "point" else "left")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


@sweep_app.command("plan")
@_sweep_flags
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
    _print_wide(_axes_table([*sweep.grid, "config hash"], rows))


def _sweep_summary(sweep, store: Path) -> Table:
    from initlab.experiments.sweep import Store, summary
    from initlab.experiments.sweep.spec import shown_value
    with Store(store) as db:
        rows = summary(sweep.points, db.runs())
    table = Table(title=f"{store}: mean over the seeds of each grid point")
    for column in ("point", *sweep.grid, "seeds", "final cost (mean ± std)", "train acc", "test acc", "diverged"):
        table.add_column(column, justify="left" if column in sweep.grid else "right")
    for point, row in zip(sweep.points, rows):
        cost = fmt(row["final_cost_mean"])
        if row["final_cost_mean"] is not None and row["n_seeds"] - row["n_diverged"] > 1:
            cost += f" ± {row['final_cost_std']:.2g}"
        table.add_row(str(point.index), *(escape(shown_value(v)) for v in point.axes.values()), str(row["n_seeds"]),
                      cost, pct(row["train_accuracy_mean"]), pct(row["test_accuracy_mean"]), str(row["n_diverged"]))
    return table


@sweep_app.command("run")
@_sweep_flags
def sweep_run(file: SweepFile, store: StoreOpt,
              workers: Annotated[Optional[int], typer.Option(help="Local worker processes. [default: the core count]")] = None,
              scheduler: Annotated[Optional[str], typer.Option(metavar="ADDRESS",
                  help="Run on a Dask distributed scheduler, e.g. tcp://host:8786, instead of local processes.")] = None,
              timeout: Annotated[float, typer.Option(help="Seconds to wait for the scheduler.")] = 5.0,
              as_json: JsonOption = False) -> None:
    """Run every run of the sweep that the store does not hold yet (a killed or interrupted sweep resumes)."""
    import shlex
    from initlab.experiments.sweep import SweepInterrupted, load_sweep, run_sweep
    sweep = load_sweep(file)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(f"sweep: {len(sweep.points)} points x {sweep.seeds} seeds, runs", total=sweep.n_runs)
        started = []

        def show(done: int, total: int) -> None:
            if not started:  # runs already stored are not part of the speed behind the ETA
                started.append(True)
                progress.reset(task, total=total, completed=done)
            progress.update(task, completed=done)

        try:
            report = run_sweep(sweep, store, workers=workers, scheduler=scheduler, timeout=timeout, on_progress=show,
                               on_note=lambda text: err.print(f"note: {escape(text)}", soft_wrap=True))
        except SweepInterrupted as stop:
            progress.stop()
            command = ["initlab", "sweep", "run", str(file), "--store", str(store)]
            command += ["--workers", str(workers)] if workers is not None else []
            command += ["--scheduler", scheduler] if scheduler is not None else []
            err.print(f"interrupted: {stop.report.done} of {stop.report.total} runs stored in {escape(str(store))}; "
                      f"resume with: {escape(shlex.join(command))}", soft_wrap=True)
            raise typer.Exit(130) from None
    _print_wide(_sweep_summary(sweep, store))
    err.print(f"{escape(str(store))}: ran {report.ran} runs, {report.skipped} were already stored; "
              f"{report.done} of {report.total} done", soft_wrap=True)
    if as_json:
        emit_json(report.to_json())


@sweep_app.command("status")
@_sweep_flags
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
@_sweep_flags
def sweep_export(store: StoreOpt,
                 export_format: Annotated[str, typer.Option("--format", help="csv, json or parquet.")] = "csv",
                 out: Annotated[Optional[Path], typer.Option(metavar="FILE",
                     help="File to write. [default: stdout; parquet needs a file]")] = None) -> None:
    """Write one row per run: scheme, seed, final cost, accuracies, diverged, wall time, config and its hash."""
    from initlab.experiments.sweep import export, status
    text = export(store, export_format, out)
    if text is None:
        err.print(f"wrote {out} ({status(store)['done']} runs)")
    else:
        sys.stdout.write(text)


# ----- diagnose: per-layer signal at init vs theory (the logic is in initlab.diagnose) -----

TorchFactory = Annotated[Optional[str], typer.Option("--torch", metavar="MODULE:FACTORY", help=(
    "A PyTorch model instead of an MLP: a function returning an nn.Module, e.g. mymodels:build "
    "(imported from the current folder first). Needs the torch extra."))]
InputShape = Annotated[Optional[str], typer.Option(metavar="SHAPE", help=(
    "Input shape of the torch model without the batch dimension, e.g. 3,32,32 (standard-normal inputs; "
    "with --data, the rows are reshaped to it)."))]


@app.command()
def diagnose(data: Annotated[Optional[str], typer.Option(metavar="SPEC", help=(
                 f"Dataset: {USAGE}; gaussian:D gives standard-normal inputs. [default: circles, or "
                 "standard-normal inputs for --torch with --input-shape]"))] = None,
             hidden: Annotated[Optional[str], typer.Option(metavar="WIDTHS", help=(
                 "Hidden widths: '10,5' or WIDTHxDEPTH. [default: 100x30]"))] = None,
             activation: Annotated[Optional[str], typer.Option(help=(
                 f"Hidden activation: {', '.join(ACTIVATIONS)}. [default: relu]"))] = None,
             init: Annotated[Optional[str], typer.Option(metavar="SPEC", help=(
                 "Weight scheme spec; for --torch also 'auto' or 'lsuv' (initlab.torch). "
                 "[default: he_normal; for --torch: the model as its factory built it]"))] = None,
             bias_init: Annotated[Optional[str], typer.Option(help=(
                 "Bias scheme spec (for --torch, with a scheme in --init). [default: zeros]"))] = None,
             torch_factory: TorchFactory = None, input_shape: InputShape = None,
             n_samples: Annotated[int, typer.Option(help="Batch size of the one forward/backward pass.")] = 256,
             standardize: Annotated[bool, typer.Option("--standardize/--no-standardize",
                                                       help="Scale --data features to mean 0, std 1.")] = True,
             seed: Annotated[int, typer.Option(help="Seed of the batch and the weights (split into independent "
                                                    "streams).")] = 0,
             out: Out = None,
             no_figures: Annotated[bool, typer.Option("--no-figures", help="Write only diagnose.json.")] = False,
             as_json: JsonOption = False) -> None:
    """Measure each layer's signal at initialization (activations, dL/dz, dead, saturated, duplicate
    units), compare it with mean-field theory, give a verdict and the scheme that fixes it."""
    from initlab.diagnose.command import Options, run, write_folder
    from initlab.diagnose.present import command_line, layer_table, verdict_lines
    options = Options(data, hidden, activation, init, bias_init, torch_factory, input_shape, n_samples,
                      standardize, seed)
    folder = check_out(out or _new_run_folder("diagnose"))
    result = run(options)
    written = write_folder(result, folder, not no_figures, command_line(options.flags()))
    _print_wide(layer_table(result))
    for line in verdict_lines(result):
        err.print(line, soft_wrap=True)
    err.print(f"wrote {', '.join(written)} to {escape(str(folder))}", soft_wrap=True)
    if as_json:
        emit_json(result.to_json())


# ----- theory: mean-field numbers and the phase diagram (the logic is in initlab.theory) -----

theory_app = typer.Typer(help=(
    "Mean-field signal propagation of a deep dense network at initialization (Poole et al. 2016, "
    "Schoenholz et al. 2017). Without a subcommand: q*, chi_1, xi_c, the critical sigma_w^2 and the phase."),
    rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(theory_app, name="theory")
TheoryActivation = Annotated[str, typer.Option(help="relu, leaky_relu, linear, tanh, sigmoid, erf, gelu or silu.")]
Slope = Annotated[float, typer.Option(help="leaky_relu's negative slope.")]


@theory_app.callback(invoke_without_command=True)
def theory(ctx: typer.Context, activation: TheoryActivation = "tanh",
           sigma_b2: Annotated[float, typer.Option(help="Bias variance sigma_b^2.")] = 0.05,
           sigma_w2: Annotated[Optional[float], typer.Option(
               help="Weight variance times fan_in, sigma_w^2. [default: the critical one]")] = None,
           slope: Slope = 0.01, as_json: JsonOption = False) -> None:
    """q*, chi_1, xi_c, the critical sigma_w^2 and the phase for one (activation, sigma_w^2, sigma_b^2)."""
    if ctx.invoked_subcommand is not None:
        return
    from initlab.theory import theory as compute
    numbers = compute(activation, sigma_b2, sigma_w2, slope).to_json()
    if as_json:
        emit_json(numbers)
        return
    err.print(f"{activation}: sigma_w^2 = {numbers['sigma_w2']:.6g}, sigma_b^2 = {sigma_b2:g}")
    table = Table()
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key in ("q_star", "chi_1", "c_star", "xi_c", "trainable_depth", "critical_sigma_w2", "phase"):
        value = numbers[key]
        infinite = numbers["phase"] == "critical" and key in ("xi_c", "trainable_depth")
        table.add_row(key, value if isinstance(value, str) else "inf" if infinite else fmt(value, 6))
    err.print(table)


@theory_app.command("phase")
def theory_phase(activation: TheoryActivation = "tanh", slope: Slope = 0.01,
                 out: Annotated[Path, typer.Option(metavar="FILE", help="PNG file to write.")] = Path("phase.png"),
                 sigma_w2_max: Annotated[Optional[float], typer.Option(
                     help="Right edge. [default: 2.5 x the critical sigma_w^2 at sigma_b^2 = 0]")] = None,
                 sigma_b2_max: Annotated[float, typer.Option(help="Top edge.")] = 0.3,
                 resolution: Annotated[int, typer.Option(help="Grid points per axis.")] = 41) -> None:
    """Draw the (sigma_w^2, sigma_b^2) plane: trainable depth 6 xi_c and the critical line."""
    from initlab.theory.phase import phase_figure
    path = phase_figure(activation, out, sigma_w2_max=sigma_w2_max, sigma_b2_max=sigma_b2_max,
                        resolution=resolution, slope=slope)
    err.print(f"wrote {escape(str(path))}")


def _version(value: bool) -> None:
    if value:
        print(f"initlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """initlab: neural-network parameter initialization, measured."""


def _with_option_name(message: str) -> str:
    """'n_samples: expected ...' -> '--n-samples: expected ...': name the flag the user typed."""
    name, separator, rest = message.partition(": ")
    flags = {"inits": "init", "first_seed": "seed", "preset_name": "preset", "torch": "torch", "model": "torch"}
    options = {p for command in (compare, train_command, sample, gradcheck, report, theory, theory_phase, diagnose)
               for p in inspect.signature(command).parameters}
    if separator and name.isidentifier() and (name in options or name in flags):
        return f"--{flags.get(name, name).replace('_', '-')}: {rest}"
    return message


def main(argv: list[str] | None = None) -> int:
    """Entry point: bad input becomes one line on stderr and exit code 2, never a traceback."""
    try:
        code = app(args=argv, standalone_mode=False, prog_name="initlab")
    except typer.TyperException as error:  # usage errors: unknown option, bad value type, ...
        context = getattr(error, "ctx", None)
        command = context.command_path if context is not None else "initlab"
        if type(error).__name__ == "NoArgsIsHelpError":  # no command given: the message is the help text
            print(error.format_message(), file=sys.stderr)
        elif error.format_message():
            print(f"{command}: {error.format_message()} (see '{command} --help')", file=sys.stderr)
        return error.exit_code
    except ValueError as error:
        print(f"error: {_with_option_name(str(error))}", file=sys.stderr)
        return 2
    except MemoryError as error:  # e.g. initlab sample he_normal --shape 100000,100000
        print(f"error: not enough memory: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. an output folder that cannot be written
        print(f"error: {error.strerror or error}: '{error.filename}'", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, typer.Abort):
        print("interrupted", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
