"""One BLAS and torch thread inside the diagnose tests (see `single_threaded_linear_algebra`).

A diagnosis multiplies many small matrices ((256, 100) @ (100, 100) per layer); with two busy cores
multithreaded OpenBLAS made these tests take 50 s instead of 12 s.
"""

import pytest


@pytest.fixture(autouse=True)
def _single_threaded(single_threaded_linear_algebra):
    yield
