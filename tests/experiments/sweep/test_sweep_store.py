"""The SQLite store: WAL mode, marked as initlab's, foreign files refused untouched, resume skips."""

import math
import sqlite3

import pytest

from initlab.experiments.sweep import Store, load_sweep, run_sweep, status
from initlab.experiments.sweep.store import APPLICATION_ID, inspect_store


def test_new_store_is_in_wal_mode_and_marked_as_initlab(tmp_path):
    path = tmp_path / "results.db"
    Store(path, create=True).close()
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert dict(connection.execute("SELECT name, value FROM meta"))["schema_version"] == "3"
    connection.close()
    assert inspect_store(path) == "initlab"


def test_a_text_file_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n")
    with pytest.raises(ValueError, match=r"^store: not an initlab store \(not a SQLite database; .*\), got '.*notes.txt'$"):
        Store(path, create=True)
    assert path.read_text() == "not a database\n"


def test_another_sqlite_database_is_refused_and_left_byte_for_byte(tmp_path):
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE people (name TEXT)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"^store: a SQLite database but not an initlab store \(tables: people; .*\), got '.*other.db'$"):
        Store(path, create=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no -wal / -shm either


def test_reading_a_missing_store_does_not_create_it(tmp_path):
    with pytest.raises(ValueError, match="^store: no such file"):
        status(tmp_path / "results.db")
    assert not (tmp_path / "results.db").exists()


def test_rerun_skips_finished_runs_and_never_duplicates(tiny, tmp_path, stored):
    path = tmp_path / "results.db"
    first = run_sweep(tiny(), path, workers=1)
    assert (first.total, first.skipped, first.ran) == (4, 0, 4)
    before = stored(path)
    again = run_sweep(tiny(), path, workers=1)
    assert (again.skipped, again.ran) == (4, 0)
    assert stored(path) == before
    # More seeds: only the new ones run, the stored ones keep their keys.
    more = run_sweep(tiny(seeds=3), path, workers=1)
    assert (more.total, more.skipped, more.ran) == (6, 4, 2)
    assert set(before) < set(stored(path))
    with Store(path) as store, pytest.raises(ValueError, match=r"^store: opened for reading; Store\(path, "
                                                               r"write=True\) writes to it, got '.*results.db'$"):
        store.add_plan([{"key": "new", "config_hash": "h", "config": {}, "init": "zeros", "seed": 9}])
    with Store(path, write=True) as store:
        point = load_sweep(tiny()).points[0]
        assert store.add(point.key(0), point.config_hash, point.settings, store.runs()[0]) is False
        assert len(store.runs()) == 6


def test_runs_are_records_like_run_to_json_plus_config(tiny, tmp_path):
    path = tmp_path / "results.db"
    sweep = load_sweep(tiny())
    run_sweep(sweep, path, workers=1)
    with Store(path) as store:
        records = store.runs()
    assert [(r["init"], r["seed"]) for r in records] == [("zeros", 0), ("zeros", 1), ("he_normal", 0),
                                                         ("he_normal", 1)]
    record = records[2]
    assert set(record) == {"init", "seed", "final_cost", "train_accuracy", "test_accuracy", "diverged",
                           "diverged_at", "sample_space", "wall_time", "cost_history", "config", "config_hash",
                           "key", "finished_at", "target_reached_at"}
    assert record["config"] == sweep.points[1].settings and record["config_hash"] == sweep.points[1].config_hash
    assert record["diverged"] is False and record["cost_history"][0][0] == 0
    assert record["final_cost"] == record["cost_history"][-1][1]
    assert records[0]["final_cost"] == math.log(2)  # zeros: exactly ln 2


def test_status_counts_done_and_pending_of_the_plan(tiny, tmp_path):
    path = tmp_path / "results.db"
    run_sweep(tiny(), path, workers=1)
    assert status(path) == {"store": str(path), "done": 4, "pending": 0, "total": 4, "diverged": 0}
    assert status(path, tiny(seeds=5))["pending"] == 6


def test_a_target_in_the_sweep_is_stored_with_the_iteration_each_run_reached_it(tiny, tmp_path):
    from initlab.experiments.sweep.export import stored_summary
    from initlab.report.html import build_report
    spec = tiny(**{"model__init": ["he_normal"]})
    spec["train"] = {**spec["train"], "lr": 1.0, "iterations": 200, "record_every": 1, "target_accuracy": 0.9}
    sweep = load_sweep(spec)
    assert sweep.points[0].config.target_accuracy == 0.9
    run_sweep(sweep, tmp_path / "results.db", workers=1)
    with Store(tmp_path / "results.db") as store:
        records = store.runs()
    for record in records:  # reached at the last recorded iteration, where the accuracy first held
        assert record["target_reached_at"] == record["cost_history"][-1][0] < 200
        assert record["train_accuracy"] >= 0.9
    (row,) = stored_summary(sweep, tmp_path / "results.db")
    assert row["n_reached"] == 2
    page = build_report(records, title="t")
    assert "reached at" in page and 'class="num n-reached" data-value="2"' in page
