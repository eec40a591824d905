"""Validation shared by every module; messages name the argument, the rule and the value.

Upper bounds on counts and seeds (documented here, quoted in the messages):

- `MAX_SEED` = 2**63 - 1: seeds are stored as SQLite INTEGER and handed to torch (int64);
- `MAX_COUNT` = 10**9 (samples, seeds, iterations, layer widths, batch sizes, ...): a billion of
  anything is beyond a day of compute or the memory of one machine for this tool, and keeps every
  count inside NumPy's int64 arithmetic; the memory estimate (`initlab.memory`) usually refuses
  much earlier.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

from initlab._errors import ArgumentError, ArgumentTypeError, unknown_choice

MAX_SEED = 2**63 - 1
MAX_COUNT = 10**9


def _shown(value: object) -> str:
    """-1.0 shows as -1, as the user most likely typed it."""
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def number(name: str, value: object, *, positive: bool = False, non_negative: bool = False,
           maximum: float | None = None) -> float:
    """A finite real number, optionally > 0 or >= 0, and <= `maximum`.

    >>> number("lr", 0.1, positive=True)
    0.1
    """
    rule = "a positive number" if positive else "a non-negative number" if non_negative else "a finite number"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive:
        ok = value > 0
    if ok and non_negative:
        ok = value >= 0
    if ok and maximum is not None and value > maximum:
        raise ArgumentError(name, f"expected {rule} <= {maximum:g}, got {_shown(value)}")
    if not ok:
        raise ArgumentError(name, f"expected {rule}, got {_shown(value)}")
    return float(value)


def integer(name: str, value: object, *, minimum: int = 1, maximum: int | None = MAX_COUNT) -> int:
    """An int in [`minimum`, `maximum`] (1: 'a positive integer', 0: 'a non-negative integer');
    bools are refused; `maximum` defaults to `MAX_COUNT` (None: no bound).

    >>> integer("seeds", 10**10)
    Traceback (most recent call last):
    ...
    initlab._errors.ArgumentError: seeds: expected a positive integer <= 1000000000, got 10000000000
    """
    rule = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ArgumentError(name, f"expected {rule}, got {_shown(value)}")
    if maximum is not None and value > maximum:
        bounded = f"an integer in [{minimum}, {maximum}]" if minimum > 1 else f"{rule} <= {maximum}"
        raise ArgumentError(name, f"expected {bounded}, got {value}")
    return int(value)


def seed(name: str, value: object) -> int:
    """A seed: an int in [0, MAX_SEED]."""
    return integer(name, value, minimum=0, maximum=MAX_SEED)


def choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise unknown_choice(name, name, str(value), choices)
    return str(value)


def features(name: str, X: object, width: int | None = None) -> np.ndarray:
    """A non-empty 2-D array of finite real numbers, `width` columns if given (not converted).

    Strings, objects and complex numbers are a TypeError; NaN or infinite entries a ValueError
    that counts them and gives the first position.

    >>> features("X", [[0.0, float("nan")]])
    Traceback (most recent call last):
    ...
    initlab._errors.ArgumentError: X: expected finite numbers, got 1 NaN or infinite value(s) (first at row 0, column 1: nan)
    """
    import numpy as np  # here, not at the top: the CLI imports this module and must start fast
    try:
        array = np.asarray(X)
    except ValueError:  # ragged nested lists
        raise ArgumentError(name, f"expected a 2-D array (n_samples, n_features), got rows of different "
                                  "lengths") from None
    if array.dtype.kind not in "biuf":
        raise ArgumentTypeError(name, f"expected an array of real numbers, got dtype {array.dtype}")
    shape = f"(n_samples, {width})" if width is not None else "(n_samples, n_features)"
    if array.ndim != 2 or (width is not None and array.shape[1] != width):
        raise ArgumentError(name, f"expected a 2-D array {shape}, got shape {array.shape}")
    if array.size == 0:
        raise ArgumentError(name, f"expected a non-empty 2-D array {shape}, got shape {array.shape}")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            row, column = np.argwhere(bad)[0]
            raise ArgumentError(name, f"expected finite numbers, got {int(bad.sum())} NaN or infinite value(s) "
                                      f"(first at row {row}, column {column}: {array[row, column]})")
    return array


def targets(name: str, y: object, n: int) -> np.ndarray:
    """`n` labels or real targets (one per sample; 2-D allowed for several outputs), finite reals.

    >>> targets("y", ["cat", "dog"], 2)
    Traceback (most recent call last):
    ...
    initlab._errors.ArgumentTypeError: y: expected integer class labels or real numbers, got dtype <U3
    """
    import numpy as np
    try:
        array = np.asarray(y)
    except ValueError:
        raise ArgumentError(name, f"expected one label per sample, got rows of different lengths") from None
    if array.dtype.kind not in "biuf":
        raise ArgumentTypeError(name, f"expected integer class labels or real numbers, got dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 2 or array.shape[0] != n:
        raise ArgumentError(name, f"expected {n} targets (one per row of the inputs), got shape {array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        first = array.reshape(len(array), -1)
        row = int(np.argwhere(~np.isfinite(first))[0][0])
        raise ArgumentError(name, f"expected finite labels or targets, got {int((~np.isfinite(array)).sum())} "
                                  f"NaN or infinite value(s) (first at row {row})")
    return array


def _creatable(name: str, folder: Path) -> None:
    """`folder` exists or can be created: its nearest existing ancestor is a writable folder."""
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise ArgumentError(name, f"cannot create folder '{folder}': '{existing}' is a file")
    if not os.access(existing, os.W_OK):
        raise ArgumentError(name, f"cannot write to '{existing}' (permission denied)")


def output_folder(name: str, folder: str | os.PathLike) -> Path:
    """An output folder: every command that writes one creates it and its missing parents when it
    writes; refused now (before any work) if it is a file or cannot be created or written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ArgumentError(name, f"'{folder}' exists and is not a folder")
    _creatable(name, folder)
    return folder


def output_file(name: str, path: str | os.PathLike, example: str = "out.txt") -> Path:
    """An output file: its missing parent folders are created when it is written (the same rule as
    `output_folder`); refused now if it is a folder or its folder cannot be created or written."""
    path = Path(path)
    if path.is_dir():
        raise ArgumentError(name, f"'{path}' is a folder; give a file name such as {example}")
    _creatable(name, path.parent)
    return path
