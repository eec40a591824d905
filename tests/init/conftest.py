"""Run BLAS and torch on one thread inside the initializer tests (`single_threaded_linear_algebra` in
tests/conftest.py, which also makes `_initlab_init_stats.py` importable): a multithreaded QR of a
(400, 250) matrix (orthogonal) took ~2 s instead of ~5 ms.
"""

import pytest


@pytest.fixture(autouse=True)
def _single_threaded(single_threaded_linear_algebra):
    yield
