"""Inputs that used to hang or print a traceback: a plan of a billion runs is refused before the grid
is expanded, `--seeds 1000000000` before anything runs, and a garbage `--scheduler` address is one
line, exit 2, with no traceback even at interpreter exit."""

import subprocess
import sys

import pytest

from initlab.cli import main
from initlab.experiments.config import MAX_SEEDS
from initlab.experiments.sweep import MAX_RUNS, load_sweep, spec


def _toml(seeds, grid):
    lines = ['data = "circles"', "n_samples = 40", f"seeds = {seeds}", "[model]", 'hidden = "4"', "[grid]"]
    return "\n".join(lines + [f'"{key}" = {values}' for key, values in grid.items()]) + "\n"


def test_limits_are_what_the_docs_say():
    assert MAX_RUNS == 100_000 and MAX_SEEDS == 100_000


def test_a_billion_point_grid_is_refused_before_any_point_is_built(tmp_path, monkeypatch, capsys):
    built = []
    real = spec.make_config
    monkeypatch.setattr(spec, "make_config", lambda values: built.append(values) or real(values))
    axis = [f"normal(std={i})" for i in range(1, 1001)]
    grid = {"model.init": axis, "train.lr": [i / 1000 for i in range(1, 1001)],
            "train.iterations": list(range(1, 1001))}
    path = tmp_path / "huge.toml"
    path.write_text(_toml(1, grid))
    code = main(["sweep", "plan", str(path)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {path}: grid: a sweep holds at most 100000 runs, got 1000 model.init x 1000 train.lr x 1000 "
        "train.iterations x 1 seeds = 1000000000 runs; split it into several sweeps on one store\n")
    assert len(built) == 1  # only the fixed settings: not one grid point was expanded


def test_seeds_times_points_over_the_limit_is_refused_naming_seeds(tmp_path):
    with pytest.raises(ValueError, match=r"^seeds: a sweep holds at most 100000 runs, got 2 model.init x "
                                         r"60000 seeds = 120000 runs"):
        load_sweep({"seeds": 60000, "grid": {"model.init": ["zeros", "he_normal"]}})
    assert load_sweep({"seeds": 50000, "grid": {"model.init": ["zeros", "he_normal"]}}).n_runs == MAX_RUNS


@pytest.mark.parametrize("argv", [
    ["compare", "--seeds", "1000000000", "--iterations", "5"],
    ["sweep", "run", "SWEEP", "--store", "STORE"],
    ["sweep", "plan", "SWEEP"],
])
def test_a_billion_seeds_is_one_line_before_anything_runs(tmp_path, capsys, argv):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('data = "circles"\nseeds = 1000000000\n[model]\ninit = "zeros"\n')
    store = tmp_path / "results.db"
    names = {"SWEEP": str(sweep), "STORE": str(store)}
    code = main([names.get(a, a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert err.endswith("seeds: expected at most 100000 seeds per scheme, got 1000000000\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.toml"]


@pytest.mark.parametrize("address", ["garbage", "::::", "http://[::1", "tcp://host:99999", "tcp://host:0",
                                     "inproc:", "tcp://a b:1", ""])
def test_a_garbage_scheduler_address_is_one_line_naming_the_rule(tmp_path, capsys, address):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('data = "circles"\nseeds = 1\n[model]\ninit = "zeros"\n')
    code = main(["sweep", "run", str(sweep), "--store", str(tmp_path / "results.db"), "--scheduler", address])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: --scheduler: expected an address like tcp://host:8786 (protocol tcp, tls, ws, wss or ucx; port 1 "
        f"to 65535), got {address!r}\n")
    assert not (tmp_path / "results.db").exists()


@pytest.mark.slow  # a Python child process per address
@pytest.mark.parametrize("address", ["garbage", "tls://127.0.0.1:9", "tcp://127.0.0.1:9"])
def test_a_failed_scheduler_leaves_no_traceback_at_interpreter_exit(tmp_path, address):
    """Dask's Client, when it fails to connect, used to try to close itself again when Python exits
    (a TimeoutError traceback after the error line, seconds later): run the real entry point."""
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('data = "circles"\nseeds = 1\n[model]\ninit = "zeros"\n')
    code = ("import sys; from initlab.cli import main; "
            f"sys.exit(main(['sweep', 'run', {str(sweep)!r}, '--store', {str(tmp_path / 'r.db')!r}, "
            f"'--scheduler', {address!r}, '--timeout', '1']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: --scheduler: ")
    assert not (tmp_path / "r.db").exists()
