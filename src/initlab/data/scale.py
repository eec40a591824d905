"""Standardization with training statistics only."""

from __future__ import annotations

import numpy as np

from initlab._checks import features
from initlab._errors import ArgumentError


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`(X - mean) / std` per column, with mean and std of `X_train` applied to both arrays.

    Constant training columns are divided by 1 instead of 0 (they become 0). Returns float64.

    >>> train, test = standardize(np.array([[0.0, 5.0], [2.0, 5.0]]), np.array([[4.0, 6.0]]))
    >>> train.tolist(), test.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [[3.0, 1.0]])
    """
    X_train = features("X_train", X_train).astype(np.float64)
    X_test = np.asarray(X_test)
    if X_test.ndim != 2 or X_test.shape[1] != X_train.shape[1]:
        raise ArgumentError("X_test", f"expected a 2-D array with {X_train.shape[1]} columns like X_train, got shape {X_test.shape}")
    X_test = features("X_test", X_test).astype(np.float64) if len(X_test) else X_test.astype(np.float64)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(np.ptp(X_train, axis=0) == 0, 1.0, std)
    return (X_train - mean) / std, (X_test - mean) / std
