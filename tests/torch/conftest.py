"""Run torch (and BLAS) on one thread inside each initlab.torch test (`single_threaded_linear_algebra`
in tests/conftest.py, which also makes `_initlab_torch_nets.py` importable): two torch threads made
the 30 x 256 MLP tests up to 10x slower.
"""

import pytest


@pytest.fixture(autouse=True)
def _single_threaded(single_threaded_linear_algebra):
    yield
