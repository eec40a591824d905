"""Where the tasks of a sweep run: in this process, on a local process pool, or on a Dask cluster.

The unit of work is one grid point with a list of its seeds: `run_point(settings, seeds)`, a
top-level function that returns plain dicts, so it pickles for a process pool and for Dask. A run's
numbers depend only on its config and seed, so the backend and the number of workers do not change them.

Each backend's `results(next_task)` asks `next_task()` for a task whenever it has a free slot (the
runner claims the task in the store at that moment) and yields `(task, runs)` as tasks finish, until
`next_task()` returns None and nothing is left in flight.

The workers of a local pool watch the sweep process and exit when it is gone, even when it was
killed with SIGKILL and could not stop them: with them go the forkserver and the resource tracker
(both end when the last process holding their pipes ends).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

from initlab._checks import integer, number
from initlab._errors import ArgumentError
from initlab.experiments.compare import run_compare
from initlab.experiments.sweep.spec import config_from_settings

SCHEDULER_TIMEOUT = 5.0  # seconds to reach a Dask scheduler before giving up
# A Dask address: [protocol://]host:port, the host a name, an IPv4 address or a bracketed IPv6 address;
# or the in-process address of a LocalCluster(processes=False).
ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$")
INPROC = re.compile(r"^inproc://\S+$")


def run_point(settings: dict, seeds: list[int]) -> list[dict]:
    """Train one grid point (one scheme) from each of `seeds`; `Run.to_json()` dicts, in seed order."""
    result = run_compare(config_from_settings(settings, len(seeds)), seeds=seeds)
    return [run.to_json() for run in result.runs]


@dataclass(frozen=True)
class Task:
    point: int
    settings: dict
    seeds: list[int]


NextTask = Callable[[], "Task | None"]


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Sequential:
    """Every task in this process, one after the other (`--workers 1`): one worker, one thread,
    like each worker of a pool, so `--workers N` means N cores."""

    def results(self, next_task: NextTask) -> Iterator[tuple[Task, list[dict]]]:
        import numba
        from threadpoolctl import threadpool_limits
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            with threadpool_limits(1):
                while (task := next_task()) is not None:
                    yield task, run_point(task.settings, task.seeds)
        finally:
            numba.set_num_threads(threads)

    def close(self, abort: bool = False) -> None:
        pass


def _exit_when_gone(pid: int) -> None:
    """Block until process `pid` has ended, then end this one at once (a worker's task is not worth keeping)."""
    try:
        handle = os.pidfd_open(pid)  # Linux >= 5.3: readable when the process ends
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # other systems: poll
        while os.getppid() != 1:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.5)
        os._exit(1)
    select.select([handle], [], [])
    os._exit(1)


def _init_worker(sweep_pid: int) -> None:
    # Exit with the sweep process: a forkserver worker's parent is the forkserver, not the sweep.
    threading.Thread(target=_exit_when_gone, args=(sweep_pid,), name="initlab-parent-watch", daemon=True).start()
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
    """A pool of worker processes (forkserver: safe with the progress bar's thread), one task per worker
    in flight, so that tasks are claimed only when a worker is free to start them."""

    def __init__(self, workers: int):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self.workers = workers
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                        initargs=(os.getpid(),))

    def results(self, next_task: NextTask) -> Iterator[tuple[Task, list[dict]]]:
        running: dict = {}
        more = True
        while True:
            while more and len(running) < self.workers:
                task = next_task()
                if task is None:
                    more = False
                    break
                running[self.pool.submit(run_point, task.settings, task.seeds)] = task
            if not running:
                return
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield running.pop(future), future.result()

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


def _client(address: str, timeout: float):
    """A Dask client, or a ValueError; a client that failed to connect is marked closed, so that Python
    does not try to close it again at exit (a traceback after the error line)."""
    from distributed import Client

    class OneShotClient(Client):
        def __init__(self, *args, **kwargs):
            try:
                super().__init__(*args, **kwargs)
            except BaseException:
                self.status = "closed"
                raise

    try:
        return OneShotClient(address, timeout=timeout, set_as_default=False)
    except Exception as error:  # noqa: BLE001 - OSError, TimeoutError, TypeError for tls without a context...
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ArgumentError("scheduler", f"cannot reach '{address}' within {timeout:g} s ({reason})") from None


class DaskCluster:
    """The tasks as futures on a Dask distributed scheduler (`--scheduler tcp://host:port`), two per
    worker thread in flight."""

    def __init__(self, address: str, timeout: float):
        self.client = _client(address, timeout)
        self.address = address
        self.futures: list = []

    def waiting_note(self) -> str | None:
        """What to tell the user when the scheduler has no worker: tasks would wait without a sign."""
        if self.client.scheduler_info().get("workers"):
            return None
        return (f"the scheduler at {self.address} has no workers yet; runs start when one joins "
                f"(e.g. dask worker {self.address})")

    def _slots(self) -> int:
        workers = self.client.scheduler_info().get("workers", {})
        return max(2, 2 * sum(worker.get("nthreads", 1) for worker in workers.values()))

    def results(self, next_task: NextTask) -> Iterator[tuple[Task, list[dict]]]:
        from distributed import as_completed as completed
        running: dict = {}
        finished = completed([], loop=self.client.loop)
        more = True

        def fill() -> None:
            nonlocal more
            slots = self._slots()
            while more and len(running) < slots:
                task = next_task()
                if task is None:
                    more = False
                    return
                future = self.client.submit(run_point, task.settings, task.seeds, pure=False)
                running[future] = task
                finished.add(future)
            self.futures = list(running)

        fill()
        for future in finished:  # as_completed takes the futures added while it is iterated
            task = running.pop(future)
            yield task, future.result()
            fill()

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
    if scheduler is not None:
        match = ADDRESS.match(scheduler) if isinstance(scheduler, str) else None
        inproc = isinstance(scheduler, str) and INPROC.match(scheduler)
        if not inproc and (match is None or not 0 < int(match.group(1)) < 65536):
            raise ArgumentError("scheduler", f"expected an address like tcp://host:8786 (protocol tcp, tls, ws, wss or "
                             f"ucx; port 1 to 65535), got {scheduler!r}")
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
