"""Option types shared by several commands (their help text is written once here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else there.")]
Out = Annotated[Optional[Path], typer.Option(metavar="DIR", help=(
    "Output folder, created with its parents if missing. [default: runs/<command>-<time>]"))]
MaxMemory = Annotated[Optional[str], typer.Option(metavar="SIZE", help=(
    "Refuse to start a run whose estimated memory is above SIZE, e.g. 12GB or 500MB. [default: half the RAM]"))]
FACTORY_HELP = ("a function returning an nn.Module, e.g. mymodels:build or 'mymodels:build(depth=20, width=64)' "
                "(keyword values are Python literals, never run as code; the module is imported from the current "
                "folder first). Needs the torch extra.")
TorchFactory = Annotated[Optional[str], typer.Option("--torch", metavar="MODULE:FACTORY", help=(
    "A PyTorch model instead of an MLP: " + FACTORY_HELP))]
ModelFactory = Annotated[str, typer.Option("--torch", metavar="MODULE:FACTORY", help="The PyTorch model: " + FACTORY_HELP)]


def sub_app(help_text: str, **settings) -> typer.Typer:
    """A command group with the same conventions as the root command."""
    return typer.Typer(help=help_text, rich_markup_mode=None, add_completion=False,
                       context_settings={"help_option_names": ["-h", "--help"]}, **settings)
