"""Duplicate-unit detection in `initlab diagnose`: its share of a diagnosis, before and after hashing.

A 50-layer relu MLP (width 100, he_normal) on 256 circles samples: the whole `diagnose_mlp`, and
`initlab.diagnose.stats.duplicates` on its 51 captures, with the current grouping (rows hashed by
their bytes, one pass) and with the earlier one (``np.unique(rows, axis=0)``, which sorts the rows),
in the same process. Medians of `--repeats` runs; the ratios are what to read.

Run: python benchmarks/diagnose_duplicates.py [--repeats 7]
"""

from __future__ import annotations

import argparse
from unittest import mock

import numpy as np

from initlab.data import load
from initlab.diagnose import diagnose_mlp
from initlab.diagnose import stats
from initlab.diagnose.mlp_probe import capture_mlp
from initlab.nn.mlp import MLP
from _timing import median_seconds  # noqa: E402  (benchmarks/ is on the path when a benchmark runs)


def sorted_groups(rows: np.ndarray) -> np.ndarray:
    """The earlier grouping: np.unique over whole rows."""
    return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    X, y = load("circles", n_samples=256, seed=0)
    net = MLP([2] + [100] * 50 + [1], activation="relu", init="he_normal", seed=0)
    captures = capture_mlp(net, X, y)
    diagnose_mlp(net, X, y)  # imports and caches warm
    whole = median_seconds(lambda: diagnose_mlp(net, X, y), repeats)
    hashed = median_seconds(lambda: [stats.duplicates(c) for c in captures], repeats)
    with mock.patch.object(stats, "_groups", sorted_groups):
        old = median_seconds(lambda: [stats.duplicates(c) for c in captures], repeats)
        whole_old = median_seconds(lambda: diagnose_mlp(net, X, y), repeats)
    print(f"diagnose_mlp, 50 relu layers x 100 units, 256 samples (median of {repeats})")
    print(f"  whole diagnosis:           {whole * 1e3:8.1f} ms   (with np.unique: {whole_old * 1e3:.1f} ms)")
    print(f"  duplicates, hashed rows:   {hashed * 1e3:8.1f} ms   {hashed / whole:6.1%} of the diagnosis")
    print(f"  duplicates, np.unique:     {old * 1e3:8.1f} ms   {old / whole_old:6.1%} of that diagnosis")
    print(f"  speed-up of duplicates:    {old / hashed:8.1f}x")


if __name__ == "__main__":
    main()
