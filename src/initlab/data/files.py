"""Tabular files: `.npz` with arrays `X` and `y`, `.csv` with a header row."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import numpy as np

from initlab._errors import ArgumentError
from initlab.data._validate import finish

LABEL_COLUMNS = ("label", "y")
TARGET_COLUMN = re.compile(r"y(\d+)")  # y1, y2, ...: several real-valued targets (multi-output regression)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open("rb") as handle:
        magic = handle.read(6)
    if not magic.startswith(b"PK") and not magic.startswith(b"\x93NUMPY"):
        shown = "it is empty" if not magic else "it is not a zip archive"
        raise ArgumentError("data", f"cannot read '{path}' as .npz ({shown}; expected a file written by numpy.savez)")
    try:
        arrays = np.load(path, allow_pickle=False)
    except zipfile.BadZipFile as error:
        raise ArgumentError("data", f"cannot read '{path}' as .npz (truncated or corrupt: {error})") from None
    except (OSError, ValueError, EOFError) as error:  # pickled data, a bare .npy cut short, ...
        raise ArgumentError("data", f"cannot read '{path}' as .npz ({error})") from None
    if not hasattr(arrays, "files"):  # a bare .npy array saved under a .npz name
        raise ArgumentError("data", f"'{path}' is a single array, not an .npz archive with arrays 'X' and 'y'")
    with arrays:
        for name in ("X", "y"):
            if name not in arrays.files:
                found = ", ".join(arrays.files) or "none"
                raise ArgumentError("data", f"'{path}' has no array '{name}' (arrays found: {found})")
        try:
            return arrays["X"], arrays["y"]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:  # object arrays, corruption
            raise ArgumentError("data", f"cannot read '{path}' as .npz ({error})") from None


def _number(text: str, path: Path, row: int, column: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ArgumentError("data", f"'{path}' row {row}, column '{column}': cannot parse '{text}' as a number") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _target_columns(header: list[str], path: Path) -> list[int]:
    """The label column (`label`, else `y`, else the last) or, for multi-output regression, the columns
    `y1`, `y2`, ... (two or more, numbered from 1 without gaps)."""
    lowered = [name.lower() for name in header]
    numbered = {int(m.group(1)): i for i, name in enumerate(lowered) if (m := TARGET_COLUMN.fullmatch(name))}
    named = [name for name in LABEL_COLUMNS if name in lowered]
    if len(numbered) >= 2:
        if named:
            raise ArgumentError("data", f"'{path}' has a '{named[0]}' column and target columns "
                                f"{', '.join(header[i] for i in numbered.values())}; keep one kind")
        if sorted(numbered) != list(range(1, len(numbered) + 1)):
            raise ArgumentError("data", f"'{path}': target columns must be y1, y2, ... without gaps, got "
                                f"{', '.join(header[numbered[k]] for k in sorted(numbered))}")
        return [numbered[k] for k in sorted(numbered)]
    return [lowered.index(named[0]) if named else len(header) - 1]


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Features as floats; the label column (`label`, `y`, else the last) as floats or strings, or the
    target columns `y1`, `y2`, ... as a 2-D float array."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise ArgumentError("data", f"cannot read '{path}' as CSV text (not UTF-8: byte {byte:#04x} "
                                    f"at position {error.start})") from None
    except csv.Error as error:  # e.g. a field above csv.field_size_limit(), a NUL byte
        raise ArgumentError("data", f"cannot read '{path}' as CSV ({error})") from None
    if not rows:
        raise ArgumentError("data", f"'{path}' is empty; expected a header row, e.g. 'x1,x2,label'")
    header = [name.strip() for name in rows[0]]
    if all(_is_number(name) for name in header):
        first = ",".join(header)[:60]
        raise ArgumentError("data", f"'{path}' has no header row (its first row {first!r} is all numbers); "
                                    "add one, e.g. 'x1,x2,label'")
    if len(header) < 2:
        raise ArgumentError("data", f"'{path}' has {len(header)} column; need at least one feature and a label")
    targets = _target_columns(header, path)
    features = [i for i in range(len(header)) if i not in targets]
    if not features:
        raise ArgumentError("data", f"'{path}' has no feature column (every column is a target)")
    X = np.empty((len(rows) - 1, len(features)), dtype=np.float64)
    labels = []
    for number, row in enumerate(rows[1:], start=2):  # row numbers as a spreadsheet shows them
        if len(row) != len(header):
            raise ArgumentError("data", f"'{path}' row {number} has {len(row)} fields but the header has {len(header)}")
        cells = [cell.strip() for cell in row]
        for column, cell in enumerate(cells):
            if not cell:
                raise ArgumentError("data", f"'{path}' row {number}, column '{header[column]}' is empty")
        X[number - 2] = [_number(cells[i], path, number, header[i]) for i in features]
        labels.append([cells[i] for i in targets])
    if len(targets) > 1:  # several targets: real values, one column each
        return X, np.array([[_number(cell, path, row, header[i]) for cell, i in zip(cells, targets)]
                            for row, cells in enumerate(labels, start=2)], dtype=np.float64).reshape(len(labels), -1)
    labels = [cells[0] for cells in labels]
    try:
        y = np.array([float(text) for text in labels], dtype=np.float64)
    except ValueError:  # class names such as 'cat', 'dog'
        y = np.array(labels, dtype=str)
    return X, y


READERS = {".npz": _read_npz, ".csv": _read_csv}


def table_file(filename: str, spec: str) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Load `(X, y, class_names)` from a `.npz` (arrays `X` and `y`) or a `.csv` file.

    CSV: a header row; the label column is the one named `label` (else `y`, case-insensitive),
    otherwise the last column; or, for several real-valued targets, the columns `y1`, `y2`, ... (a 2-D `y`);
    every other column is a numeric feature. Labels that are all
    integers, or strings, become int64 classes `0..k-1` (sorted distinct values); labels with
    non-integer floats stay float64 (regression targets, no class names). NaN or infinite values
are refused.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("a,label,b\\n1,cat,2\\n3,dog,4\\n")
    >>> X, y, names = table_file(str(path), "file:" + str(path))
    >>> X.tolist(), y.tolist(), names
    ([[1.0, 2.0], [3.0, 4.0]], [0, 1], ['cat', 'dog'])
    """
    path = Path(filename).expanduser()
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ArgumentError(
            "data", f"unsupported file extension '{path.suffix}' in '{spec}'; expected {' or '.join(READERS)}"
        )
    if not path.is_file():
        raise ArgumentError("data", f"file '{path}' does not exist")
    X, y = reader(path)
    return finish(X, y, f"'{path}'")
