"""Run a sweep: claim the runs the store lacks, compute them on a backend, store each as it finishes.

Runs are claimed in the store just before they start (see `initlab.experiments.sweep.claims`), so
several `run_sweep` calls on one store, in one process or many, share the work and never compute
a run twice; a call returns when every run of the sweep is stored, waiting for the runs other
runners are computing (and taking over those of a runner that died). Each finished run is stored
in its own transaction, whatever the backend (see `initlab.experiments.sweep.backends`).

Ctrl-C stops the workers; what finished is stored, and `SweepInterrupted` (a KeyboardInterrupt)
says how many runs are stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from initlab.experiments.compare import check_targets, load_dataset
from initlab.experiments.sweep.backends import (SCHEDULER_TIMEOUT, Sequential, Task, backend, check_backend,
                                                default_workers, run_point)
from initlab.experiments.sweep.claims import Heartbeat, Owner
from initlab.experiments.sweep.spec import Sweep, load_sweep, named_error
from initlab.experiments.sweep.store import Store, inspect_store
from initlab.experiments.sweep.storefile import store_path

__all__ = ["SCHEDULER_TIMEOUT", "SweepInterrupted", "SweepReport", "Task", "default_workers", "run_point",
           "run_sweep", "status"]

WAIT = 1.0  # seconds between looks at the store while other runners finish the last runs
DATA_FIELDS = ("data", "test_data", "n_samples", "noise", "image_size", "test_fraction", "standardize",
               "data_seed")


@dataclass(frozen=True)
class SweepReport:
    """What a `run_sweep` call did: runs in the sweep, already stored before it, run by it, and stored
    meanwhile by other runners on the same store."""

    store: Path
    total: int
    skipped: int
    ran: int
    by_others: int = 0

    @property
    def done(self) -> int:
        return self.skipped + self.ran + self.by_others

    def to_json(self) -> dict:
        return {"store": str(self.store), "total": self.total, "skipped": self.skipped, "ran": self.ran,
                "by_others": self.by_others, "done": self.done, "pending": self.total - self.done}


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the finished runs are stored; `report` counts them."""

    def __init__(self, report: SweepReport):
        super().__init__(f"interrupted: {report.done} of {report.total} runs stored in {report.store}")
        self.report = report


def check_data(sweep: Sweep) -> None:
    """Load each distinct dataset once and check its labels against every point's output layer,
    so bad data fails before the store is touched."""
    loaded = {}
    for point in sweep.points:
        data_key = tuple(repr(getattr(point.config, name)) for name in DATA_FIELDS)
        try:
            if data_key not in loaded:
                loaded[data_key] = load_dataset(point.config)
            check_targets(point.config, loaded[data_key])
        except ValueError as error:
            raise named_error(error, sweep.path) from None


def _work(config, n_seeds: int) -> int:
    """A rough cost of a task: multiply-adds of the hidden layers x iterations x seeds."""
    widths = (1, *config.hidden, 1)
    return n_seeds * config.iterations * sum(a * b for a, b in zip(widths, widths[1:]))


class _Claimer:
    """The runs of a sweep in one store: which are stored (by anyone), and the next task to claim."""

    def __init__(self, db: Store, sweep: Sweep, owner: Owner):
        self.db, self.sweep, self.owner = db, sweep, owner
        self.keys = {point.index: [point.key(seed) for seed in range(sweep.seeds)] for point in sweep.points}
        self.all_keys = {key for keys in self.keys.values() for key in keys}
        self.stored: set[str] = set()
        self.rowid = 0
        self.refresh()

    def refresh(self) -> int:
        """Take in the runs stored since the last look (by this runner or another); how many are stored."""
        keys, self.rowid = self.db.stored_since(self.rowid)
        self.stored.update(key for key in keys if key in self.all_keys)
        return len(self.stored)

    def next_task_function(self) -> Callable[[], Task | None]:
        """next_task() for one pass over the grid: claims the unstored, unclaimed runs of the next point
        (largest work first, so that no worker is left with a long task at the end)."""
        self.refresh()
        points = [p for p in self.sweep.points if any(key not in self.stored for key in self.keys[p.index])]
        points.sort(key=lambda p: -_work(p.config, sum(key not in self.stored for key in self.keys[p.index])))
        queue = iter(points)

        def next_task() -> Task | None:
            for point in queue:
                wanted = [key for key in self.keys[point.index] if key not in self.stored]
                claimed = set(self.db.claim(self.owner, wanted))
                if claimed:
                    seeds = [seed for seed, key in enumerate(self.keys[point.index]) if key in claimed]
                    return Task(point.index, point.settings, seeds)
            return None
        return next_task


def run_sweep(source, store: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              timeout: float = SCHEDULER_TIMEOUT,
              on_progress: Callable[[int, int], None] | None = None,
              on_note: Callable[[str], None] | None = None) -> SweepReport:
    """Run every run of the sweep that `store` does not hold yet; returns a `SweepReport`.

    Checks come first and leave the store as it was: the sweep, the store file (never writes to
    a file that is not an initlab store, nor to a damaged one; refuses a read-only store or folder),
    the data, the workers or the scheduler (fail fast after `timeout` seconds). `on_progress(done,
    total)` is called at the start and whenever more runs are stored (by this call or another
    runner); `on_note(text)` with anything the user should know while waiting (a Dask scheduler
    without workers, runs left to another runner). Ctrl-C (KeyboardInterrupt) stops the workers and raises `SweepInterrupted`.
    """
    sweep = load_sweep(source)
    store = store_path(store)
    check_backend(workers, scheduler, timeout)
    state = inspect_store(store, write=True)
    check_data(sweep)
    done_keys = set()
    if state == "initlab":
        with Store(store) as db:
            done_keys = db.done_keys()
    n_tasks = sum(any(p.key(seed) not in done_keys for seed in range(sweep.seeds)) for p in sweep.points)
    total, skipped, ran, aborted, waiting = sweep.n_runs, 0, 0, True, False
    runner = backend(workers, scheduler, n_tasks, timeout) if n_tasks else Sequential()  # Dask fails fast here
    owner = Owner()
    try:
        with Store(store, create=True) as db, Heartbeat(store, owner):
            try:
                db.add_plan(run | {"config": sweep.points[run["point"]].settings} for run in sweep.runs())
                claimer = _Claimer(db, sweep, owner)
                skipped = done = len(claimer.stored)
                if on_progress is not None:
                    on_progress(done, total)
                note = getattr(runner, "waiting_note", lambda: None)()
                if note and on_note is not None:
                    on_note(note)
                while done < total:
                    for task, runs in runner.results(claimer.next_task_function()):
                        point = sweep.points[task.point]
                        for run in runs:
                            ran += db.add(point.key(run["seed"]), point.config_hash, point.settings, run, owner)
                            done = _progress(claimer, done, total, on_progress)
                    if done < total:  # the rest is claimed by other runners: wait for them, or for a claim to go stale
                        if on_note is not None and not waiting:
                            left = f"{total - done} runs are" if total - done > 1 else "1 run is"
                            on_note(f"{left} being computed by another runner on {store}; waiting for them "
                                    "(the runs of a runner that stops are taken over)")
                        waiting = True
                        time.sleep(WAIT)
                        done = _progress(claimer, done, total, on_progress)
            finally:
                db.release(owner)
        aborted = False
    except KeyboardInterrupt:
        raise SweepInterrupted(SweepReport(store, total, skipped, ran, _others(store, sweep, skipped, ran))) from None
    finally:
        runner.close(abort=aborted)
    return SweepReport(store, total, skipped, ran, total - skipped - ran)


def _progress(claimer: _Claimer, done: int, total: int, on_progress) -> int:
    now = claimer.refresh()
    if now != done and on_progress is not None:
        on_progress(now, total)
    return now


def _others(store: Path, sweep: Sweep, skipped: int, ran: int) -> int:
    """Runs of the sweep stored by other runners during an interrupted call."""
    try:
        with Store(store) as db:
            return max(0, db.counts(run["key"] for run in sweep.runs())["done"] - skipped - ran)
    except ValueError:
        return 0


def status(store: str | Path, source=None) -> dict:
    """done / pending / total / diverged runs in `store`: of the sweep `source` when given, else of
    every run planned or stored there."""
    keys = None if source is None else [run["key"] for run in load_sweep(source).runs()]
    with Store(store) as db:
        return {"store": str(store), **db.counts(keys)}
