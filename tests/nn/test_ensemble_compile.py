"""A freshly compiled ensemble kernel and one loaded from Numba's cache give bit-identical numbers.

Sweeps rely on it: the parent process may compile the kernel while pool workers load it from the
cache, and their runs must agree to the last bit.
"""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import sys
import numpy as np
from initlab.data import load
from initlab.nn import MLP
from initlab.nn.ensemble import train_many
X, y = load("circles", n_samples=40, seed=0)
values = []
for optimizer in ("gd", "adam"):
    nets = [MLP([2, 6, 4, 1], "tanh", init=init, seed=0) for init in ("he_normal", "normal(std=10)")]
    train_many(nets, X, y, lr=0.05, iterations=60, optimizer=optimizer, record_every=1)
    values += [p for net in nets for p in net.flat_params()]
np.save(sys.argv[1], np.concatenate([v.ravel() for v in values]))
"""


@pytest.mark.slow
def test_fresh_and_cached_kernels_agree_bit_for_bit(tmp_path):
    import numpy as np
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    outputs = []
    for name in ("compiled", "cached"):  # the first run compiles and writes the cache, the second loads it
        out = tmp_path / f"{name}.npy"
        subprocess.run([sys.executable, "-c", SCRIPT, str(out)], check=True, env=env, timeout=300)
        outputs.append(np.load(out))
    assert any((tmp_path / "numba-cache").rglob("*.nbc"))
    assert np.array_equal(outputs[0], outputs[1])
