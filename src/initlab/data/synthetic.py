"""Synthetic classification sets: 2-D toy problems and a structureless gaussian set.

Every generator takes `(n_samples, rng, ...)`, draws only from `rng` (a numpy Generator) and
returns `X` float64 `(n_samples, n_features)` and `y` int64 labels `0..k-1`, rows shuffled.
The scikit-learn generators get an int `random_state` drawn from `rng`.
"""

from __future__ import annotations

import numpy as np


def sklearn_seed(rng: np.random.Generator) -> int:
    """An int `random_state` for scikit-learn, drawn from `rng`."""
    return int(rng.integers(2**31 - 1))


def _balanced_labels(n_samples: int, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Labels with class counts differing by at most one, in random order."""
    return rng.permutation(np.arange(n_samples, dtype=np.int64) % n_classes)


def _out(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int64)


def circles(n_samples: int, rng: np.random.Generator, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (`make_circles`, inner radius factor 0.5); class 1 is the inner one.

    >>> X, y = circles(4, np.random.default_rng(0), noise=0.0)
    >>> X.shape, sorted(y.tolist())
    ((4, 2), [0, 0, 1, 1])
    """
    from sklearn.datasets import make_circles  # here, not at import: sklearn costs seconds of start-up

    return _out(*make_circles(n_samples, noise=noise, factor=0.5, random_state=sklearn_seed(rng)))


def moons(n_samples: int, rng: np.random.Generator, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (`make_moons`).

    >>> X, y = moons(6, np.random.default_rng(0), noise=0.1)
    >>> X.shape, int(y.sum())
    ((6, 2), 3)
    """
    from sklearn.datasets import make_moons

    return _out(*make_moons(n_samples, noise=noise, random_state=sklearn_seed(rng)))


def blobs(n_samples: int, rng: np.random.Generator, noise: float, centers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """`centers` isotropic gaussian blobs (`make_blobs`); `noise` is the cluster standard deviation.

    >>> X, y = blobs(9, np.random.default_rng(0), noise=1.0, centers=3)
    >>> X.shape, np.bincount(y).tolist()
    ((9, 2), [3, 3, 3])
    """
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples, centers=centers, cluster_std=noise, random_state=sklearn_seed(rng))
    return _out(X, y)


def spirals(n_samples: int, rng: np.random.Generator, noise: float, arms: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """`arms` interleaved spiral arms through the origin; the class is the arm index.

    Arm `j` is `r * (cos a, sin a)` with `r = t` evenly spaced in [0, 1] and
    `a = 2*pi*j/arms + 2*pi*t + noise * N(0, 1)`: one full turn, gaussian noise on the angle
    (radians), as in the CS231n spiral set.

    >>> X, y = spirals(7, np.random.default_rng(0), noise=0.0, arms=3)
    >>> X.shape, np.bincount(y).tolist(), bool(np.abs(X).max() <= 1.0)
    ((7, 2), [3, 2, 2], True)
    """
    y = np.arange(n_samples, dtype=np.int64) % arms
    counts = np.bincount(y, minlength=arms)
    t = (np.arange(n_samples) // arms) / np.maximum(counts[y] - 1, 1)
    angle = 2 * np.pi * y / arms + 2 * np.pi * t + noise * rng.standard_normal(n_samples)
    X = t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    order = rng.permutation(n_samples)
    return _out(X[order], y[order])


def xor(n_samples: int, rng: np.random.Generator, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2, label 1 where the signs of x1 and x2 differ (XOR), else 0.

    Labels are drawn balanced first, then each point is placed uniformly in its class's two
    quadrants (so the inputs are still uniform on the square); gaussian noise of standard
    deviation `noise` is then added to the inputs, not the labels.

    >>> X, y = xor(8, np.random.default_rng(0), noise=0.0)
    >>> int(y.sum()), bool(np.all((X[:, 0] * X[:, 1] < 0) == (y == 1)))
    (4, True)
    """
    y = _balanced_labels(n_samples, 2, rng)
    magnitude = rng.uniform(0.0, 1.0, size=(n_samples, 2))
    sign1 = rng.integers(0, 2, size=n_samples) * 2 - 1
    sign2 = np.where(y == 1, -sign1, sign1)
    X = magnitude * np.column_stack([sign1, sign2]) + noise * rng.standard_normal((n_samples, 2))
    return _out(X, y)


def gaussian(n_samples: int, rng: np.random.Generator, n_features: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal inputs with `n_features` columns and balanced random 0/1 labels.

    The labels carry no information about the inputs: a set for studies where only the
    network (signal propagation, gradients at init) matters.

    >>> X, y = gaussian(10, np.random.default_rng(0), n_features=5)
    >>> X.shape, int(y.sum())
    ((10, 5), 5)
    """
    X = rng.standard_normal((n_samples, n_features))
    return _out(X, _balanced_labels(n_samples, 2, rng))
