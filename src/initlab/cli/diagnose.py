"""`initlab diagnose`: per-layer signal at init against theory (the logic is in initlab.diagnose)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.markup import escape

from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, show
from initlab.cli.params import JsonOption, MaxMemory, Out, TorchFactory
from initlab.data.loader import USAGE
from initlab.nn.activations import ACTIVATIONS

InputShape = Annotated[Optional[str], typer.Option(metavar="SHAPE", help=(
    "Input shape of the torch model without the batch dimension, e.g. 3,32,32 (standard-normal inputs; "
    "with --data, the rows are reshaped to it); for token ids the sequence length, e.g. 128."))]
InputDtype = Annotated[Optional[str], typer.Option(metavar="float|long", help=(
    "Input type of the torch model: float (standard-normal inputs) or long (token ids 0..N-1 drawn "
    "uniformly with the batch seed; needs --vocab N). [default: long with --vocab, else float]"))]
Vocab = Annotated[Optional[int], typer.Option(metavar="N", help=(
    "Vocabulary size of a token model: the batch is token ids 0..N-1 (--input-dtype long; --data tokens:N "
    "is the same)."))]
Output = Annotated[Optional[str], typer.Option(metavar="KEY", help=(
    "Which output of the torch model the loss reads: a key of a dict/ModelOutput or an index of a tuple. "
    "[default: logits, else last_hidden_state, else the first floating tensor]"))]


@names_flags(torch="--torch", model="--torch")
def diagnose(data: Annotated[Optional[str], typer.Option(metavar="SPEC", help=(
                 f"Dataset: {USAGE}; gaussian:D gives standard-normal inputs; tokens:VOCAB gives a --torch "
                 "model token ids. [default: circles, or standard-normal inputs for --torch with "
                 "--input-shape]"))] = None,
             hidden: Annotated[Optional[str], typer.Option(metavar="WIDTHS", help=(
                 "Hidden widths: '10,5' or WIDTHxDEPTH. [default: 100x30]"))] = None,
             activation: Annotated[Optional[str], typer.Option(help=(
                 f"Hidden activation: {', '.join(ACTIVATIONS)}. [default: relu]"))] = None,
             init: Annotated[Optional[list[str]], typer.Option(metavar="SPEC", help=(
                 "Weight scheme spec; for --torch also 'auto' or 'lsuv' (initlab.torch). Repeatable: several "
                 "schemes make a study (see --seeds). [default: he_normal; for --torch: the model as its "
                 "factory built it]"))] = None,
             bias_init: Annotated[Optional[str], typer.Option(help=(
                 "Bias scheme spec (for --torch, with a scheme in --init). [default: zeros]"))] = None,
             torch_factory: TorchFactory = None, input_shape: InputShape = None,
             input_dtype: InputDtype = None, vocab: Vocab = None, output: Output = None,
             n_samples: Annotated[int, typer.Option(help="Batch size of the one forward/backward pass.")] = 256,
             standardize: Annotated[bool, typer.Option("--standardize/--no-standardize",
                                                       help="Scale --data features to mean 0, std 1.")] = True,
             seed: Annotated[int, typer.Option(help="Seed of the batch and the weights (split into independent "
                                                    "streams).")] = 0,
             seeds: Annotated[int, typer.Option(help=(
                 "Diagnose at seeds SEED..SEED+N-1. More than one seed, or several --init, make a study: "
                 "per scheme and layer the median and range over seeds, Glorot & Bengio's histograms "
                 "(histograms.png), the layer curves (layers.png) and study.json."))] = 1,
             out: Out = None,
             no_figures: Annotated[bool, typer.Option("--no-figures", help="Write only diagnose.json.")] = False,
             histograms: Annotated[bool, typer.Option("--histograms", help=(
                 "Also each layer's histograms of activations, dL/dz and dL/dW and two inputs' correlation "
                 "against the correlation map (JSON fields distributions, correlation; histograms.png, "
                 "layers.png). Always on in a study."))] = False,
             jacobian: Annotated[bool, typer.Option("--jacobian", help=(
                 "Also the singular values of the hidden layers' input-output Jacobian d h(L) / d h(1) on 16 "
                 "inputs (dynamical isometry, Pennington et al. 2017): JSON field jacobian, jacobian.png. An MLP "
                 "with 2+ hidden layers only."))] = False,
             max_memory: MaxMemory = None, as_json: JsonOption = False) -> None:
    """Measure each layer's signal at initialization (activations, dL/dz, dead, saturated, duplicate
    units), compare it with mean-field theory, give a verdict and the scheme that fixes it."""
    from initlab.diagnose.command import Options, run, write_folder
    from initlab.diagnose.present import OPTIONAL_COLUMNS, command_line, jacobian_lines, layer_table, verdict_lines
    from initlab.experiments.run_folder import check_out, new_run_folder
    from initlab.memory import budget
    budget(max_memory)  # a malformed size fails before anything else
    inits = list(init or [None])
    options = Options(data, hidden, activation, inits[0], bias_init, torch_factory, input_shape, n_samples,
                      standardize, seed, max_memory, input_dtype, vocab, output, jacobian)
    if len(inits) > 1 or seeds != 1:
        return _study(options, inits, seeds, out, no_figures, as_json)
    folder = check_out(out or new_run_folder("diagnose"))
    result = run(options, detail=histograms)
    written = write_folder(result, folder, not no_figures, command_line(options.flags()),
                           options.init or ("model" if torch_factory else "he_normal"), seed)
    show(layer_table(result), optional=OPTIONAL_COLUMNS)
    for line in verdict_lines(result) + jacobian_lines(result):
        err.print(line, soft_wrap=True)
    err.print(f"wrote {', '.join(written)} to {escape(str(folder))}", soft_wrap=True)
    if as_json:
        emit_json(result.to_json())


def _study(options, inits: list, seeds: int, out, no_figures: bool, as_json: bool) -> None:
    """Several schemes and/or seeds: one diagnosis each, summarised per scheme (`initlab.diagnose.study`)."""
    from dataclasses import replace

    from initlab.cli.output import progress_bar
    from initlab.diagnose.command import TORCH_INITS, _check
    from initlab.init import initializer
    from initlab.diagnose.study import check_study, run_study
    from initlab.diagnose.study_output import study_table, write_study
    from initlab.experiments.run_folder import check_out, new_run_folder
    check_study(inits, seeds, options.seed)
    for init in inits:  # every scheme checked before the first diagnosis runs
        _check(replace(options, init=init))
        if init is not None and init not in TORCH_INITS:
            initializer(init, argument="init")
    folder = check_out(out or new_run_folder("diagnose"))
    with progress_bar() as progress:
        task = progress.add_task(f"diagnose: {len(inits)} schemes x {seeds} seeds", total=len(inits) * seeds)
        study = run_study(options, inits, seeds, progress=lambda: progress.advance(task))
    written = write_study(study, folder, figures=not no_figures)
    show(study_table(study))
    err.print(f"wrote {', '.join(written)} to {escape(str(folder))}", soft_wrap=True)
    if as_json:
        emit_json(study.to_json())
