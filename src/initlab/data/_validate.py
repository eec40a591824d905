"""Argument checks and the final shaping of every dataset into (X float64, y labels or targets)."""

from __future__ import annotations

import numbers

import numpy as np

from initlab._errors import ArgumentError
from initlab._checks import integer, number


def check_n_samples(n_samples: object) -> int:
    """`n_samples` must be a positive int (bools are refused)."""
    return integer("n_samples", n_samples)


def check_noise(noise: object) -> float | None:
    """`noise` is None (dataset default) or a finite number >= 0."""
    return None if noise is None else number("noise", noise, non_negative=True)


def check_image_size(image_size: object) -> int | None:
    """`image_size` is None (keep sizes) or a positive int."""
    if image_size is None:
        return None
    if not isinstance(image_size, numbers.Integral) or isinstance(image_size, bool) or image_size <= 0:
        raise ArgumentError("image_size", f"expected a positive integer (pixels per side), got {image_size!r}")
    return int(image_size)


def as_targets(y: np.ndarray) -> tuple[np.ndarray, list[str] | None]:
    """Labels as int64 0..k-1 (sorted distinct values) with the class names they stand for,
    or float64 targets and no names when y holds non-integer floats (regression) or is 2-D (one
    column per output: multi-output regression, whatever its values).

    >>> codes, names = as_targets(np.array([3, 1, 3]))
    >>> codes.tolist(), names, as_targets(np.array([0.5, 2.0]))[0].dtype.name
    ([1, 0, 1], ['1', '3'], 'float64')
    >>> as_targets(np.array([[1, 2], [3, 4]]))
    (array([[1., 2.],
           [3., 4.]]), None)
    """
    if y.ndim == 2:
        return y.astype(np.float64), None
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        return y.astype(np.float64), None
    values, codes = np.unique(y, return_inverse=True)
    if values.dtype.kind == "f":
        values = values.astype(np.int64)
    return codes.reshape(-1).astype(np.int64), [str(v) for v in values.tolist()]


def recode(y: np.ndarray, names: list[str] | None, classes: list[str], where: str) -> np.ndarray:
    """Re-express labels `y` (indices into `names`) as indices into `classes` (another set's names).

    >>> recode(np.array([0, 1, 1]), ["dog", "fish"], ["cat", "dog", "fish"], "test").tolist()
    [1, 2, 2]
    """
    if names is None:
        raise ArgumentError("data", f"{where} holds real-valued targets, but the training data has classes {classes}")
    position = {name: k for k, name in enumerate(classes)}
    unknown = [name for name in names if name not in position]
    if unknown:
        raise ArgumentError("data", f"{where} has classes {unknown} that the training data does not have "
                         f"(training classes: {classes})")
    return np.array([position[name] for name in names], dtype=np.int64)[y]


def finish(X: np.ndarray, y: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Check shapes and values of a loaded (X, y); `where` names the source in messages."""
    if X.dtype.kind not in "biuf":
        raise ArgumentError("data", f"{where} array X must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ArgumentError("data", f"{where} array X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and (y.dtype.kind not in "biuf" or y.shape[1] == 0):
        raise ArgumentError("data", f"{where} array y of shape {y.shape} must hold numbers, one column per output "
                                    f"(multi-output regression), got dtype {y.dtype}")
    if y.ndim not in (1, 2):
        raise ArgumentError("data", f"{where} array y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs), "
                                    f"got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ArgumentError("data", f"{where} has {X.shape[0]} rows in X but {y.shape[0]} in y")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ArgumentError("data", f"{where} is empty (X has shape {X.shape})")
    X = np.ascontiguousarray(X, dtype=np.float64)
    for name, values in (("X", X), ("y", y)):
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise ArgumentError("data", f"{where} contains NaN in {name}")
        if values.dtype.kind == "f" and np.isinf(values).any():
            raise ArgumentError("data", f"{where} contains infinite values in {name}")
    if y.dtype.kind not in "biufUS":
        raise ArgumentError("data", f"{where} array y must hold numbers or strings, got dtype {y.dtype}")
    return (X, *as_targets(y))
