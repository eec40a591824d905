"""Shared set-up for the initlab.torch tests.

1. Make `_initlab_torch_nets.py` importable: pytest runs with ``--import-mode=importlib``, which does
   not put test directories on sys.path, and this directory is not a package. The name is unique.
2. Run torch on one thread inside each test (restored afterwards), as tests/init does: on a small
   machine shared with other work, two torch threads made the 30 x 256 MLP tests up to 10x slower
   (spinning threads), and no result here depends on the thread count.
"""

import sys
from pathlib import Path

import pytest
import torch

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
