"""Shared set-up for the initlab.torch tests.

1. Make `_initlab_torch_nets.py` importable: pytest runs with ``--import-mode=importlib``, which does
   not put test directories on sys.path, and this directory is not a package. The name is unique.
2. Run torch (and BLAS) on one thread inside each test (`single_threaded_linear_algebra`): two
   torch threads made the 30 x 256 MLP tests up to 10x slower.
"""

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(autouse=True)
def _single_threaded(single_threaded_linear_algebra):
    yield
