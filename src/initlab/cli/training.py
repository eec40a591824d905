"""`initlab compare` and `initlab train`: the same network trained from schemes x seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, progress_bar
from initlab.cli.params import JsonOption, MaxMemory, Out
from initlab.cli.summary_table import print_summary
from initlab.data.loader import USAGE
from initlab.experiments.config import CompareConfig as D  # its field defaults are the documented defaults
from initlab.experiments.presets import PRESETS
from initlab.nn.activations import ACTIVATIONS
from initlab.nn.heads import HEADS
from initlab.nn.optimizers import OPTIMIZERS

PRESET_HELP = " ".join(f"'{p.name}': {p.description}" for p in PRESETS.values())
Data = Annotated[Optional[str], typer.Option(metavar="SPEC", help=f"Dataset: {USAGE}. [default: {D.data}]")]
TestData = Annotated[Optional[str], typer.Option(metavar="SPEC", help="Separate test set spec (else a split of --data).")]
NSamples = Annotated[Optional[int], typer.Option(help=f"Samples to generate. [default: {D.n_samples}]")]
Noise = Annotated[Optional[float], typer.Option(help="Noise of a generated dataset.")]
ImageSize = Annotated[Optional[int], typer.Option(help="Resize images to SIZE x SIZE (images:PATH).")]
TestFraction = Annotated[Optional[float], typer.Option(help=(
    f"Held-out fraction when no --test-data. [default: {D.test_fraction}]"))]
DataSeed = Annotated[Optional[int], typer.Option(help=f"Seed of the generated data and the split. [default: {D.data_seed}]")]
Standardize = Annotated[Optional[bool], typer.Option("--standardize/--no-standardize",
                                                     help="Scale features with the training mean and std.")]
Hidden = Annotated[Optional[str], typer.Option(metavar="WIDTHS", help=(
    f"Hidden widths: '10,5' or WIDTHxDEPTH. [default: {','.join(map(str, D.hidden))}]"))]
ActivationOpt = Annotated[Optional[str], typer.Option(help=(
    f"Hidden activation: {', '.join(ACTIVATIONS)}. [default: {D.activation}]"))]
Output = Annotated[Optional[str], typer.Option(help=f"Output layer: {', '.join(HEADS)} or auto. [default: {D.output}]")]
BiasInit = Annotated[Optional[str], typer.Option(help=f"Bias scheme spec. [default: {D.bias_init}]")]
Lr = Annotated[Optional[float], typer.Option(help=f"Learning rate. [default: {D.lr}]")]
Iterations = Annotated[Optional[int], typer.Option(help=f"Training iterations. [default: {D.iterations}]")]
Optimizer = Annotated[Optional[str], typer.Option(help=f"{', '.join(OPTIMIZERS)}. [default: {D.optimizer}]")]
BatchSize = Annotated[Optional[int], typer.Option(help="Minibatch size. [default: full batch]")]
Dtype = Annotated[Optional[str], typer.Option(help=f"float32 or float64. [default: {D.dtype}]")]
RecordEvery = Annotated[Optional[int], typer.Option(help=(
    "Record the cost every N iterations. [default: ~300 points; with --batch-size, every 10 x train rows / "
    "batch size iterations or more, so full-data costs take under 10% of the training]"))]
TargetCost = Annotated[Optional[float], typer.Option(help=(
    "Stop a run at the first recorded iteration whose training cost is <= COST and record that iteration "
    "(target_reached_at; null if never)."))]
TargetAccuracy = Annotated[Optional[float], typer.Option(help=(
    "Stop a run at the first recorded iteration whose training accuracy is >= this fraction (0-1); with "
    "--target-cost both must hold."))]
PresetOpt = Annotated[Optional[str], typer.Option("--preset", metavar="NAME", help=(
    f"A documented experiment; options given explicitly override it. {PRESET_HELP}"))]
NoFigures = Annotated[bool, typer.Option("--no-figures", help="Skip cost.png, boundary.png and report.html.")]
LIBRARY_NAMES = {"inits": "--init", "first_seed": "--seed"}


def _hidden(text: str | None) -> tuple[int, ...] | None:
    from initlab.options import parse_hidden
    return None if text is None else parse_hidden(text)


def _run(config, out: Path | None, command: str, as_json: bool, figures: bool, max_memory: str | None):
    from initlab.experiments import load_dataset, run_compare
    from initlab.experiments.run_folder import check_out, new_run_folder, write_run_folder
    from initlab.memory import budget
    budget(max_memory)  # a malformed size fails before anything else
    folder = check_out(out or new_run_folder(command))
    data = load_dataset(config, max_memory)  # bad data fails here, before the progress bar draws anything
    with progress_bar() as progress:
        task = progress.add_task(f"{command}: {len(config.inits)} schemes x {config.seeds} seeds, iterations",
                                 total=len(config.inits) * config.seeds * config.iterations)
        result = run_compare(config, data, on_iterations=lambda n: progress.advance(task, n), max_memory=max_memory)
    written = write_run_folder(result, folder, _draw() if figures else None)
    print_summary(result.title, result.summary())
    if config.note:
        err.print(f"note: {escape(config.note)}", soft_wrap=True)
    err.print(f"wrote {', '.join(written)} to {escape(str(folder))}", soft_wrap=True)
    if as_json:
        emit_json(result.to_json())
    return result


def _draw():
    """The report layer's figure writer (imported only when figures are wanted)."""
    from initlab.report.folder import write_compare_figures
    return write_compare_figures


@names_flags(**LIBRARY_NAMES)
def compare(data: Data = None, test_data: TestData = None, n_samples: NSamples = None, noise: Noise = None,
            image_size: ImageSize = None, test_fraction: TestFraction = None, standardize: Standardize = None,
            data_seed: DataSeed = None, hidden: Hidden = None, activation: ActivationOpt = None, output: Output = None,
            init: Annotated[Optional[list[str]], typer.Option(metavar="SPEC", help=(
                f"Scheme spec, repeatable. [default: {', '.join(D.inits)}]"))] = None,
            bias_init: BiasInit = None,
            seeds: Annotated[Optional[int], typer.Option(help=(
                f"Seeds per scheme (SEED..SEED+N-1). [default: {D.seeds}]"))] = None,
            seed: Annotated[Optional[int], typer.Option(help=f"First seed. [default: {D.first_seed}]")] = None,
            lr: Lr = None, iterations: Iterations = None, optimizer: Optimizer = None,
            batch_size: BatchSize = None, dtype: Dtype = None, record_every: RecordEvery = None,
            target_cost: TargetCost = None, target_accuracy: TargetAccuracy = None,
            preset_name: PresetOpt = None, out: Out = None, no_figures: NoFigures = False,
            max_memory: MaxMemory = None, as_json: JsonOption = False) -> None:
    """Train the same network from several schemes x seeds; write cost.png, boundary.png and results.json."""
    from initlab.experiments import resolve
    config = resolve(preset_name, data=data, test_data=test_data, n_samples=n_samples, noise=noise,
                     image_size=image_size, test_fraction=test_fraction, standardize=standardize,
                     data_seed=data_seed, hidden=_hidden(hidden), activation=activation, output=output,
                     inits=tuple(init) if init else None, bias_init=bias_init, seeds=seeds, first_seed=seed, lr=lr,
                     iterations=iterations, optimizer=optimizer, batch_size=batch_size, dtype=dtype,
                     record_every=record_every, target_cost=target_cost, target_accuracy=target_accuracy)
    _run(config, out, "compare", as_json, not no_figures, max_memory)


@names_flags(**LIBRARY_NAMES)
def train(data: Data = None, test_data: TestData = None, n_samples: NSamples = None, noise: Noise = None,
          image_size: ImageSize = None, test_fraction: TestFraction = None,
          standardize: Standardize = None, data_seed: DataSeed = None, hidden: Hidden = None,
          activation: ActivationOpt = None, output: Output = None,
          init: Annotated[str, typer.Option(metavar="SPEC", help="Scheme spec.")] = "he_normal",
          bias_init: BiasInit = None, seed: Annotated[int, typer.Option(help="Seed of the weights.")] = 0,
          lr: Lr = None, iterations: Iterations = None, optimizer: Optimizer = None,
          batch_size: BatchSize = None, dtype: Dtype = None, record_every: RecordEvery = None,
          target_cost: TargetCost = None, target_accuracy: TargetAccuracy = None, out: Out = None,
          no_figures: NoFigures = False, max_memory: MaxMemory = None,
          as_json: JsonOption = False) -> None:
    """Train one network (one scheme, one seed) and report its cost curve and accuracies."""
    from initlab.experiments import resolve
    config = resolve(None, data=data, test_data=test_data, n_samples=n_samples, noise=noise, image_size=image_size,
                     test_fraction=test_fraction, standardize=standardize, data_seed=data_seed,
                     hidden=_hidden(hidden), activation=activation, output=output, inits=(init,),
                     bias_init=bias_init, seeds=1, first_seed=seed, lr=lr, iterations=iterations,
                     optimizer=optimizer, batch_size=batch_size, dtype=dtype, record_every=record_every,
                     target_cost=target_cost, target_accuracy=target_accuracy)
    _run(config, out, "train", as_json, not no_figures, max_memory)
