"""The `initlab` command: the root app, its command groups, and the one place errors are printed.

Bad input (an ArgumentError from the library, already renamed to the flag by each command, or any
other ValueError) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from initlab.cli import diagnose, gradcheck, report, schemes, training
from initlab.cli.sweep import sweep_app
from initlab.cli.theory import theory_app

app = typer.Typer(help="initlab: neural-network parameter initialization, measured.",
                  rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
for command in (schemes.schemes, schemes.sample, training.compare, training.train, gradcheck.gradcheck,
                report.report, diagnose.diagnose):
    app.command()(command)
app.add_typer(sweep_app, name="sweep")
app.add_typer(theory_app, name="theory")


def _version(value: bool) -> None:
    if value:
        from initlab import __version__
        print(f"initlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """initlab: neural-network parameter initialization, measured."""


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
    except ValueError as error:  # ArgumentError included: its argument is already the flag
        print(f"error: {error}", file=sys.stderr)
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


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
