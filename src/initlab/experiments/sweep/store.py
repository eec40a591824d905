"""The results store of a sweep: one SQLite file (WAL mode), one row per finished run.

A run is written in its own transaction when it finishes, keyed by the hash of its resolved
config and seed (`INSERT OR IGNORE`, so a run can never be stored twice); a killed sweep loses
nothing it finished, and running it again skips what is stored. Runners sharing a store claim
the runs they compute (see `initlab.experiments.sweep.claims`), so none is computed twice.

The file is marked as an initlab store (`PRAGMA application_id`, `PRAGMA user_version` and a `meta`
table with the schema version); any other file, SQLite or not, is refused and left untouched, and
so is a damaged store: every SQLite error becomes a ValueError naming `store` (see
`initlab.experiments.sweep.storefile`).

Tables (schema version 3; version 1 had no `claims`, version 2 no `runs.target_reached_at`; both are
upgraded when a sweep writes to them, and read as they are, target_reached_at null)::

    runs(key TEXT PRIMARY KEY, config_hash TEXT, config_json TEXT, init TEXT, seed INTEGER,
         final_cost REAL, train_accuracy REAL, test_accuracy REAL, diverged INTEGER,
         diverged_at INTEGER, sample_space INTEGER, wall_time REAL, cost_history TEXT /*JSON*/,
         finished_at TEXT /*UTC ISO 8601*/, target_reached_at INTEGER)
    planned(key TEXT PRIMARY KEY, config_hash TEXT, config_json TEXT, init TEXT, seed INTEGER)
    claims(key TEXT PRIMARY KEY, owner TEXT, host TEXT, pid INTEGER, heartbeat REAL)
    meta(name TEXT PRIMARY KEY, value TEXT)

`Store.runs()` returns one record per stored run, in plan order, shaped like
`Run.to_json()` plus the run's identity (a stable contract; `initlab report --store` reads it)::

    {"init": str, "seed": int, "final_cost": float | None, "train_accuracy": float,
     "test_accuracy": float | None, "diverged": bool, "diverged_at": int | None, "target_reached_at": int | None,
     "sample_space": bool, "wall_time": float, "cost_history": [[iteration, cost | None], ...],
     "config": {...resolved CompareConfig.to_json() without seeds, first_seed, labels, note,
                initlab_version...},
     "config_hash": str, "key": str, "finished_at": str}
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from initlab import __version__
from initlab.experiments.sweep import claims
from initlab.experiments.sweep.storefile import (APPLICATION_ID, SCHEMA_VERSION, SQLITE_HEADER, TABLES, database_error,
                                                 inspect_store, read_uri, refusal, remove_side_files,
                                                 removing_new_side_files, side_files, store_path)

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SQLITE_HEADER", "Store", "inspect_store"]

RESULT_COLUMNS = ("final_cost", "train_accuracy", "test_accuracy", "diverged", "diverged_at", "sample_space",
                  "wall_time", "cost_history")
SCHEMA = f"""
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE planned (key TEXT PRIMARY KEY, config_hash TEXT NOT NULL, config_json TEXT NOT NULL,
                      init TEXT NOT NULL, seed INTEGER NOT NULL);
CREATE TABLE runs (key TEXT PRIMARY KEY, config_hash TEXT NOT NULL, config_json TEXT NOT NULL,
                   init TEXT NOT NULL, seed INTEGER NOT NULL, final_cost REAL, train_accuracy REAL,
                   test_accuracy REAL, diverged INTEGER NOT NULL, diverged_at INTEGER,
                   sample_space INTEGER NOT NULL, wall_time REAL, cost_history TEXT NOT NULL,
                   finished_at TEXT NOT NULL, target_reached_at INTEGER);
CREATE INDEX runs_config_hash ON runs (config_hash);
{claims.CLAIMS_TABLE};
"""


def _sqlite_errors(method):
    """A SQLite error inside a store method (a damaged file, a read-only one) becomes a ValueError naming `store`."""
    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            if not self.write and "readonly" in str(error):
                raise refusal("opened for reading; Store(path, write=True) writes to it", self.path) from None
            raise database_error(error, self.path) from None
    return wrapped


class Store:
    """An open initlab store: `Store(path)` reads an existing one, `write=True` also writes to it (upgrading
    an older schema), `create=True` writes and makes it if needed.

    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> with Store(pathlib.Path(folder) / "results.db", create=True) as store:
    ...     store.journal_mode(), store.counts()
    ('wal', {'done': 0, 'pending': 0, 'total': 0, 'diverged': 0})
    """

    def __init__(self, path: str | Path, create: bool = False, write: bool = False):
        self.path = store_path(path)
        self.write = write = write or create
        state = inspect_store(self.path, write=write)
        if state == "missing" and not create:
            raise refusal(f"no such file ('initlab sweep run FILE --store {self.path}' creates it)", self.path)
        if state == "empty" and not create:
            raise refusal("an empty file, not an initlab store yet", self.path)
        self.connection = None
        self._created = {side for side in side_files(self.path) if not side.exists()}
        with removing_new_side_files(self.path):
            try:
                self._open(state, write)
            except sqlite3.Error as error:
                self.close()
                if state == "missing":
                    self.path.unlink(missing_ok=True)
                raise database_error(error, self.path) from None
            except BaseException:
                self.close()
                raise

    def _open(self, state: str, write: bool) -> None:
        if not write:
            self.connection = sqlite3.connect(read_uri(self.path), uri=True, timeout=60, isolation_level=None)
            self._check_tables()
            return
        self.connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.connection.execute("PRAGMA busy_timeout = 60000")
        if state != "initlab":
            self._create()
        self._upgrade()
        self._check_tables()
        self.connection.execute("PRAGMA synchronous = FULL")  # a committed run survives a crash

    def _check_tables(self) -> None:
        """Read the first page of every table: a damaged store fails here, when it is opened."""
        for table in TABLES[self.schema_version()]:
            self.connection.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()

    def _create(self) -> None:
        self.connection.execute("PRAGMA journal_mode = WAL")  # persistent: stored in the file
        with self._transaction():
            if self.connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
                return  # another process made it meanwhile
            for statement in filter(str.strip, SCHEMA.split(";")):
                self.connection.execute(statement)
            self.connection.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("application", "initlab sweep store"), ("schema_version", str(SCHEMA_VERSION)),
                ("created_with", __version__), ("created_at", _now())])
            self.connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _upgrade(self) -> None:
        """Version 1 -> 2: add the claims table; 2 -> 3: add runs.target_reached_at (null for the runs stored
        before). Older initlab versions then refuse the store, by its version."""
        if self.schema_version() == SCHEMA_VERSION:
            return
        with self._transaction():
            version = self.schema_version()
            if version == SCHEMA_VERSION:  # another process upgraded it meanwhile
                return
            if version == 1:
                self.connection.execute(claims.CLAIMS_TABLE)
            if version <= 2:
                self.connection.execute("ALTER TABLE runs ADD COLUMN target_reached_at INTEGER")
            self.connection.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),))
            self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _transaction(self):
        return _Transaction(self.connection)

    def close(self) -> None:
        """Close the connection; the -wal and -shm files it created go too, once no other process uses them
        (SQLite removes them itself only when it could write the store)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None
            remove_side_files(self.path, {side for side in self._created if side.exists()})

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @_sqlite_errors
    def schema_version(self) -> int:
        return self.connection.execute("PRAGMA user_version").fetchone()[0]

    @_sqlite_errors
    def journal_mode(self) -> str:
        return self.connection.execute("PRAGMA journal_mode").fetchone()[0]

    @_sqlite_errors
    def add_plan(self, planned: Iterable[dict]) -> None:
        """Record the runs a sweep intends (key, config_hash, config, init, seed), so status can count pending."""
        rows = [(p["key"], p["config_hash"], _canonical(p["config"]), p["init"], p["seed"]) for p in planned]
        with self._transaction():
            self.connection.executemany("INSERT OR IGNORE INTO planned VALUES (?, ?, ?, ?, ?)", rows)

    @_sqlite_errors
    def add(self, key: str, config_hash: str, config: dict, run: dict, owner: claims.Owner | None = None) -> bool:
        """Store one finished run (a `Run.to_json()` dict) in its own transaction, dropping `owner`'s claim on it;
        False if it was already stored."""
        row = (key, config_hash, _canonical(config), run["init"], run["seed"], run["final_cost"],
               run["train_accuracy"], run["test_accuracy"], int(run["diverged"]), run["diverged_at"],
               int(run["sample_space"]), run["wall_time"], json.dumps(run["cost_history"], allow_nan=False), _now(),
               run.get("target_reached_at"))
        with self._transaction():
            cursor = self.connection.execute(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            if owner is not None:
                self.connection.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, owner.name))
        return cursor.rowcount == 1

    @_sqlite_errors
    def claim(self, owner: claims.Owner, keys: list[str]) -> list[str]:
        """In one transaction: drop stale claims, then claim those of `keys` neither stored nor claimed."""
        with self._transaction():
            claims.drop_stale(self.connection, owner.host, time.time())
            return claims.claim(self.connection, owner, keys)

    @_sqlite_errors
    def release(self, owner: claims.Owner) -> None:
        """Drop every claim of `owner` (a runner that stops)."""
        with self._transaction():
            self.connection.execute("DELETE FROM claims WHERE owner = ?", (owner.name,))

    @_sqlite_errors
    def stored_since(self, rowid: int) -> tuple[list[str], int]:
        """Keys of the runs stored after row `rowid`, and the last row: what other runners stored meanwhile."""
        rows = self.connection.execute("SELECT rowid, key FROM runs WHERE rowid > ? ORDER BY rowid", (rowid,)).fetchall()
        return [key for _, key in rows], (rows[-1][0] if rows else rowid)

    @_sqlite_errors
    def done_keys(self) -> set[str]:
        return {row[0] for row in self.connection.execute("SELECT key FROM runs")}

    @_sqlite_errors
    def counts(self, keys: Iterable[str] | None = None) -> dict:
        """done / pending / total (of `keys`, or of every run planned or stored) and diverged."""
        stored = dict(self.connection.execute("SELECT key, diverged FROM runs"))
        if keys is None:
            keys = set(stored) | {row[0] for row in self.connection.execute("SELECT key FROM planned")}
        wanted = set(keys)
        done = [key for key in wanted if key in stored]
        return {"done": len(done), "pending": len(wanted) - len(done), "total": len(wanted),
                "diverged": sum(stored[key] for key in done)}

    @_sqlite_errors
    def runs(self) -> list[dict]:
        """Every stored run as a record (see the module docstring), in plan order."""
        query = ("SELECT r.* FROM runs r LEFT JOIN planned p ON p.key = r.key "
                 "ORDER BY p.rowid IS NULL, p.rowid, r.key")
        cursor = self.connection.execute(query)
        names = [column[0] for column in cursor.description]
        try:
            return [_record(dict(zip(names, row))) for row in cursor]
        except (ValueError, TypeError, KeyError) as error:  # JSON columns edited by hand
            raise refusal(f"a stored run cannot be read ({error})", self.path) from None


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (KeyboardInterrupt included)."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, error, traceback) -> None:
        self.connection.execute("ROLLBACK" if kind else "COMMIT")


def _record(row: dict) -> dict:
    return {"init": row["init"], "seed": row["seed"], "final_cost": row["final_cost"],
            "train_accuracy": row["train_accuracy"], "test_accuracy": row["test_accuracy"],
            "diverged": bool(row["diverged"]), "diverged_at": row["diverged_at"],
            "target_reached_at": row.get("target_reached_at"),
            "sample_space": bool(row["sample_space"]), "wall_time": row["wall_time"],
            "cost_history": json.loads(row["cost_history"]), "config": json.loads(row["config_json"]),
            "config_hash": row["config_hash"], "key": row["key"], "finished_at": row["finished_at"]}


def _canonical(config: dict) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
