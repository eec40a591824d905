"""Shared set-up for the initializer tests.

1. Make the statistics helpers (`_initlab_init_stats.py`) importable: pyproject runs pytest with
   ``--import-mode=importlib``, which does not put test directories on sys.path, and this
   directory is not a package. The helper's name is unique to these tests, so it shadows nothing.
2. Run BLAS and torch on one thread inside these tests (restored afterwards). On a small, busy
   machine a multithreaded QR of a (400, 250) matrix (orthogonal) takes ~2 s in OpenBLAS and
   ~0.4 s in torch instead of ~5 ms; the laws being tested do not depend on the thread count.
"""

import contextlib
import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(autouse=True)
def _single_threaded_linear_algebra():
    try:
        from threadpoolctl import threadpool_limits
        blas = threadpool_limits(limits=1)
    except ImportError:  # threadpoolctl comes with scikit-learn; without it only speed suffers
        blas = contextlib.nullcontext()
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with blas:
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)
