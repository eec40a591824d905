"""Processes of a sweep: a SIGKILLed `sweep run` leaves no process behind (workers, forkserver,
resource tracker), and runners sharing a store share the work without computing any run twice."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from initlab.experiments.sweep import load_sweep, run_sweep, status
from initlab.experiments.sweep.claims import STALE_AFTER
from _initlab_sweep_child import SLOW_SWEEP, stored_runs

SWEEP = SLOW_SWEEP.format(iterations=3000)


def _descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, start time) of every process below `pid` (psutil when installed, else /proc)."""
    try:
        import psutil
        return [(p.pid, int(p.create_time() * 100)) for p in psutil.Process(pid).children(recursive=True)]
    except ImportError:
        pass
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = (int(fields[1]), int(fields[19]))
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, start) in parents.items():
            if ppid == parent:
                found.append((child, start))
                frontier.append(child)
    return found


def _running(process: tuple[int, int]) -> bool:
    """The same process (pid and start time) still exists and is not a zombie."""
    pid, start = process
    try:
        import psutil
        try:
            p = psutil.Process(pid)
            return int(p.create_time() * 100) == start and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    except ImportError:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return False
        return int(fields[19]) == start and fields[0] != "Z"


@pytest.mark.slow  # a real `sweep run` child process
def test_sigkilled_sweep_run_leaves_no_worker_forkserver_or_tracker_behind(tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP)
    path = tmp_path / "results.db"
    child = subprocess.Popen([sys.executable, "-m", "initlab.cli", "sweep", "run", str(sweep), "--store", str(path),
                              "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    processes = []
    try:
        deadline = time.monotonic() + 120
        while not 0 < stored_runs(path) < 24 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        processes = _descendants(child.pid)
        assert child.poll() is None, f"the sweep ended before it could be killed: {child.stderr.read()}"
        # 2 workers, the forkserver that forks them, the resource tracker
        assert len(processes) >= 4, processes
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        deadline = time.monotonic() + 10
        while any(map(_running, processes)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in processes if _running(p)] == []
    finally:
        for pid, _ in processes:  # only if the test failed: do not leave them running
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        child.stderr.close()


RUNNER = """
import json, os, sys
from initlab.experiments.sweep import backends, run_sweep
real = backends.run_point
def logged(settings, seeds):
    with open(sys.argv[3], "a") as log:  # one line per computed run, appended (O_APPEND)
        for seed in seeds:
            log.write(json.dumps([os.getpid(), settings["inits"][0], settings["hidden"], seed]) + "\\n")
    return real(settings, seeds)
backends.run_point = logged
report = run_sweep(sys.argv[1], sys.argv[2], workers=1)
print(json.dumps(report.to_json()))
"""


@pytest.mark.slow  # a real `sweep run` child process
def test_two_runners_on_one_store_share_the_work_and_compute_each_run_once(tmp_path, stored):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP)
    path, log = tmp_path / "results.db", tmp_path / "computed.log"
    command = [sys.executable, "-c", RUNNER, str(sweep), str(path), str(log)]
    runners = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [runner.communicate(timeout=600) for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0], [err for _, err in outputs]
    reports = [json.loads(out) for out, _ in outputs]
    computed = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(computed) == 24  # every run computed once, none twice
    assert len({tuple(map(str, run[1:])) for run in computed}) == 24
    by_runner = {pid: sum(run[0] == pid for run in computed) for pid in (r.pid for r in runners)}
    assert all(count > 0 for count in by_runner.values()), by_runner  # both did part of the work
    assert sorted(r["ran"] for r in reports) == sorted(by_runner.values())
    assert all(r["done"] == r["total"] == 24 and r["pending"] == 0 for r in reports)
    assert status(path)["done"] == 24
    reference = tmp_path / "reference.db"
    run_sweep(sweep, reference, workers=2)
    assert stored(path) == stored(reference)
    connection = sqlite3.connect(path)
    assert connection.execute("SELECT count(*) FROM claims").fetchone()[0] == 0  # every claim dropped
    connection.close()


def _claim(path, key, pid, heartbeat):
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                       (key, f"{os.uname().nodename}:{pid}:x", os.uname().nodename, pid, heartbeat))
    connection.commit()
    connection.close()


@pytest.mark.parametrize("owner", ["dead process", "silent process"])
def test_claims_of_a_dead_or_silent_runner_are_taken_over(tmp_path, tiny, stored, owner):
    import socket
    spec = tiny()
    reference = tmp_path / "reference.db"
    run_sweep(spec, reference, workers=1)
    path = tmp_path / "results.db"
    run_sweep(tiny(seeds=1), path, workers=1)  # seed 0 of each point stored; the store exists
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid, heartbeat = ((int(finished.stdout), time.time()) if owner == "dead process"
                      else (os.getppid(), time.time() - STALE_AFTER - 1))
    assert socket.gethostname() == os.uname().nodename
    for point in load_sweep(spec).points:
        _claim(path, point.key(1), pid, heartbeat)
    report = run_sweep(spec, path, workers=1)
    assert (report.skipped, report.ran) == (2, 2)
    assert stored(path) == stored(reference)


def test_runs_claimed_by_a_live_runner_are_waited_for_with_a_note(tmp_path, tiny, stored):
    spec = tiny()
    path = tmp_path / "results.db"
    run_sweep(tiny(seeds=1), path, workers=1)
    key = load_sweep(spec).points[0].key(1)
    _claim(path, key, os.getpid(), time.time() + 3600)  # a live owner that keeps its claim fresh
    notes = []

    def note(text):  # the other runner finishes the run now: store it as it would
        notes.append(text)
        reference = tmp_path / "reference.db"
        run_sweep(spec, reference, workers=1)
        connection = sqlite3.connect(path)
        connection.execute("ATTACH ? AS ref", (str(reference),))
        connection.execute("INSERT INTO runs SELECT * FROM ref.runs WHERE key = ?", (key,))
        connection.execute("DELETE FROM claims WHERE key = ?", (key,))
        connection.commit()
        connection.close()

    report = run_sweep(spec, path, workers=1, on_note=note)
    assert notes == [f"1 run is being computed by another runner on {path}; waiting for them (the runs of a "
                     "runner that stops are taken over)"]
    assert (report.skipped, report.ran, report.by_others, report.done) == (2, 1, 1, 4)
    assert stored(path) == stored(tmp_path / "reference.db")
