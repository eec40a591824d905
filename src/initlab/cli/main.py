"""The `initlab` command: the root app, its command groups, and the one place errors are printed.

Bad input (an ArgumentError from the library, already renamed to the flag by each command, or any
other ValueError) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer
import typer.core

from initlab._errors import did_you_mean

# Every command: its module, the function (or command group) in it, and the line `initlab --help`
# shows. A command's module is imported only when that command runs or shows its help, so the
# root help and --version import no command's dependencies (tests/cli check the lines against
# the docstrings).
COMMANDS = {
    "schemes": ("schemes", "schemes", "List every initialization scheme: name, aliases, formula, distribution, source."),
    "sample": ("schemes", "sample", "Draw one tensor and compare its statistics with what the scheme's formula expects."),
    "compare": ("training", "compare", "Train the same network from several schemes x seeds; write cost.png, "
                                       "boundary.png and results.json."),
    "train": ("training", "train", "Train one network (one scheme, one seed) and report its cost curve and accuracies."),
    "gradcheck": ("gradcheck", "gradcheck", "Check backprop against finite differences for every activation x "
                                            "output combination."),
    "report": ("report", "report", "Write one self-contained HTML page: cost curves, a table per grid point, "
                                   "heatmaps, the config."),
    "diagnose": ("diagnose", "diagnose", "Measure each layer's signal at initialization (activations, dL/dz, dead, "
                                         "saturated, duplicate units), compare it with mean-field theory, give a "
                                         "verdict and the scheme that fixes it."),
    "apply": ("apply", "apply", "Initialise a PyTorch model's parameters with an initlab scheme and show, per "
                                "parameter tensor, the spec and block fans used, or why it was left alone"),
    "audit": ("audit", "audit", "Audit a PyTorch model's initialisation: per parameter tensor its shape, fans, mean, "
                                "std, the named scheme its values match (KS test against the registry) with the "
                                "p-value, and flags (zero, constant, tied, identical, non_finite, std_off)."),
    "coordcheck": ("coordcheck", "coordcheck", "Check that every module's output keeps its size as the model gets "
                                               "wider (or deeper), at initialization and after a few optimizer steps "
                                               "(muP's coordinate check), for any PyTorch model."),
    "sweep": ("sweep", "sweep_app", "Sweeps: schemes x settings x seeds from a TOML file, on local processes or a "
                                    "Dask cluster, kept in a SQLite store."),
    "theory": ("theory", "theory_app", "Mean-field signal propagation of a deep dense network at initialization."),
    "playground": ("playground", "playground", "Start the playground: a local web page that trains networks live from "
                                               "the schemes you pick"),
}
SETTINGS = dict(rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                add_completion=False, pretty_exceptions_enable=False)


def load_command(name: str):
    """The click command behind `initlab NAME` (its module imported now)."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(f"initlab.cli.{module}"), attribute)
    if not isinstance(target, typer.Typer):
        target, function = typer.Typer(**SETTINGS), target
        target.command(name)(function)
    return typer.main.get_command(target)


class LazyCommands(typer.core.TyperGroup):
    """The root group: commands are listed from COMMANDS and loaded when used."""

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, name: str):
        return load_command(name) if name in COMMANDS else None

    def resolve_command(self, ctx, args):
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            ctx.fail(f"no such command '{args[0]}'{did_you_mean(args[0], COMMANDS)}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx, formatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, _, line) in COMMANDS.items()])


app = typer.Typer(help="initlab: neural-network parameter initialization, measured.", cls=LazyCommands,
                  no_args_is_help=True, **SETTINGS)


def _version(value: bool) -> None:
    if value:
        from initlab import __version__
        print(f"initlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """initlab: neural-network parameter initialization, measured."""


def one_line(text: str) -> str:
    """`text` with control characters escaped (a value with a newline or carriage return in it stays
    on the error's one line): 'a\\nb' for 'a' + newline + 'b'."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


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
            print(one_line(f"{command}: {error.format_message()} (see '{command} --help')"), file=sys.stderr)
        return error.exit_code
    except ValueError as error:  # ArgumentError included: its argument is already the flag
        print(one_line(f"error: {error}"), file=sys.stderr)
        return 2
    except MemoryError as error:  # e.g. initlab sample he_normal --shape 100000,100000
        print(one_line(f"error: not enough memory: {error}"), file=sys.stderr)
        return 2
    except OSError as error:  # e.g. an output folder that cannot be written
        print(one_line(f"error: {error.strerror or error}: '{error.filename}'"), file=sys.stderr)
        return 2
    except (KeyboardInterrupt, typer.Abort):
        print("interrupted", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
