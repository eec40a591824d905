"""`initlab apply`: initialise a PyTorch model with any initlab scheme and show, per parameter tensor, what
was done or why it was left alone (the logic is in initlab.torch.apply)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from initlab._checks import output_file, seed as check_seed
from initlab._errors import ArgumentError
from initlab.cli.flags import names_flags
from initlab.cli.output import emit_json, err, show
from initlab.cli.params import JsonOption, ModelFactory

OPTIONAL_COLUMNS = ("kind", "by", "note")


def _overrides(values: list[str]) -> dict[str, str]:
    """'GLOB=SPEC' pairs as a dict; the spec may itself contain '=' (normal(std=0.02))."""
    pairs = {}
    for value in values:
        pattern, sep, spec = value.partition("=")
        if not sep or not pattern or not spec:
            raise ArgumentError("--override", f"expected GLOB=SPEC such as '*.c_proj.weight=normal(std=0.0029)', "
                                f"got {value!r}")
        pairs[pattern] = spec
    return pairs


@names_flags(torch="--torch", model="--torch", scheme="--init", bias="--bias", recurrent="--recurrent",
             embedding="--embedding", norm="--norm", tied="--tied", overrides="--override")
def apply(torch_factory: ModelFactory,
          init: Annotated[str, typer.Option(metavar="SPEC", help=(
              "Weight scheme spec for every Linear, Conv, ConvTranspose, Hugging Face Conv1D, attention q/k/v "
              "block and RNN input weight, e.g. he_normal or 'normal(std=0.02)'; 'keep' leaves them."))],
          bias: Annotated[str, typer.Option(metavar="SPEC", help="Bias spec of those layers.")] = "zeros",
          recurrent: Annotated[Optional[str], typer.Option(metavar="SPEC", help=(
              "RNN hidden-to-hidden weights, per gate block, e.g. orthogonal. [default: --init]"))] = None,
          embedding: Annotated[str, typer.Option(metavar="SPEC", help=(
              "Embedding tables; 'keep' leaves them as built."))] = "keep",
          norm: Annotated[str, typer.Option(metavar="SPEC", help=(
              "Norm-layer weights (their biases get 0); 'keep' leaves both."))] = "ones",
          tied: Annotated[str, typer.Option(metavar="POLICY", help=(
              "A tensor shared by several modules (GPT-2's lm_head and token embedding): skip (leave it, "
              "warn), owner (fill it once by its first owner's rule) or error."))] = "skip",
          override: Annotated[Optional[list[str]], typer.Option(metavar="GLOB=SPEC", help=(
              "Fill the parameters whose names match GLOB (':BLOCK' for one block, e.g. 'rnn.bias_*:f') "
              "with SPEC before every other rule; repeatable."))] = None,
          seed: Annotated[int, typer.Option(help="Seed of the factory's torch RNG and of the draws.")] = 0,
          save: Annotated[Optional[Path], typer.Option(metavar="FILE", help=(
              "Write the initialised model's state_dict there (torch.save; missing folders are created)."))] = None,
          as_json: JsonOption = False) -> None:
    """Initialise a PyTorch model's parameters with an initlab scheme and show, per parameter tensor, the
    spec and block fans used, or why it was left alone (class tokens, LayerScale gammas, tied tensors)."""
    check_seed("seed", seed)
    overrides = _overrides(override or [])
    if save is not None:
        save = output_file("--save", save, "model.pt")
    import warnings

    from initlab.diagnose.sources import Seeds, load_factory
    model = load_factory(torch_factory, Seeds.spawn(seed).factory)
    from initlab.torch.apply import TiedParameterWarning, initialise
    with warnings.catch_warnings():  # the table's tied rows say it; no Python warning on the terminal
        warnings.simplefilter("ignore", TiedParameterWarning)
        result = initialise(model, init, bias, recurrent=recurrent, embedding=embedding, norm=norm, tied=tied,
                            overrides=overrides, seed=seed)
    show(_done_table(result, torch_factory), optional=OPTIONAL_COLUMNS)
    if result.left_alone:
        show(_alone_table(result))
    summary = result.to_json()["summary"]
    err.print(f"initialised {summary['initialised']} of {summary['parameters']} parameter tensors "
              f"({summary['values_initialised']:,} of {summary['values']:,} values); left alone: "
              f"{summary['left_alone']}", soft_wrap=True, highlight=False)
    if save is not None:
        import torch
        save.parent.mkdir(parents=True, exist_ok=True)  # output_file's rule: missing parent folders are created
        torch.save(model.state_dict(), save)
        err.print(f"wrote {save}", soft_wrap=True, highlight=False)
    if as_json:
        emit_json(result.to_json())


def _done_table(result, factory: str):
    """Initialised tensors; the note column only when some row has a note (an override, a padding row)."""
    from rich.markup import escape

    from initlab.cli.output import new_table
    from initlab.torch.apply_result import fans_text, shape_text, std_text
    rows = result.initialised
    notes = any(r.note for r in rows)
    columns = ("parameter", "shape", "kind", "by", "spec", "blocks (fan_in, fan_out)", "std") + ("note",) * notes
    table = new_table(columns, title=f"initlab apply: {escape(factory)}",
                      left=("parameter", "shape", "kind", "by", "spec", "blocks (fan_in, fan_out)", "note"),
                      wrap=("note",))
    for r in rows:
        cells = [escape(r.name), shape_text(r.shape), r.kind or "-", r.argument or "-", escape(r.spec or "-"),
                 escape(fans_text(r.blocks)), std_text(r.blocks)]
        table.add_row(*cells, *([escape(r.note)] if notes else []))
    return table


def _alone_table(result):
    from rich.markup import escape

    from initlab.cli.output import new_table
    from initlab.torch.apply_result import shape_text
    table = new_table(("left alone", "shape", "kind", "why"), left=("left alone", "shape", "kind", "why"),
                      wrap=("why",))
    for r in result.left_alone:
        table.add_row(escape(r.name), shape_text(r.shape), r.kind or "-", escape(r.note))
    return table
