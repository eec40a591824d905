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
             init: Annotated[Optional[str], typer.Option(metavar="SPEC", help=(
                 "Weight scheme spec; for --torch also 'auto' or 'lsuv' (initlab.torch). "
                 "[default: he_normal; for --torch: the model as its factory built it]"))] = None,
             bias_init: Annotated[Optional[str], typer.Option(help=(
                 "Bias scheme spec (for --torch, with a scheme in --init). [default: zeros]"))] = None,
             torch_factory: TorchFactory = None, input_shape: InputShape = None,
             input_dtype: InputDtype = None, vocab: Vocab = None, output: Output = None,
             n_samples: Annotated[int, typer.Option(help="Batch size of the one forward/backward pass.")] = 256,
             standardize: Annotated[bool, typer.Option("--standardize/--no-standardize",
                                                       help="Scale --data features to mean 0, std 1.")] = True,
             seed: Annotated[int, typer.Option(help="Seed of the batch and the weights (split into independent "
                                                    "streams).")] = 0,
             out: Out = None,
             no_figures: Annotated[bool, typer.Option("--no-figures", help="Write only diagnose.json.")] = False,
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
    options = Options(data, hidden, activation, init, bias_init, torch_factory, input_shape, n_samples,
                      standardize, seed, max_memory, input_dtype, vocab, output, jacobian)
    folder = check_out(out or new_run_folder("diagnose"))
    result = run(options)
    written = write_folder(result, folder, not no_figures, command_line(options.flags()))
    show(layer_table(result), optional=OPTIONAL_COLUMNS)
    for line in verdict_lines(result) + jacobian_lines(result):
        err.print(line, soft_wrap=True)
    err.print(f"wrote {', '.join(written)} to {escape(str(folder))}", soft_wrap=True)
    if as_json:
        emit_json(result.to_json())
