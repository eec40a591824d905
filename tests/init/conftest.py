"""Shared set-up for the initializer tests.

1. Make the statistics helpers (`_initlab_init_stats.py`) importable: pyproject runs pytest with
   ``--import-mode=importlib``, which does not put test directories on sys.path, and this
   directory is not a package. The helper's name is unique to these tests, so it shadows nothing.
2. Run BLAS and torch on one thread inside these tests (`single_threaded_linear_algebra`): a
   multithreaded QR of a (400, 250) matrix (orthogonal) took ~2 s instead of ~5 ms.
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
