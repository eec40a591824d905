"""Shared set-up for the report tests: the run records of a small real sweep, built once
(schemes x std x depth x lr, two seeds each). `_initlab_browser.py` is importable through tests/conftest.py.
"""

import pytest

from initlab.experiments import CompareConfig, run_compare
from initlab.report import records_from_compare

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
