"""Claims: which runner is computing which run, so that runners sharing a store share the work.

A runner claims the runs of a task (in the store's `claims` table, in one transaction with the check
that they are neither stored nor claimed) just before it starts the task, and drops each claim in
the transaction that stores the run. A claim is stale, and taken over by the next runner that asks,
when its owner is a process of this machine that no longer exists (a runner killed with SIGKILL), or
when its owner has not refreshed it for STALE_AFTER seconds (a runner on another machine, or one
that stopped); a `Heartbeat` thread refreshes a live runner's claims every HEARTBEAT seconds.

    claims(key TEXT PRIMARY KEY, owner TEXT, host TEXT, pid INTEGER, heartbeat REAL /*unix time*/)
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field

HEARTBEAT = 5.0  # seconds between refreshes of a live runner's claims
STALE_AFTER = 60.0  # seconds without a refresh after which a claim is taken over
CLAIMS_TABLE = ("CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT NOT NULL, "
                "pid INTEGER NOT NULL, heartbeat REAL NOT NULL)")
BATCH = 500  # keys per SQL statement (SQLite limits the number of parameters)


@dataclass(frozen=True)
class Owner:
    """One runner: this process on this machine, with a token that a later process of the same pid lacks."""

    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def name(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"


def process_exists(pid: int) -> bool:
    """Whether process `pid` runs on this machine (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def drop_stale(connection: sqlite3.Connection, host: str, now: float) -> int:
    """Delete the claims of dead or silent owners (inside the caller's transaction); how many."""
    stale = [owner for owner, owner_host, pid, heartbeat in
             connection.execute("SELECT owner, host, pid, max(heartbeat) FROM claims GROUP BY owner")
             if now - heartbeat > STALE_AFTER or (owner_host == host and not process_exists(pid))]
    for owner in stale:
        connection.execute("DELETE FROM claims WHERE owner = ?", (owner,))
    return len(stale)


def claim(connection: sqlite3.Connection, owner: Owner, keys: list[str]) -> list[str]:
    """Claim those of `keys` that are neither stored nor claimed (inside the caller's transaction)."""
    taken = set()
    for start in range(0, len(keys), BATCH):
        batch = keys[start:start + BATCH]
        marks = ",".join("?" * len(batch))
        taken.update(row[0] for row in connection.execute(
            f"SELECT key FROM runs WHERE key IN ({marks}) UNION SELECT key FROM claims WHERE key IN ({marks})",
            batch + batch))
    free = [key for key in keys if key not in taken]
    now = time.time()
    connection.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                           [(key, owner.name, owner.host, owner.pid, now) for key in free])
    return free


class Heartbeat:
    """A daemon thread that refreshes `owner`'s claims in the store at `path` every HEARTBEAT seconds."""

    def __init__(self, path, owner: Owner, every: float = HEARTBEAT):
        self.path, self.owner, self.every = path, owner, every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="initlab-claims-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            while not self.stopped.wait(self.every):
                try:
                    connection.execute("UPDATE claims SET heartbeat = ? WHERE owner = ?", (time.time(), self.owner.name))
                except sqlite3.Error:  # busy for a minute: the next beat tries again
                    pass
        finally:
            connection.close()
