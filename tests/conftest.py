"""Fixtures shared by several test folders."""

import contextlib
import sys

import pytest


@pytest.fixture
def single_threaded_linear_algebra():
    """One BLAS/OpenMP and one torch thread for the test (restored afterwards).

    On a small machine shared with other work, multithreaded OpenBLAS and torch spin on the small
    matrices these tests multiply (a (400, 250) QR took ~2 s instead of ~5 ms; 30 x 256 MLPs ran
    up to 10x slower); the numbers being tested do not depend on the thread count. Folders whose
    tests need it request it from an autouse fixture in their conftest.
    """
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
