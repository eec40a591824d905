"""Run a sweep: the missing runs of each grid point, on a local process pool, in this process, or on Dask.

The unit of work is one grid point with the list of its missing seeds: `run_point(settings, seeds)`,
a top-level function that returns plain dicts, so it pickles for a process pool and for Dask.
The parent writes every returned run to the store in its own transaction. A run's numbers
depend only on its config and seed, so the backend and the number of workers do not change them.

Ctrl-C stops the workers; what finished is stored, and `SweepInterrupted` (a KeyboardInterrupt)
says how many runs are stored.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from initlab._errors import ArgumentError
from initlab._checks import integer, number
from initlab.experiments.compare import check_targets, load_dataset, run_compare
from initlab.experiments.sweep.spec import Sweep, config_from_settings, load_sweep, named_error
from initlab.experiments.sweep.store import Store, inspect_store

SCHEDULER_TIMEOUT = 5.0  # seconds to reach a Dask scheduler before giving up
DATA_FIELDS = ("data", "test_data", "n_samples", "noise", "image_size", "test_fraction", "standardize",
               "data_seed")


def run_point(settings: dict, seeds: list[int]) -> list[dict]:
    """Train one grid point (one scheme) from each of `seeds`; `Run.to_json()` dicts, in seed order."""
    result = run_compare(config_from_settings(settings, len(seeds)), seeds=seeds)
    return [run.to_json() for run in result.runs]


@dataclass(frozen=True)
class Task:
    point: int
    settings: dict
    seeds: list[int]


@dataclass(frozen=True)
class SweepReport:
    """What a `run_sweep` call did: runs in the sweep, already stored before it, run by it."""

    store: Path
    total: int
    skipped: int
    ran: int

    @property
    def done(self) -> int:
        return self.skipped + self.ran

    def to_json(self) -> dict:
        return {"store": str(self.store), "total": self.total, "skipped": self.skipped, "ran": self.ran,
                "done": self.done, "pending": self.total - self.done}


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the finished runs are stored; `report` counts them."""

    def __init__(self, report: SweepReport):
        super().__init__(f"interrupted: {report.done} of {report.total} runs stored in {report.store}")
        self.report = report


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ----- backends: each yields (task, runs) as tasks finish, and can be closed or aborted -----

class Sequential:
    """Every task in this process, one after the other (`--workers 1`): one worker, one thread,
    like each worker of a pool, so `--workers N` means N cores."""

    def results(self, tasks: list[Task]) -> Iterator[tuple[Task, list[dict]]]:
        import numba
        from threadpoolctl import threadpool_limits
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            with threadpool_limits(1):
                for task in tasks:
                    yield task, run_point(task.settings, task.seeds)
        finally:
            numba.set_num_threads(threads)

    def close(self, abort: bool = False) -> None:
        pass


def _init_worker() -> None:
    # The parent handles Ctrl-C and stops the workers. The pool has one process per core, so each
    # runs one thread (BLAS and the Numba ensemble kernel); a run's numbers do not depend on it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker starts no processes. With a fork-like default start method Numba guards its thread
    # start-up with a named semaphore, which a terminated worker (Ctrl-C) would leave behind.
    multiprocessing.set_start_method("spawn", force=True)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        pass
    try:
        import numba
        numba.set_num_threads(1)
    except ImportError:  # pragma: no cover - numba is a dependency
        pass


class LocalPool:
    """A pool of worker processes (forkserver: safe with the progress bar's thread)."""

    def __init__(self, workers: int):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
        self.futures: list = []

    def results(self, tasks: list[Task]) -> Iterator[tuple[Task, list[dict]]]:
        futures = {self.pool.submit(run_point, task.settings, task.seeds): task for task in tasks}
        self.futures = list(futures)
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self, abort: bool = False) -> None:
        if not abort:
            self.pool.shutdown(wait=True)
            return
        # Stop now: drop the tasks not started and end the workers. Python < 3.14 has no
        # terminate_workers(), hence the private attributes.
        manager, processes = self.pool._executor_manager_thread, list((self.pool._processes or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()
        if manager is not None:
            manager.join()  # it sees the workers gone and closes the queues


class DaskCluster:
    """The tasks as futures on a Dask distributed scheduler (`--scheduler tcp://host:port`)."""

    def __init__(self, address: str, timeout: float):
        from distributed import Client
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except Exception as error:  # noqa: BLE001 - OSError, TimeoutError, ValueError for a bad address...
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ArgumentError("scheduler", f"cannot reach '{address}' within {timeout:g} s ({reason})") from None
        self.address = address
        self.futures: list = []

    def waiting_note(self) -> str | None:
        """What to tell the user when the scheduler has no worker: tasks would wait without a sign."""
        if self.client.scheduler_info().get("workers"):
            return None
        return (f"the scheduler at {self.address} has no workers yet; runs start when one joins "
                f"(e.g. dask worker {self.address})")

    def results(self, tasks: list[Task]) -> Iterator[tuple[Task, list[dict]]]:
        from distributed import as_completed as completed
        futures = {self.client.submit(run_point, task.settings, task.seeds, pure=False): task for task in tasks}
        self.futures = list(futures)
        for future in completed(self.futures, loop=self.client.loop):
            yield futures[future], future.result()

    def close(self, abort: bool = False) -> None:
        if abort and self.futures:
            self.client.cancel(self.futures)
        self.client.close()


def check_backend(workers: int | None, scheduler: str | None, timeout: float = SCHEDULER_TIMEOUT) -> None:
    """Raise ValueError for a bad choice of workers / scheduler (before anything runs)."""
    if scheduler is not None and workers is not None:
        raise ArgumentError("workers", f"give --workers or --scheduler, not both (got {workers} and '{scheduler}')")
    if workers is not None:
        integer("workers", workers)
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ArgumentError("scheduler", f"expected an address like tcp://host:8786, got {scheduler!r}")
    number("timeout", timeout, positive=True)


def backend(workers: int | None = None, scheduler: str | None = None, n_tasks: int | None = None,
            timeout: float = SCHEDULER_TIMEOUT):
    """Dask when `scheduler` is given, else a local pool of `workers` (default: the core count)
    processes, or this process when one worker (or one task) is enough."""
    check_backend(workers, scheduler, timeout)
    if scheduler is not None:
        return DaskCluster(scheduler, timeout)
    workers = default_workers() if workers is None else workers
    workers = min(workers, n_tasks) if n_tasks is not None else workers
    return LocalPool(workers) if workers > 1 else Sequential()


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


def run_sweep(source, store: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              timeout: float = SCHEDULER_TIMEOUT,
              on_progress: Callable[[int, int], None] | None = None,
              on_note: Callable[[str], None] | None = None) -> SweepReport:
    """Run every run of the sweep that `store` does not hold yet; returns a `SweepReport`.

    Checks come first and leave the store as it was: the sweep, the store file (never writes to
    a file that is not an initlab store), the data, the workers or the scheduler (fail fast
    after `timeout` seconds). `on_progress(done, total)` is called at the start and after each
    stored run; `on_note(text)` with anything the user should know while waiting (a Dask scheduler
    without workers). Ctrl-C (KeyboardInterrupt) stops the workers and raises `SweepInterrupted`.
    """
    sweep = load_sweep(source)
    store = Path(store)
    check_backend(workers, scheduler, timeout)
    state = inspect_store(store)
    check_data(sweep)
    planned = sweep.runs()
    points = {p.index: p for p in sweep.points}
    done_keys = set()
    if state == "initlab":
        with Store(store) as db:
            done_keys = db.done_keys()
    missing: dict[int, list[int]] = {}  # point -> its seeds not stored yet
    for run in planned:
        if run["key"] not in done_keys:
            missing.setdefault(run["point"], []).append(run["seed"])
    tasks = [Task(index, points[index].settings, seeds) for index, seeds in missing.items()]
    # Largest first, so that no worker is left with a long task at the end (order changes no number).
    tasks.sort(key=lambda task: -_work(points[task.point].config, len(task.seeds)))
    skipped = len(planned) - sum(map(len, missing.values()))
    ran, aborted = 0, True
    runner = backend(workers, scheduler, len(tasks), timeout) if tasks else Sequential()  # Dask fails fast here
    try:
        with Store(store, create=True) as db:
            db.add_plan(run | {"config": points[run["point"]].settings} for run in planned)
            if on_progress is not None:
                on_progress(skipped, len(planned))
            note = getattr(runner, "waiting_note", lambda: None)()
            if note and on_note is not None:
                on_note(note)
            for task, runs in runner.results(tasks):
                point = points[task.point]
                for run in runs:
                    ran += db.add(point.key(run["seed"]), point.config_hash, point.settings, run)
                    if on_progress is not None:
                        on_progress(skipped + ran, len(planned))
        aborted = False
    except KeyboardInterrupt:
        raise SweepInterrupted(SweepReport(store, len(planned), skipped, ran)) from None
    finally:
        runner.close(abort=aborted)
    return SweepReport(store, len(planned), skipped, ran)


def status(store: str | Path, source=None) -> dict:
    """done / pending / total / diverged runs in `store`: of the sweep `source` when given, else of
    every run planned or stored there."""
    keys = None if source is None else [run["key"] for run in load_sweep(source).runs()]
    with Store(store) as db:
        return {"store": str(store), **db.counts(keys)}
