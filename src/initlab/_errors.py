"""Helpers that make user-facing error messages uniform and actionable."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ArgumentError(ValueError):
    """Bad user input. Carries the argument's name so each front end can name it its own way.

    The message is `argument: rule, got value`. The Python API shows it as is; the CLI replaces
    the argument by its flag (`n_samples` -> `--n-samples`), a sweep file by its TOML key.

    >>> error = ArgumentError("n_samples", "expected a positive integer, got 0")
    >>> str(error), error.argument, error.detail
    ('n_samples: expected a positive integer, got 0', 'n_samples', 'expected a positive integer, got 0')
    """

    def __init__(self, argument: str, detail: str):
        super().__init__(f"{argument}: {detail}")
        self.argument = argument
        self.detail = detail

    def __reduce__(self):  # keeps the two fields across process pools (pickle)
        return type(self), (self.argument, self.detail)


class ArgumentTypeError(ArgumentError, TypeError):
    """Bad user input of the wrong type (`initializer(None)`): both an ArgumentError and a TypeError."""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return `" (did you mean 'x'?)"` for the closest choice, or `""` if none is close.

    >>> did_you_mean("he_norml", ["he_normal", "zeros"])
    " (did you mean 'he_normal'?)"
    """
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def unknown_choice(argument: str, kind: str, value: str, choices: Iterable[str], hint: str = "") -> ArgumentError:
    """Build the standard error for a name that is not one of `choices`.

    >>> str(unknown_choice("activation", "activation", "rleu", ["relu", "tanh"]))
    "activation: unknown activation 'rleu' (did you mean 'relu'?); choices: relu, tanh"
    """
    choices = sorted(choices)
    detail = f"unknown {kind} '{value}'{did_you_mean(value, choices)}"
    detail += f"; {hint}" if hint else f"; choices: {', '.join(choices)}"
    return ArgumentError(argument, detail)


def renamed(error: Exception, names: dict[str, str]) -> Exception:
    """The same error with its argument renamed through `names` (e.g. a config field to the flag or
    key the user typed); any other error is returned unchanged.

    >>> str(renamed(ArgumentError("batch", "expected 2 dimensions, got 3"), {"batch": "input_shape"}))
    'input_shape: expected 2 dimensions, got 3'
    """
    if isinstance(error, ArgumentError) and error.argument in names:
        return type(error)(names[error.argument], error.detail)
    return error
