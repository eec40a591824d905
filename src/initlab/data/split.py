"""Deterministic, stratified train/test split."""

from __future__ import annotations

import math
import numbers

import numpy as np

from initlab._checks import features, targets
from initlab._errors import ArgumentError
from initlab._random import as_generator


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = features("X", X)
    y = np.asarray(y)
    if y.ndim == 2 and y.dtype.kind != "f" or y.ndim not in (1, 2):
        raise ArgumentError("y", f"expected a 1-D array (n_samples,) or 2-D float targets (n_samples, n_outputs), "
                                 f"got shape {y.shape} of {y.dtype}")
    if X.shape[0] != y.shape[0]:
        raise ArgumentError("y", f"expected {X.shape[0]} labels to match the rows of X, got {y.shape[0]}")
    return X, targets("y", y, len(X)) if y.dtype.kind not in "US" else y


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_fraction: float = 0.25, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into `(X_train, y_train, X_test, y_test)` (note: not scikit-learn's order).

    The test set has `ceil(test_fraction * n)` rows (as in scikit-learn). Integer labels are
    stratified (each class keeps its share in both parts); float targets are not. The shuffle
    uses scikit-learn's `train_test_split` with an int `random_state` drawn from `seed`, so the
    same seed gives the same split. `test_fraction=0` returns all rows for training and empty
    test arrays with the right number of columns.

    >>> X, y = np.arange(16.0).reshape(8, 2), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> X_train, y_train, X_test, y_test = train_test_split(X, y, test_fraction=0.5, seed=0)
    >>> X_train.shape, X_test.shape, np.bincount(y_test).tolist()
    ((4, 2), (4, 2), [2, 2])
    """
    X, y = _check_xy(X, y)
    valid = isinstance(test_fraction, numbers.Real) and not isinstance(test_fraction, bool)
    if not valid or not 0 <= test_fraction < 1:
        raise ArgumentError("test_fraction", f"expected a number in [0, 1), got {test_fraction!r}")
    random_state = int(as_generator(seed, "seed").integers(2**31 - 1))
    if test_fraction == 0:
        return X.copy(), y.copy(), X[:0].copy(), y[:0].copy()
    n = X.shape[0]
    n_test = math.ceil(test_fraction * n)
    if n - n_test < 1:
        raise ArgumentError("test_fraction", f"{test_fraction} of {n} rows leaves no rows for training")
    stratify = None
    if y.dtype.kind in "biu":
        classes, counts = np.unique(y, return_counts=True)
        rare = classes[counts < 2]
        if rare.size:
            raise ArgumentError("y", f"class {rare[0]} has only 1 sample; a stratified split needs at least 2 per class")
        if min(n_test, n - n_test) < classes.size:
            raise ArgumentError(
                "test_fraction", f"{test_fraction} of {n} rows gives {n_test} test and {n - n_test} training rows, "
                f"fewer than the {classes.size} classes; a stratified split needs one of each class in both parts"
            )
        stratify = y
    from sklearn.model_selection import train_test_split as _sklearn_split

    X_train, X_test, y_train, y_test = _sklearn_split(
        X, y, test_size=n_test, random_state=random_state, stratify=stratify
    )
    return X_train, y_train, X_test, y_test
