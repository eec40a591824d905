"""Shared set-up for the report tests.

Makes `_initlab_browser.py` importable (pytest runs with ``--import-mode=importlib``, which does
not put test folders on sys.path; the helper's name is unique, so it shadows nothing), and builds
the run records of a small real sweep once: schemes x std x depth x lr, two seeds each.
"""

import sys
from pathlib import Path

import pytest

from initlab.experiments import CompareConfig, run_compare
from initlab.report import records_from_compare

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

SWEEP_INITS = ("normal(std=0.1)", "normal(std=1)", "normal(std=10)", "he_normal")


@pytest.fixture(scope="session")
def sweep_records() -> list[dict]:
    """Records of 4 schemes x depth 1..3 x lr {0.05, 0.5} x 2 seeds on moons (24 points, 48 runs)."""
    records = []
    for hidden in [(8,), (8, 8), (8, 8, 8)]:
        for lr in (0.05, 0.5):
            config = CompareConfig(data="moons", n_samples=120, hidden=hidden, activation="tanh", inits=SWEEP_INITS,
                                   seeds=2, lr=lr, iterations=300)
            records += records_from_compare(run_compare(config).to_json())
    return records
