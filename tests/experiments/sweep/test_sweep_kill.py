"""SIGKILL in the middle of `initlab sweep run`, then run it again: nothing finished is lost or
duplicated, and the store ends equal to an uninterrupted run's."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from initlab.experiments.sweep import run_sweep

# 12 points x 2 seeds; each point takes a fraction of a second, so the sweep lasts a few seconds.
SWEEP = """
data = "circles"
n_samples = 100
seeds = 2
[model]
activation = "tanh"
[train]
lr = 0.1
iterations = 2000
[grid]
"model.init" = ["he_normal", "xavier_normal", "normal(std=1)"]
"model.hidden" = ["8x2", "8x3", "12x2", "12x3"]
"""


def _count(path) -> int:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return connection.execute("SELECT count(*) FROM runs").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.OperationalError:  # not created yet, or its tables not yet
        return 0


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.slow
def test_sigkill_then_rerun_equals_an_uninterrupted_run(tmp_path, stored, cli, workers):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP)
    path = tmp_path / "killed.db"
    child = subprocess.Popen([sys.executable, "-m", "initlab.cli", "sweep", "run", str(sweep), "--store", str(path),
                              "--workers", workers], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not 0 < _count(path) < 24 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert child.poll() is None, f"the sweep ended before it could be killed: {child.stderr.read()}"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)  # worker processes the pool left behind
        except ProcessLookupError:
            pass
        child.stderr.close()
    at_kill = stored(path)
    assert 0 < len(at_kill) < 24

    reference = tmp_path / "reference.db"
    run_sweep(sweep, reference, workers=1)
    code, _, err = cli("sweep", "run", sweep, "--store", path, "--workers", "1")
    assert code == 0 and f"ran {24 - len(at_kill)} runs, {len(at_kill)} were already stored" in err
    resumed = stored(path)
    assert len(resumed) == 24
    assert {key: resumed[key] for key in at_kill} == at_kill  # what finished before the kill is kept as it was
    assert resumed == stored(reference)  # every number of every run, compared with ==
