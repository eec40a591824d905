"""Execution: the same numbers in this process, on a process pool and on Dask; Ctrl-C keeps what finished."""

import pytest

from initlab.experiments.sweep import SweepInterrupted, run_sweep, status


@pytest.fixture
def varied(tiny):
    """Full-batch (ensemble) and minibatch runs, gd and adam, a scale that gives large costs."""
    return tiny(**{"model.init": ["he_normal", "normal(std=10)"], "train.optimizer": ["gd", "adam"],
                   "train.batch_size": [10, 30]})


@pytest.mark.slow
def test_pool_workers_1_and_dask_give_bit_identical_stores(varied, tmp_path, stored):
    distributed = pytest.importorskip("distributed")
    run_sweep(varied, tmp_path / "one.db", workers=1)
    run_sweep(varied, tmp_path / "pool.db", workers=2)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        report = run_sweep(varied, tmp_path / "dask.db", scheduler=cluster.scheduler_address)
    assert (report.total, report.ran) == (16, 16)
    one = stored(tmp_path / "one.db")
    assert len(one) == 16 and any(row["final_cost"] > 1 for row in one.values())
    assert stored(tmp_path / "pool.db") == one  # every column but the timings, compared with ==
    assert stored(tmp_path / "dask.db") == one


def test_a_scheduler_without_workers_is_reported_and_the_sweep_runs_once_one_joins(tiny, tmp_path):
    distributed = pytest.importorskip("distributed")
    notes = []
    with distributed.LocalCluster(processes=False, n_workers=0, dashboard_address=None) as cluster:
        def note(text):  # the user would start a worker now; the test scales the cluster instead
            notes.append(text)
            cluster.scale(1)
        report = run_sweep(tiny(), tmp_path / "dask.db", scheduler=cluster.scheduler_address, on_note=note)
    assert notes == [f"the scheduler at {cluster.scheduler_address} has no workers yet; runs start when one "
                     f"joins (e.g. dask worker {cluster.scheduler_address})"]
    assert report.ran == report.total > 0


def test_unreachable_scheduler_fails_fast_and_creates_no_store(tiny, tmp_path):
    with pytest.raises(ValueError, match=r"scheduler: cannot reach 'tcp://127.0.0.1:9' within 0.5 s"):
        run_sweep(tiny(), tmp_path / "results.db", scheduler="tcp://127.0.0.1:9", timeout=0.5)
    assert not (tmp_path / "results.db").exists()


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.slow
def test_ctrl_c_keeps_finished_runs_and_a_rerun_completes_them(tiny, tmp_path, stored, workers):
    spec = tiny(seeds=2, **{"model.init": ["zeros", "he_normal", "xavier_normal"]})
    reference = tmp_path / "reference.db"
    run_sweep(spec, reference, workers=1)
    path = tmp_path / "results.db"
    calls = []

    def press_ctrl_c_after_three_runs(done, total):
        calls.append(done)
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as stop:
        run_sweep(spec, path, workers=workers, on_progress=press_ctrl_c_after_three_runs)
    assert calls == [0, 1, 2, 3]
    assert (stop.value.report.done, stop.value.report.total) == (3, 6)
    assert isinstance(stop.value, KeyboardInterrupt)
    assert status(path)["done"] == 3 and status(path)["pending"] == 3
    again = run_sweep(spec, path, workers=workers)
    assert (again.skipped, again.ran) == (3, 3)
    assert stored(path) == stored(reference)
