"""What a store path holds, and whether a command may read or write it.

Every refusal is a ValueError `store: <what is wrong>, got '<path>'` (the CLI names the flag,
`--store`), raised before anything is written: the file is left byte for byte as it was, and a
`-wal`, `-shm` or `-journal` file that the check itself made SQLite create is removed again.

A store is marked as initlab's in its SQLite header (`PRAGMA application_id`) and carries its
schema version (`PRAGMA user_version`). This initlab reads versions OLDEST_VERSION to
SCHEMA_VERSION and refuses newer ones; writing to an older store upgrades it first.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from initlab import __version__
from initlab._errors import ArgumentError, ArgumentTypeError

APPLICATION_ID = 0x494C4142  # 'ILAB' in the SQLite header: marks the file as an initlab store
SCHEMA_VERSION = 3  # 1: meta, planned, runs; 2: + claims (runs being computed, so runners share the work);
# 3: + runs.target_reached_at (steps to target, `initlab.nn.target`)
OLDEST_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
TABLES = {1: ("meta", "planned", "runs"), 2: ("meta", "planned", "runs", "claims"),
          3: ("meta", "planned", "runs", "claims")}
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def refusal(rule: str, path: str | Path) -> ArgumentError:
    """The error for a store path: `store: <rule>, got '<path>'`."""
    return ArgumentError("store", f"{rule}, got '{path}'")


def store_path(path: object) -> Path:
    """`path` as a Path, or an error naming `store` (not a path; a name the system cannot look up)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError("store", f"expected a file path such as results.db, got {path!r}")
    path = Path(path)
    if "\x00" in str(path):
        raise refusal("a file name cannot hold a NUL character", str(path).replace("\x00", "\\0"))
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as error:
        raise refusal(f"cannot be used ({error.strerror})", path) from None
    return path


def database_error(error: sqlite3.Error, path: str | Path) -> ArgumentError:
    """A SQLite error while using a store, as a refusal that says what is wrong in a user's words."""
    text = str(error)
    if "readonly" in text or "read-only" in text:
        return refusal("the store is read-only (a sweep writes each finished run to it)", path)
    if "locked" in text or "busy" in text:
        return refusal(f"the store stayed locked by another process ({text})", path)
    if "unable to open" in text:
        return refusal(f"SQLite cannot open the store ({text})", path)
    return refusal(f"damaged or not a SQLite database ({text})", path)


def side_files(path: str | Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in SIDE_SUFFIXES]


def _unused(shm: Path) -> bool:
    """No connection uses the store: SQLite holds a read lock on byte 128 of the -shm file (its
    'dead man switch') as long as a connection is open, so F_GETLK reports a write lock there as
    possible only when no process has the store open. False whenever that cannot be told."""
    import fcntl
    import struct
    try:
        handle = os.open(shm, os.O_RDONLY)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        layout = "hhqqi4x"  # struct flock on Linux: type, whence, start, length, pid
        answer = fcntl.fcntl(handle, fcntl.F_GETLK, struct.pack(layout, fcntl.F_WRLCK, os.SEEK_SET, 128, 1, 0))
        return struct.unpack(layout, answer)[0] == fcntl.F_UNLCK
    except (OSError, struct.error):
        return False
    finally:
        os.close(handle)


def remove_side_files(path: str | Path, created: set[Path]) -> None:
    """Delete the side files in `created` (made by this process) once no connection uses the store;
    a -wal file is kept when it holds data (committed runs not yet copied into the store)."""
    wal, shm, journal = side_files(path)
    if wal in created and wal.exists() and wal.stat().st_size > 0:
        return
    if not _unused(shm):
        return
    for side in (wal, shm, journal):
        if side in created:
            side.unlink(missing_ok=True)


@contextmanager
def removing_new_side_files(path: str | Path, always: bool = False):
    """Delete the -wal/-shm/-journal files of `path` that this block made SQLite create: on an exception,
    or `always`; only when no other connection uses the store (see `remove_side_files`)."""
    before = {side for side in side_files(path) if side.exists()}
    try:
        yield
    except BaseException:
        remove_side_files(path, {side for side in side_files(path) if side not in before})
        raise
    if always:
        remove_side_files(path, {side for side in side_files(path) if side not in before})


def read_uri(path: str | Path) -> str:
    """A read-only SQLite URI for `path`.

    Reading a store in WAL mode needs its -shm file; in a folder nobody may write to, SQLite could
    not create it, so the file is opened as immutable (no writer can exist there either).
    """
    path = Path(path).absolute()
    uri = f"{path.as_uri()}?mode=ro"
    if not os.access(path.parent, os.W_OK) and not Path(f"{path}-shm").exists():
        uri += "&immutable=1"
    return uri


def check_writable(path: str | Path) -> None:
    """Refuse a store that a sweep could not write: a read-only file or folder, or a missing folder."""
    path = Path(path)
    folder = path.absolute().parent
    if not folder.is_dir():
        raise refusal(f"the folder '{folder}' does not exist (create it first)", path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise refusal(f"the folder '{folder}' is read-only (SQLite writes the store and its -wal and -shm "
                      "files there)", path)
    if path.exists() and not os.access(path, os.W_OK):
        raise refusal("the store file is read-only (a sweep writes each finished run to it)", path)


def inspect_store(path: str | Path, write: bool = False) -> str:
    """'missing', 'empty' (a new store may be made there) or 'initlab'; ValueError for anything else.

    Only reads the file: a foreign or damaged database is never written to. With `write`, also
    refuses what a sweep could not write (see `check_writable`).
    """
    path = store_path(path)
    if path.is_dir():
        raise refusal("expected a store file (e.g. results.db), not a folder", path)
    if not path.exists():
        folder = path.absolute().parent
        if not folder.is_dir():
            raise refusal(f"the folder '{folder}' does not exist (create it first)", path)
        if write:
            check_writable(path)
        return "missing"
    if write:
        check_writable(path)
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise refusal(f"cannot be read ({error.strerror})", path) from None
    if not header:
        return "empty"
    if header != SQLITE_HEADER:
        raise refusal("not an initlab store (not a SQLite database; give a new file name or an existing store)",
                      path)
    with removing_new_side_files(path, always=True):
        application_id, version, tables = _read_header(path)
        return _state(path, application_id, version, tables)


def _read_header(path: Path) -> tuple[int, int, list[str]]:
    try:
        connection = sqlite3.connect(read_uri(path), uri=True)
        try:
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise database_error(error, path) from None
    return application_id, version, tables


def _state(path: Path, application_id: int, version: int, tables: list[str]) -> str:
    if application_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise refusal(f"store schema version {version} is newer than this initlab ({__version__}) reads "
                          f"(versions {OLDEST_VERSION} to {SCHEMA_VERSION}); upgrade initlab", path)
        if version < OLDEST_VERSION:
            raise refusal(f"an initlab store with an unknown schema version {version}", path)
        missing = [table for table in TABLES[version] if table not in tables]
        if missing:
            raise refusal(f"an initlab store without its tables (missing: {', '.join(missing)})", path)
        return "initlab"
    if application_id == 0 and not tables:
        return "empty"
    shown = f"tables: {', '.join(tables)}" if tables else f"application id {application_id:#x}"
    raise refusal(f"a SQLite database but not an initlab store ({shown}; give a new file name or an existing "
                  "store)", path)
