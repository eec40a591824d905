"""One BLAS and torch thread inside the diagnose tests (restored afterwards).

A diagnosis multiplies many small matrices ((256, 100) @ (100, 100) per layer). On a small, busy
machine multithreaded OpenBLAS spins on those: the same tests took 50 s instead of 12 s with two
cores under load. The numbers being tested do not depend on the thread count.
"""

import contextlib
import sys

import pytest


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
