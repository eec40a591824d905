"""SIGKILL in the middle of `initlab sweep run`, then run it again: nothing finished is lost or
duplicated, and the store ends equal to an uninterrupted run's."""

import os
import signal
import subprocess
import sys
import time

import pytest

from initlab.experiments.sweep import run_sweep
from _initlab_sweep_child import SLOW_SWEEP, stored_runs

SWEEP = SLOW_SWEEP.format(iterations=2000)


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
        while not 0 < stored_runs(path) < 24 and child.poll() is None and time.monotonic() < deadline:
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
