"""Standardization with training statistics only."""

from __future__ import annotations

import numpy as np
from initlab._errors import ArgumentError


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`(X - mean) / std` per column, with mean and std of `X_train` applied to both arrays.

    Constant training columns are divided by 1 instead of 0 (they become 0). Returns float64.

    >>> train, test = standardize(np.array([[0.0, 5.0], [2.0, 5.0]]), np.array([[4.0, 6.0]]))
    >>> train.tolist(), test.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [[3.0, 1.0]])
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    if X_train.ndim != 2 or X_train.shape[0] == 0:
        raise ArgumentError("X_train", f"expected a non-empty 2-D array (n_samples, n_features), got shape {X_train.shape}")
    if X_test.ndim != 2 or X_test.shape[1] != X_train.shape[1]:
        raise ArgumentError("X_test", f"expected a 2-D array with {X_train.shape[1]} columns like X_train, got shape {X_test.shape}")
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(np.ptp(X_train, axis=0) == 0, 1.0, std)
    return (X_train - mean) / std, (X_test - mean) / std
