"""`initlab coordcheck`: muP's coordinate check for any PyTorch model (the logic is in
initlab.torch.coordcheck; the figure and page in initlab.report.coordcheck)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from initlab._errors import ArgumentError
from initlab.cli.diagnose import InputShape, Vocab
from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, new_table, progress_bar, show
from initlab.cli.params import JsonOption, MaxMemory, ModelFactory, Out

DEFAULT_WIDTHS = "64,128,256,512,1024"
SHOWN = 5  # modules named on the verdict line (--json has all of them)
Sizes = Annotated[Optional[str], typer.Option(metavar="N,N,N", help=(
    "At least 3 increasing sizes, comma-separated. [default for --widths: " + DEFAULT_WIDTHS + "]"))]


def _sizes(text: str | None, argument: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(item) for item in text.split(",")]
    except ValueError:
        raise ArgumentError(argument, f"expected comma-separated integers like '64,128,256', got '{text}'") from None


@names_flags(factory="--torch", batch="--input-shape", input_shape="--input-shape", widths="--widths",
             depths="--depths", max_memory="--max-memory")
def coordcheck(torch_factory: ModelFactory,
               width_arg: Annotated[str, typer.Option(help="The factory's keyword argument for the width.")] = "width",
               widths: Sizes = None,
               depth_arg: Annotated[str, typer.Option(help="The factory's keyword argument for the depth.")] = "depth",
               depths: Annotated[Optional[str], typer.Option(metavar="N,N,N", help=(
                   "Check depth instead of width: at least 3 increasing depths (the width is the factory's)."))] = None,
               steps: Annotated[int, typer.Option(help="Optimizer steps; rms is recorded at steps 0..STEPS.")] = 5,
               optimizer: Annotated[str, typer.Option(metavar="adam|sgd", help="torch.optim.Adam or SGD.")] = "adam",
               lr: Annotated[float, typer.Option(help="Learning rate, the same at every size.")] = 1e-3,
               seeds: Annotated[int, typer.Option(help="Models per size (seeds 0..N-1); slopes are averaged.")] = 3,
               data: Annotated[Optional[str], typer.Option(metavar="SPEC", help=(
                   "Dataset whose rows (and targets) the steps train on, e.g. digits; tokens:VOCAB for token ids "
                   "(with --input-shape LENGTH)."))] = None,
               input_shape: InputShape = None, vocab: Vocab = None,
               n_samples: Annotated[int, typer.Option(help="Batch size (one batch, the same for every model).")] = 32,
               tolerance: Annotated[float, typer.Option(help="A module is stable while |slope| < TOLERANCE.")] = 0.1,
               out: Out = None, max_memory: MaxMemory = None, as_json: JsonOption = False) -> None:
    """Check that every module's output keeps its size as the model gets wider (or deeper), at
    initialization and after a few optimizer steps (muP's coordinate check), for any PyTorch model."""
    from initlab.memory import budget
    from initlab.options import parse_int_list, parse_tokens
    budget(max_memory)
    width_list, depth_list = _sizes(widths, "widths"), _sizes(depths, "depths")
    if depth_list is not None and width_list is not None:
        raise ArgumentError("depths", "give --widths or --depths, not both (one check varies one size)")
    if depth_list is None and width_list is None:
        width_list = _sizes(DEFAULT_WIDTHS, "widths")
    tokens = parse_tokens(data)
    if tokens is not None:
        if vocab is not None:
            raise ArgumentError("vocab", f"--data {data} already gives the vocabulary; drop --vocab")
        vocab, data = tokens, None
    shape = None if input_shape is None else parse_int_list(input_shape, "input_shape")
    if shape is None and data is None:
        raise ArgumentError("input_shape", "give --input-shape (e.g. 16, or the sequence length with --vocab) "
                            "or --data")
    if n_samples < 1:
        raise ArgumentError("n_samples", f"expected a positive integer, got {n_samples}")
    from initlab.diagnose.sources import factory_function
    from initlab.torch.coordcheck import coordcheck as check
    factory = factory_function(torch_factory, "torch")
    argument = width_arg if depth_list is None else depth_arg
    if argument in factory.keywords:
        raise ArgumentError("torch", f"'{torch_factory}' sets {argument}=, which the check varies; drop it there")
    folder = None
    if out is not None:
        from initlab.experiments.run_folder import check_out
        folder = check_out(out)
    total = len(width_list or depth_list) * max(seeds, 1)
    with progress_bar() as bar, contextlib.redirect_stdout(sys.stderr):  # the model's prints: not on stdout
        task = bar.add_task("coordcheck", total=total)
        result = check(factory, width_list, width_arg=width_arg, depth_arg=depth_arg, depths=depth_list, steps=steps,
                       optimizer=optimizer, lr=lr, seeds=seeds, input_shape=shape, data=data, vocab=vocab,
                       n_samples=n_samples, tolerance=tolerance, max_memory=max_memory,
                       progress=lambda done, _: bar.update(task, completed=done))
    document = result.to_json()
    from initlab.diagnose.present import command_line
    document["config"]["command"] = command_line([
        ("--torch", torch_factory), ("--width-arg", None if depth_list else width_arg), ("--widths", widths),
        ("--depth-arg", depth_arg if depth_list else None), ("--depths", depths), ("--steps", steps),
        ("--optimizer", optimizer), ("--lr", lr), ("--seeds", seeds), ("--data", data if tokens is None else None),
        ("--data", f"tokens:{tokens}" if tokens else None), ("--input-shape", input_shape),
        ("--vocab", None if tokens else vocab), ("--n-samples", n_samples if n_samples != 32 else None)],
        "coordcheck")
    steps_shown = document["steps"]
    show(_table(document), optional=[f"update slope {steps_shown}", "slope 0"])  # left out on a narrow terminal
    broken = document["first_broken"]
    first = ", ".join(broken[:SHOWN]) + (f" and {len(broken) - SHOWN} more" if len(broken) > SHOWN else "")
    err.print(f"verdict: {document['verdict']}" + (f" (first to break: {escape(first)})" if first else ""),
              soft_wrap=True)
    if folder is not None:
        _write(document, folder)
        err.print(f"wrote coordcheck.json, coordcheck.png, report.html to {escape(str(folder))}", soft_wrap=True)
    if as_json:
        emit_json(document)


def _slope(value, spread=None) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.2f}" + ("" if not spread else f" ± {spread:.2f}")


def _table(doc: dict):
    """One row per module: name, role, slope at step 0 and at step T (± spread over seeds), its verdict, the
    slope and verdict of its update (output at step T - at step 0), the step it first broke at."""
    steps = doc["steps"]
    table = new_table(["module", "role", "slope 0", f"slope {steps}", "verdict", f"update slope {steps}",
                       "update", "broken at"],
                      left=["module", "role", "verdict", "update"],
                      title=f"slope of log(rms) against log({doc['axis']}); update: output at step {steps} - at step 0")
    for m in doc["modules"]:
        broken = [s for s in (m["broken_at"], m["delta_broken_at"]) if s is not None]
        bad = {m["verdict"], m["delta_verdict"]} - {"stable"}
        style = "red" if "grows" in bad else "blue" if bad else None
        table.add_row(escape(m["name"]), m["role"], _slope(m["slopes"][0]),
                      _slope(m["slopes"][-1], m["slope_spread"][-1]), m["verdict"],
                      _slope(m["delta_slopes"][-1], m["delta_spread"][-1]), m["delta_verdict"],
                      str(min(broken)) if broken else "", style=style)
    return table


def _write(document: dict, folder: Path) -> None:
    from initlab.report.coordcheck import coordcheck_figure, write_coordcheck_report
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "coordcheck.json").write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")
    figure = coordcheck_figure(document, folder / "coordcheck.png")
    write_coordcheck_report(document, folder / "report.html", command=document["config"]["command"], figure=figure)
