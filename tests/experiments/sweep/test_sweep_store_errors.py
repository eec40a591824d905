"""Stores that cannot be used: every command says what is wrong in one line `--store: <rule>, got '<path>'`
(exit 2, no traceback), the Python API raises ValueError naming `store` (never sqlite3's errors), the
file keeps every byte, and no -wal/-shm file is left behind."""

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest

from initlab.cli import main
from initlab.experiments.sweep import Store, export, run_sweep, status
from initlab.experiments.sweep.store import APPLICATION_ID
from initlab.experiments.sweep.records import sweep_records as runs_from_store

COMMANDS = {"run": ["sweep", "run", "SWEEP", "--store", "STORE", "--workers", "1"],
            "status": ["sweep", "status", "--store", "STORE"],
            "export": ["sweep", "export", "--store", "STORE"],
            "report": ["report", "--store", "STORE", "--out", "REPORT"]}
V1_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE planned (key TEXT PRIMARY KEY, config_hash TEXT NOT NULL, config_json TEXT NOT NULL,
                      init TEXT NOT NULL, seed INTEGER NOT NULL);
CREATE TABLE runs (key TEXT PRIMARY KEY, config_hash TEXT NOT NULL, config_json TEXT NOT NULL,
                   init TEXT NOT NULL, seed INTEGER NOT NULL, final_cost REAL, train_accuracy REAL,
                   test_accuracy REAL, diverged INTEGER NOT NULL, diverged_at INTEGER,
                   sample_space INTEGER NOT NULL, wall_time REAL, cost_history TEXT NOT NULL,
                   finished_at TEXT NOT NULL);
"""


def _argv(command, store, sweep, folder):
    names = {"STORE": str(store), "SWEEP": str(sweep), "REPORT": str(folder / "report")}
    return [names.get(a, a) for a in COMMANDS[command]]


def _one_error_line(code, err, expected):
    assert code == 2
    assert "Traceback" not in err
    assert err.splitlines() == [f"error: {expected}"]


def _marked(path, version=2, tables=""):
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    connection.execute(f"PRAGMA user_version = {version}")
    if tables:
        connection.executescript(tables)
    connection.commit()
    connection.close()


@pytest.fixture
def good_store(tmp_path, tiny):
    """A finished store of the tiny sweep (4 runs), in WAL mode, as a sweep leaves it."""
    path = tmp_path / "good.db"
    run_sweep(tiny(), path, workers=1)
    return path


def _damaged(folder, good):
    data = good.read_bytes()
    truncated = folder / "truncated.db"
    truncated.write_bytes(data[:100])  # the header only: the schema page is cut
    corrupt = folder / "corrupt.db"
    corrupt.write_bytes(data[:4096] + b"\xff" * (len(data) - 4096))  # every page after the first overwritten
    return {"truncated": truncated, "corrupt": corrupt}


def _cases(folder, good):
    cases = {name: (path, "damaged or not a SQLite database (") for name, path in _damaged(folder, good).items()}
    _marked(folder / "empty_schema.db")
    cases["empty schema"] = (folder / "empty_schema.db", "an initlab store without its tables (missing: meta, planned, "
                                                          "runs, claims)")
    _marked(folder / "future.db", version=4, tables="CREATE TABLE runs (x);")
    cases["future schema"] = (folder / "future.db", "store schema version 4 is newer than this initlab")
    return cases


@pytest.mark.parametrize("case", ["truncated", "corrupt", "empty schema", "future schema"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_unusable_store_is_one_line_exit_2_and_left_byte_for_byte(capsys, tmp_path, good_store, tiny, case, command):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('data = "circles"\nn_samples = 40\nseeds = 1\n[model]\nhidden = "4"\ninit = "zeros"\n'
                     '[train]\niterations = 5\n')
    folder = tmp_path / "stores"
    folder.mkdir()
    path, rule = _cases(folder, good_store)[case]
    before, files = path.read_bytes(), sorted(p.name for p in folder.iterdir())
    capsys.readouterr()
    code = main(_argv(command, path, sweep, tmp_path))
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert err.startswith(f"error: --store: {rule}") and err.endswith(f", got '{path}'\n")
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == files  # no -wal / -shm left
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("case", ["truncated", "corrupt", "empty schema", "future schema"])
def test_python_api_raises_value_error_naming_store_never_sqlite_errors(tmp_path, good_store, tiny, case):
    path, rule = _cases(tmp_path, good_store)[case]
    calls = [lambda: Store(path), lambda: Store(path, write=True), lambda: status(path), lambda: export(path),
             lambda: runs_from_store(path), lambda: run_sweep(tiny(), path, workers=1)]
    for call in calls:
        with pytest.raises(ValueError) as error:
            call()
        assert not isinstance(error.value, sqlite3.Error)
        assert str(error.value).startswith(f"store: {rule}") and str(error.value).endswith(f", got '{path}'")


def test_a_store_in_a_missing_folder_is_refused_and_no_folder_is_made(capsys, tmp_path, tiny):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('data = "circles"\nseeds = 1\n[model]\ninit = "zeros"\n')
    path = tmp_path / "missing" / "results.db"
    for command in COMMANDS:
        capsys.readouterr()
        code = main(_argv(command, path, sweep, tmp_path))
        _one_error_line(code, capsys.readouterr().err,
                        f"--store: the folder '{path.parent}' does not exist (create it first), got '{path}'")
    with pytest.raises(ValueError, match=r"^store: the folder .* does not exist"):
        run_sweep(tiny(), path, workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.toml"]


def test_a_version_1_store_is_read_untouched_and_upgraded_when_a_sweep_writes(tmp_path, tiny, stored):
    reference = tmp_path / "reference.db"
    run_sweep(tiny(), reference, workers=1)
    old = tmp_path / "old.db"
    _marked(old, version=1, tables=V1_SCHEMA + "INSERT INTO meta VALUES ('schema_version', '1');")
    connection = sqlite3.connect(old)
    connection.execute("ATTACH ? AS ref", (str(reference),))
    columns = ", ".join(row[1] for row in connection.execute("PRAGMA main.table_info(runs)"))  # v1's 14
    connection.execute(f"INSERT INTO runs SELECT {columns} FROM ref.runs WHERE seed = 0")
    connection.commit()
    connection.close()
    before = old.read_bytes()
    assert status(old)["done"] == 2
    assert len(runs_from_store(old)[0]) == 2 and export(old).count("\n") == 3
    assert old.read_bytes() == before  # reading does not upgrade
    report = run_sweep(tiny(), old, workers=1)
    assert (report.skipped, report.ran) == (2, 2)
    assert stored(old) == stored(reference)
    connection = sqlite3.connect(old)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 3
    assert dict(connection.execute("SELECT name, value FROM meta"))["schema_version"] == "3"
    assert connection.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
    connection.close()


# ----- read-only stores and folders: as a user without write access (root drops to 'nobody') -----

def _as_user_without_write_access(argv, folder):
    """main(argv) in a child process that cannot write `folder`'s files; (exit code, stderr)."""
    err = folder.parent / "stderr.txt"
    pid = os.fork()
    if pid == 0:  # the child
        code = 70
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            import sys
            sys.stderr = open(err, "w")
            sys.stdout = open(os.devnull, "w")
            code = main(argv)
            sys.stderr.flush()
        finally:
            os._exit(code)
    _, status_ = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status_), err.read_text()


@pytest.fixture
def shared_folder():
    """A folder that an unprivileged child may enter (pytest's tmp_path is private to its user)."""
    top = Path(tempfile.mkdtemp(prefix="initlab-readonly-"))
    os.chmod(top, 0o777)
    yield top
    for path in (top, *top.rglob("*")):
        if path.is_dir():
            os.chmod(path, 0o777)
    shutil.rmtree(top)


def _read_only_copy(shared_folder, good_store, read_only_folder):
    folder = shared_folder / "stores"
    folder.mkdir()
    path = folder / "results.db"
    shutil.copy(good_store, path)
    sweep = shared_folder / "sweep.toml"
    sweep.write_text('data = "circles"\nn_samples = 40\nseeds = 3\n[model]\nhidden = "4"\nactivation = "tanh"\n'
                     '[train]\nlr = 0.1\niterations = 20\n[grid]\n"model.init" = ["zeros", "he_normal"]\n')
    os.chmod(path, 0o444)
    os.chmod(folder, 0o555 if read_only_folder else 0o777)
    os.chmod(shared_folder, 0o777)
    return folder, path, sweep


@pytest.mark.parametrize("read_only_folder", [False, True])
def test_sweep_run_on_a_read_only_store_says_read_only(shared_folder, good_store, read_only_folder):
    folder, path, sweep = _read_only_copy(shared_folder, good_store, read_only_folder)
    before = path.read_bytes()
    code, err = _as_user_without_write_access(["sweep", "run", str(sweep), "--store", str(path), "--workers", "1"],
                                              folder)
    rule = (f"the folder '{folder}' is read-only (SQLite writes the store and its -wal and -shm files there)"
            if read_only_folder else "the store file is read-only (a sweep writes each finished run to it)")
    _one_error_line(code, err, f"--store: {rule}, got '{path}'")
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["results.db"]


@pytest.mark.parametrize("read_only_folder", [False, True])
def test_a_read_only_store_can_still_be_read(shared_folder, good_store, read_only_folder):
    folder, path, sweep = _read_only_copy(shared_folder, good_store, read_only_folder)
    before = path.read_bytes()
    code, err = _as_user_without_write_access(["sweep", "status", "--store", str(path)], folder)
    assert code == 0, err
    assert f"{path}: 4 of 4 runs done, 0 pending" in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["results.db"]


@pytest.mark.parametrize("value, error, message", [
    (None, TypeError, "store: expected a file path such as results.db, got None"),
    (5, TypeError, "store: expected a file path such as results.db, got 5"),
    ("a\0b.db", ValueError, r"store: a file name cannot hold a NUL character, got 'a\0b.db'"),
    ("x" * 5000 + ".db", ValueError, "store: cannot be used (File name too long), got 'xxx"),
])
def test_a_store_argument_that_is_not_a_usable_path_is_named(tmp_path, tiny, value, error, message):
    calls = [lambda: Store(value), lambda: status(value), lambda: export(value, "csv", tmp_path / "out.csv"),
             lambda: runs_from_store(value), lambda: run_sweep(tiny(), value, workers=1)]
    for call in calls:
        with pytest.raises(error) as raised:
            call()
        assert str(raised.value).startswith(message)
    assert list(tmp_path.iterdir()) == []
