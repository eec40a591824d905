"""The results store of a sweep: one SQLite file (WAL mode), one row per finished run.

A run is written in its own transaction when it finishes, keyed by the hash of its resolved
config and seed (`INSERT OR IGNORE`, so a run can never be stored twice); a killed sweep loses
nothing it finished, and running it again skips what is stored.

The file is marked as an initlab store (`PRAGMA application_id` and a `meta` table with the
schema version); any other file, SQLite or not, is refused and left untouched.

Tables (schema version 1)::

    runs(key TEXT PRIMARY KEY, config_hash TEXT, config_json TEXT, init TEXT, seed INTEGER,
         final_cost REAL, train_accuracy REAL, test_accuracy REAL, diverged INTEGER,
         diverged_at INTEGER, sample_space INTEGER, wall_time REAL, cost_history TEXT /*JSON*/,
         finished_at TEXT /*UTC ISO 8601*/)
    planned(key TEXT PRIMARY KEY, config_hash TEXT, config_json TEXT, init TEXT, seed INTEGER)
    meta(name TEXT PRIMARY KEY, value TEXT)

`Store.runs()` returns one record per stored run, in plan order, shaped like
`Run.to_json()` plus the run's identity (a stable contract; `initlab report --store` reads it)::

    {"init": str, "seed": int, "final_cost": float | None, "train_accuracy": float,
     "test_accuracy": float | None, "diverged": bool, "diverged_at": int | None,
     "sample_space": bool, "wall_time": float, "cost_history": [[iteration, cost | None], ...],
     "config": {...resolved CompareConfig.to_json() without seeds, first_seed, labels, note,
                initlab_version...},
     "config_hash": str, "key": str, "finished_at": str}
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from initlab._errors import ArgumentError
from initlab import __version__

APPLICATION_ID = 0x494C4142  # 'ILAB' in the SQLite header: marks the file as an initlab store
SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
RESULT_COLUMNS = ("final_cost", "train_accuracy", "test_accuracy", "diverged", "diverged_at", "sample_space",
                  "wall_time", "cost_history")
SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE planned (key TEXT PRIMARY KEY, config_hash TEXT NOT NULL, config_json TEXT NOT NULL,
                      init TEXT NOT NULL, seed INTEGER NOT NULL);
CREATE TABLE runs (key TEXT PRIMARY KEY, config_hash TEXT NOT NULL, config_json TEXT NOT NULL,
                   init TEXT NOT NULL, seed INTEGER NOT NULL, final_cost REAL, train_accuracy REAL,
                   test_accuracy REAL, diverged INTEGER NOT NULL, diverged_at INTEGER,
                   sample_space INTEGER NOT NULL, wall_time REAL, cost_history TEXT NOT NULL,
                   finished_at TEXT NOT NULL);
CREATE INDEX runs_config_hash ON runs (config_hash);
"""


def inspect_store(path: str | Path) -> str:
    """'missing', 'empty' (a new store may be made there) or 'initlab'; ValueError for anything else.

    Only reads the file: a foreign database is never written to.
    """
    path = Path(path)
    if not path.exists():
        return "missing"
    if path.is_dir():
        raise ArgumentError("store", f"'{path}' is a folder, expected a store file (e.g. results.db)")
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if not header:
        return "empty"
    if header != SQLITE_HEADER:
        raise ArgumentError("store", f"'{path}' is not an initlab store (not a SQLite database); "
                         "give a new file name or an existing store")
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise ArgumentError("store", f"'{path}' cannot be read as a SQLite database ({error})") from None
    if application_id == APPLICATION_ID:
        if version != SCHEMA_VERSION:
            raise ArgumentError("store", f"'{path}' has store schema version {version}; this initlab "
                             f"({__version__}) reads version {SCHEMA_VERSION}")
        return "initlab"
    if application_id == 0 and not tables:
        return "empty"
    shown = f"tables: {', '.join(tables)}" if tables else f"application id {application_id:#x}"
    raise ArgumentError("store", f"'{path}' is a SQLite database but not an initlab store ({shown}); "
                     "give a new file name or an existing store")


class Store:
    """An open initlab store. `Store(path)` opens an existing one; `create=True` makes it if needed.

    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> with Store(pathlib.Path(folder) / "results.db", create=True) as store:
    ...     store.journal_mode(), store.counts()
    ('wal', {'done': 0, 'pending': 0, 'total': 0, 'diverged': 0})
    """

    def __init__(self, path: str | Path, create: bool = False):
        self.path = Path(path)
        state = inspect_store(self.path)
        if state == "missing" and not create:
            raise ArgumentError("store", f"'{self.path}' does not exist; 'initlab sweep run FILE --store "
                             f"{self.path}' creates it")
        if state == "empty" and not create:
            raise ArgumentError("store", f"'{self.path}' is empty, not an initlab store yet")
        self.connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.connection.execute("PRAGMA busy_timeout = 60000")
        if state != "initlab":
            self._create()
        self.connection.execute("PRAGMA synchronous = FULL")  # a committed run survives a crash

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

    def _transaction(self):
        return _Transaction(self.connection)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def journal_mode(self) -> str:
        return self.connection.execute("PRAGMA journal_mode").fetchone()[0]

    def add_plan(self, planned: Iterable[dict]) -> None:
        """Record the runs a sweep intends (key, config_hash, config, init, seed), so status can count pending."""
        rows = [(p["key"], p["config_hash"], _canonical(p["config"]), p["init"], p["seed"]) for p in planned]
        with self._transaction():
            self.connection.executemany("INSERT OR IGNORE INTO planned VALUES (?, ?, ?, ?, ?)", rows)

    def add(self, key: str, config_hash: str, config: dict, run: dict) -> bool:
        """Store one finished run (a `Run.to_json()` dict) in its own transaction; False if already stored."""
        row = (key, config_hash, _canonical(config), run["init"], run["seed"], run["final_cost"],
               run["train_accuracy"], run["test_accuracy"], int(run["diverged"]), run["diverged_at"],
               int(run["sample_space"]), run["wall_time"], json.dumps(run["cost_history"], allow_nan=False), _now())
        with self._transaction():
            cursor = self.connection.execute(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        return cursor.rowcount == 1

    def done_keys(self) -> set[str]:
        return {row[0] for row in self.connection.execute("SELECT key FROM runs")}

    def counts(self, keys: Iterable[str] | None = None) -> dict:
        """done / pending / total (of `keys`, or of every run planned or stored) and diverged."""
        stored = dict(self.connection.execute("SELECT key, diverged FROM runs"))
        if keys is None:
            keys = set(stored) | {row[0] for row in self.connection.execute("SELECT key FROM planned")}
        wanted = set(keys)
        done = [key for key in wanted if key in stored]
        return {"done": len(done), "pending": len(wanted) - len(done), "total": len(wanted),
                "diverged": sum(stored[key] for key in done)}

    def runs(self) -> list[dict]:
        """Every stored run as a record (see the module docstring), in plan order."""
        query = ("SELECT r.* FROM runs r LEFT JOIN planned p ON p.key = r.key "
                 "ORDER BY p.rowid IS NULL, p.rowid, r.key")
        cursor = self.connection.execute(query)
        names = [column[0] for column in cursor.description]
        return [_record(dict(zip(names, row))) for row in cursor]


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
            "sample_space": bool(row["sample_space"]), "wall_time": row["wall_time"],
            "cost_history": json.loads(row["cost_history"]), "config": json.loads(row["config_json"]),
            "config_hash": row["config_hash"], "key": row["key"], "finished_at": row["finished_at"]}


def _canonical(config: dict) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
