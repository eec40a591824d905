"""Helpers that make user-facing error messages uniform and actionable."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return `" (did you mean 'x'?)"` for the closest choice, or `""` if none is close.

    >>> did_you_mean("he_norml", ["he_normal", "zeros"])
    " (did you mean 'he_normal'?)"
    """
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def unknown_choice(argument: str, kind: str, value: str, choices: Iterable[str], hint: str = "") -> ValueError:
    """Build the standard error for a name that is not one of `choices`.

    >>> str(unknown_choice("activation", "activation", "rleu", ["relu", "tanh"]))
    "activation: unknown activation 'rleu' (did you mean 'relu'?); choices: relu, tanh"
    """
    choices = sorted(choices)
    message = f"{argument}: unknown {kind} '{value}'{did_you_mean(value, choices)}"
    message += f"; {hint}" if hint else f"; choices: {', '.join(choices)}"
    return ValueError(message)
