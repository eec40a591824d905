"""Shared pieces of the sweep tests: a tiny sweep (40 points of circles, 20 iterations) and the
stored numbers of a store, without the two timing columns."""

import sqlite3

import pytest

TINY = {"data": "circles", "n_samples": 40, "seeds": 2, "model": {"hidden": [4], "activation": "tanh"},
        "train": {"lr": 0.1, "iterations": 20}}
TIMING = ("wall_time", "finished_at")


@pytest.fixture
def tiny():
    """tiny(**grid) -> the tiny sweep with a [grid] table ('model.init' -> ["zeros", "he_normal"] if not given)."""
    def make(seeds=2, **grid):
        grid = {key.replace("__", "."): values for key, values in grid.items()}
        grid.setdefault("model.init", ["zeros", "he_normal"])
        return {**TINY, "seeds": seeds, "grid": grid}
    return make


@pytest.fixture
def stored():
    """stored(path) -> {key: every column of the run but the timing ones}, read with plain sqlite3."""
    def read(path):
        connection = sqlite3.connect(path)
        try:
            cursor = connection.execute("SELECT * FROM runs")
            names = [column[0] for column in cursor.description]
            return {row[0]: {n: v for n, v in zip(names, row) if n not in TIMING} for row in cursor}
        finally:
            connection.close()
    return read
