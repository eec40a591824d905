"""`LiveSession`: one `Session` trained in the background while a page watches, and `Sessions`, all of them.

A `Session` is not thread-safe, so every access goes through the live session's lock. Playing runs
in a worker thread (`anyio.to_thread`) in chunks of iterations sized so that one chunk takes about
`CHUNK_SECONDS` (the size adapts to the measured time), and the lock is released between chunks
and handed to any call waiting for it: a pause, a step or a setting change waits for one chunk at
most. A view update (a state sent to the listeners) follows every `settings.speed` iterations, or
sooner when those take longer than `PROGRESS_SECONDS` (a slow network at a high speed still shows its
progress), at most `MAX_UPDATES_PER_SECOND` times a second. A diverged or finished network simply stops; playing
goes on until paused. A step (`start_step`) is a background task of chunks, stopped like playing.

Sessions that no WebSocket watches are deleted `IDLE_SECONDS` after their last request, playing or not.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable

import anyio

from initlab._checks import integer
from initlab._errors import ArgumentError
from initlab.playground.session import MAX_STEP, Session
from initlab.playground.settings import Settings

CHUNK_SECONDS = 0.02  # one chunk of training holds the session this long at most (about; at least 1 iteration)
MAX_UPDATES_PER_SECOND = 30  # view updates while playing; more would only load the browser
IDLE_SECONDS = 600  # a session without a WebSocket is deleted 10 minutes after its last request
MAX_SESSIONS = 16  # open sessions at once (each may train): more are refused
PROGRESS_SECONDS = 0.2  # a step under way, or a view update while playing, sends a state at least this often


class LiveSession:
    """A `Session` with a lock, a play loop and listeners (callables receiving each message dict)."""

    def __init__(self, settings: Settings):
        self.id = uuid.uuid4().hex[:12]
        self.session = Session(settings)
        self.lock = threading.Lock()
        self._count, self._waiting = threading.Lock(), 0  # calls waiting for `lock` (`run`)
        self.playing = False
        self.listeners: set[Callable[[dict], None]] = set()
        self.last_used = time.monotonic()  # the last request (`Sessions.get`); training does not count
        self._task: asyncio.Task | None = None  # the play loop
        self._steps: set[asyncio.Task] = set()  # steps started and not finished
        self._stepping = asyncio.Lock()  # one step at a time, in order
        self._chunk = 1  # iterations per chunk, adapted to CHUNK_SECONDS
        self._generation = 0  # bumped by every change a running view update must not mix with
        self._version = 0  # bumped by every change of settings or reset: with the iteration, it names a state
        self._last: tuple[tuple, dict] | None = None  # the last state computed, by its name

    # --- calls that run the session in a worker thread, under the lock ---

    async def run(self, function: Callable[[Session], object]):
        """`function(session)` in a worker thread, holding the lock. Cancelling the caller (a step whose
        client left) takes effect when `function` has returned, so nothing runs on after the cancel.

        The call counts as waiting from now until it has the lock: a threading lock is not fair, and the
        play loop, which takes it again right after each chunk, would otherwise keep a change or a pause
        waiting for many chunks (`_yield_to_waiters`; counted here, not in the thread, because the
        thread itself may take a few chunks to start while the kernel holds the GIL)."""
        waiting = [True]

        def stop_waiting():
            with self._count:
                if waiting[0]:
                    waiting[0] = False
                    self._waiting -= 1

        def locked():
            one_kernel_thread()
            try:
                self.lock.acquire()
            finally:
                stop_waiting()
            try:
                return function(self.session)
            finally:
                self.lock.release()

        with self._count:
            self._waiting += 1
        try:
            running = asyncio.ensure_future(anyio.to_thread.run_sync(locked))
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:  # a thread cannot be stopped: a cancelled caller ends after it
                await asyncio.gather(running, return_exceptions=True)
                raise
        finally:
            stop_waiting()  # also when the thread never ran

    def _yield_to_waiters(self) -> None:
        """Between the play loop's chunks: wait until every call waiting for the lock has it."""
        while self._waiting:
            time.sleep(0.0005)

    async def state(self) -> dict:
        return await self.run(lambda s: self._state(s))

    async def points(self) -> dict:
        return await self.run(lambda s: s.points())

    async def update(self, changes: dict) -> dict:
        """Apply `changes` (refused: `ArgumentError`, nothing changed); listeners get the new points
        after a rebuild, then the state."""
        def apply(session: Session):
            rebuilt = session.update(**changes)
            self._generation += 1
            self._version += 1
            return rebuilt, session.points() if rebuilt else None, self._state(session)
        rebuilt, points, state = await self.run(apply)
        if rebuilt:
            self.publish({"type": "points", **points})
        self.publish({"type": "state", **state})
        return state

    def start_step(self, iterations: int) -> asyncio.Task:
        """Start `iterations` more iterations (while paused or playing) as a background task and return it
        at once: the caller (a WebSocket's receive loop) goes on reading, so a pause, a reset or a setting
        change sent meanwhile stops the step after the chunk under way. Steps run one after the other, in
        the order they were started; the task's result is the state after the step."""
        iterations = integer("iterations", iterations, maximum=MAX_STEP)  # refused before anything runs
        task = asyncio.create_task(self._step(iterations, self._generation))
        self._steps.add(task)
        task.add_done_callback(self._step_done)
        return task

    def _step_done(self, task: asyncio.Task) -> None:
        self._steps.discard(task)
        if not task.cancelled() and task.exception() is not None:  # a bug: said to the page, not lost in a log
            error = task.exception()
            self.publish({"type": "error", "argument": "server",
                          "error": f"server: internal error, please report it: {type(error).__name__}: {error}"})

    async def _step(self, iterations: int, generation: int) -> dict:
        """The step's chunks, a state to the listeners every `PROGRESS_SECONDS` while it runs and one at
        the end (also when a pause, reset or change stopped it: the state says how far it got)."""
        async with self._stepping:
            done, shown = 0, time.monotonic()
            while done < iterations and self._generation == generation:
                done += await self.run(lambda s: self._timed_chunk(s, iterations - done))
                if self.listeners and done < iterations and time.monotonic() - shown > PROGRESS_SECONDS:
                    state = await self.state()
                    if self._generation == generation:
                        self.publish({"type": "state", **state})
                    shown = time.monotonic()
            state = await self.state()
        self.publish({"type": "state", **state})
        return state

    async def reset(self) -> dict:
        def apply(session: Session):
            session.reset()
            self._generation += 1
            self._version += 1
            return session.points(), self._state(session)
        points, state = await self.run(apply)
        self.publish({"type": "points", **points})
        self.publish({"type": "state", **state})
        return state

    # --- playing ---

    async def play(self) -> dict:
        """Start playing; the state answered is that of the moment play starts (computed before the play
        loop runs, so it never repeats the loop's first view update)."""
        starting = not self.playing
        self.playing = True
        state = await self.state()
        if starting and self.playing and self._task is None:
            self._task = asyncio.create_task(self._play())
        self.publish({"type": "state", **state})
        return state

    def stop(self) -> None:
        """Stop playing and every step after the chunk under way, without waiting (the server stopping)."""
        self.playing = False
        self._generation += 1  # steps under way and queued stop after their chunk

    async def pause(self) -> dict:
        """Stop playing (and a step under way); returns once the chunk under way (if any) has finished."""
        self.stop()
        task, self._task = self._task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        state = await self.state()
        self.publish({"type": "state", **state})
        return state

    async def close(self) -> None:
        """Stop playing and every step (each ends after its chunk under way; a REST step still answers
        its state) and drop the listeners."""
        self.listeners.clear()
        await self.pause()
        await asyncio.gather(*self._steps, return_exceptions=True)

    async def _play(self) -> None:
        """View updates until paused: `speed` iterations in chunks, then the state to the listeners."""
        while self.playing:
            started = time.monotonic()
            generation, state = await anyio.to_thread.run_sync(self._one_update)
            if state is not None and self.playing and generation == self._generation:  # not from before a change
                self.publish({"type": "state", **state})
            rest = 1 / MAX_UPDATES_PER_SECOND - (time.monotonic() - started)
            if rest > 0:
                await asyncio.sleep(rest)

    def _one_update(self) -> tuple[int, dict | None]:
        """`settings.speed` iterations (fewer if they take over PROGRESS_SECONDS), chunk by chunk (the lock
        released between chunks), then the generation and state; the state is None when paused or changed
        in the meantime."""
        one_kernel_thread()
        with self.lock:
            generation, target = self._generation, self.session.settings.speed
        done, started = 0, time.monotonic()
        while done < target and (done == 0 or time.monotonic() - started < PROGRESS_SECONDS):
            self._yield_to_waiters()
            with self.lock:
                if not self.playing or self._generation != generation:
                    return generation, None
                done += self._timed_chunk(self.session, target - done)
        self._yield_to_waiters()  # a change waiting now would make this view update's state useless
        with self.lock:
            return generation, self._state(self.session) if self._generation == generation else None

    def _timed_chunk(self, session: Session, remaining: int) -> int:
        """One chunk of at most `remaining` iterations; the next chunk's size aims at CHUNK_SECONDS."""
        n = min(self._chunk, remaining)
        started = time.perf_counter()
        session.step(n)
        took = time.perf_counter() - started
        if n == self._chunk:  # a full chunk measures the speed: grow at most 2x, shrink as needed
            per_iteration = max(took / n, 1e-7)
            self._chunk = max(1, min(2 * n, int(CHUNK_SECONDS / per_iteration)))
        return n

    def _state(self, session: Session) -> dict:
        """The session's state; the last one again if nothing changed since (a pause right after a view
        update answers at once: a state of a large network takes as long as a few iterations)."""
        name = (self._version, session.iteration)
        if self._last is None or self._last[0] != name:
            self._last = name, session.state()
        return {**self._last[1], "playing": self.playing}

    def publish(self, message: dict) -> None:
        for listener in list(self.listeners):
            listener(message)


def warm_up() -> None:
    """Load what the first session needs (the compiled kernel from Numba's cache, diagnose's modules) by
    training a tiny one: `initlab playground` does this before it prints its address, so the page's
    first session answers at once instead of 2-3 s later."""
    one_kernel_thread()
    session = Session(Settings(n_samples=20, hidden=(2,), n_seeds=1))
    session.step(1)
    session.state()


def one_kernel_thread() -> None:
    """Run the training kernel on this (worker) thread alone. Its parallel loop runs over networks, and
    waking a second thread costs more than a small network's iteration: on the 2 shared cores of this
    project, 5 ms instead of 0.06 ms per iteration of the benchmark setting, and no faster at the work
    limit (benchmarks/playground_speed.py). Numba's thread count is per thread, so nothing else changes."""
    import numba
    numba.set_num_threads(1)


class Sessions:
    """Every live session by id, with the idle clean-up."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, idle_seconds: float = IDLE_SECONDS):
        self.by_id: dict[str, LiveSession] = {}
        self.max_sessions, self.idle_seconds = max_sessions, idle_seconds

    async def create(self, settings: Settings) -> LiveSession:
        if len(self.by_id) >= self.max_sessions:
            raise TooMany("sessions", f"expected at most {self.max_sessions} open sessions; close a tab or "
                                      f"DELETE one, got {len(self.by_id) + 1}")
        live = await anyio.to_thread.run_sync(LiveSession, settings)  # builds networks: off the event loop
        self.by_id[live.id] = live
        return live

    def get(self, session_id: str) -> LiveSession:
        live = self.by_id.get(session_id)
        if live is None:
            raise Missing("id", f"no session '{session_id}' (deleted, closed or never created)")
        live.last_used = time.monotonic()
        return live

    async def delete(self, session_id: str) -> None:
        live = self.by_id.pop(session_id, None)
        if live is not None:
            await live.close()

    async def delete_idle(self) -> None:
        now = time.monotonic()
        for session_id, live in list(self.by_id.items()):
            if not live.listeners and now - live.last_used > self.idle_seconds:
                await self.delete(session_id)

    def stop(self) -> None:
        """Stop every session's training at once (a signal to stop the server: REST steps then answer and
        the server can stop without waiting for them)."""
        for live in self.by_id.values():
            live.stop()

    async def close(self) -> None:
        for session_id in list(self.by_id):
            await self.delete(session_id)


class Missing(ArgumentError):
    """An unknown session id (HTTP 404)."""


class TooMany(ArgumentError):
    """Too many open sessions (HTTP 429)."""
