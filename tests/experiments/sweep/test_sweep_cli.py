"""`initlab sweep`: plan / run / status / export, and bad input as one line on stderr with exit code 2,
the store left as it was (or not created)."""

import csv
import io
import json
import sqlite3

import pytest

from initlab.experiments.sweep.export import RUN_COLUMNS

TINY_TOML = """
data = "circles"
n_samples = 40
seeds = 2
[model]
hidden = "4"
activation = "tanh"
[train]
lr = 0.1
iterations = 20
[grid]
"model.init" = ["zeros", "he_normal"]
"""


@pytest.fixture
def sweep_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(TINY_TOML)
    return path


def test_plan_json_lists_every_run_and_the_count(cli, sweep_file):
    code, out, err = cli("sweep", "plan", sweep_file, "--json")
    document = json.loads(out)
    assert code == 0 and err == ""
    assert (document["n_points"], document["seeds"], document["n_runs"]) == (2, 2, 4)
    assert [(r["init"], r["seed"]) for r in document["runs"]] == [("zeros", 0), ("zeros", 1), ("he_normal", 0),
                                                                   ("he_normal", 1)]
    assert document["runs"][0]["config"]["hidden"] == [4] and len(document["runs"][0]["key"]) == 64


def test_plan_table_shows_points_and_count(cli, sweep_file):
    code, out, err = cli("sweep", "plan", sweep_file)
    assert code == 0 and out == ""
    assert "2 points x 2 seeds (0..1) = 4 runs" in err and "he_normal" in err and "train.lr = 0.1" in err


def test_run_status_export_round_trip(cli, sweep_file, tmp_path):
    store = tmp_path / "results.db"
    code, out, err = cli("sweep", "run", sweep_file, "--store", store, "--workers", "1", "--json")
    assert code == 0 and json.loads(out) == {"store": str(store), "total": 4, "skipped": 0, "ran": 4, "by_others": 0, "done": 4,
                                             "pending": 0}
    assert "ran 4 runs, 0 were already stored; 4 of 4 done" in err
    code, out, _ = cli("sweep", "status", "--store", store, "--json")
    assert json.loads(out) == {"store": str(store), "done": 4, "pending": 0, "total": 4, "diverged": 0}
    code, _, err = cli("sweep", "status", "--store", store)
    assert "4 of 4 runs done, 0 pending, 0 diverged" in err

    code, out, _ = cli("sweep", "export", "--store", store)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 4
    assert list(rows[0])[:len(RUN_COLUMNS)] == list(RUN_COLUMNS)
    assert {"data", "model.hidden", "model.activation", "train.lr", "train.iterations"} <= set(rows[0])
    assert rows[0]["init"] == "zeros" and float(rows[0]["final_cost"]) == 0.6931471805599453
    assert rows[2]["model.hidden"] == "4" and rows[2]["diverged"] == "false"

    code, _, err = cli("sweep", "export", "--store", store, "--format", "json", "--out", tmp_path / "r.json")
    document = json.loads((tmp_path / "r.json").read_text())
    assert code == 0 and "wrote" in err and len(document["runs"]) == 4
    assert [r["final_cost"] for r in document["runs"]] == [float(r["final_cost"]) for r in rows]
    assert document["runs"][3]["model.hidden"] == [4] and len(document["runs"][3]["config_hash"]) == 64


def test_export_parquet_has_the_same_rows(cli, sweep_file, tmp_path):
    parquet = pytest.importorskip("pyarrow.parquet")
    store = tmp_path / "results.db"
    assert cli("sweep", "run", sweep_file, "--store", store, "--workers", "1")[0] == 0
    assert cli("sweep", "export", "--store", store, "--format", "parquet", "--out", tmp_path / "r.parquet")[0] == 0
    table = parquet.read_table(tmp_path / "r.parquet").to_pylist()
    _, out, _ = cli("sweep", "export", "--store", store, "--format", "json")
    assert table == json.loads(out)["runs"]


def _assert_one_error_line(code, out, err, *fragments):
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("replace, fragments", [
    (('activation = "tanh"', 'activaton = "tanh"'), ["model.activaton: unknown key (did you mean 'model.activation'?)"]),
    (('["zeros", "he_normal"]', "[]"), ["model.init: the grid axis is empty ([])"]),
    (('"he_normal"]', '"he_norml"]'), ["model.init: unknown scheme 'he_norml' (did you mean 'he_normal'?)"]),
    (('data = "circles"', 'data = "circle"'), ["data: unknown dataset 'circle' (did you mean 'circles'?)"]),
])
@pytest.mark.parametrize("command", ["plan", "run"])
def test_bad_sweep_file_is_one_line_exit_2_and_no_store(cli, tmp_path, command, replace, fragments):
    path = tmp_path / "bad.toml"
    path.write_text(TINY_TOML.replace(*replace))
    store = tmp_path / "results.db"
    extra = ["--store", store] if command == "run" else []
    _assert_one_error_line(*cli("sweep", command, path, *extra), "bad.toml: ", *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_bad_sweep_leaves_an_existing_store_as_it_was(cli, tmp_path, sweep_file):
    store = tmp_path / "results.db"
    assert cli("sweep", "run", sweep_file, "--store", store, "--workers", "1")[0] == 0
    before = store.read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY_TOML.replace("seeds = 2", "seeds = 5").replace('"he_normal"]', '"he_norml"]'))
    _assert_one_error_line(*cli("sweep", "run", bad, "--store", store), "model.init: unknown scheme")
    assert store.read_bytes() == before


def test_foreign_stores_are_refused_untouched(cli, tmp_path, sweep_file):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    _assert_one_error_line(*cli("sweep", "run", sweep_file, "--store", text),
                           f"--store: not an initlab store (not a SQLite database; give a new file name or an existing store), "
                           f"got '{text}'")
    assert text.read_text() == "hello\n"
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    before = other.read_bytes()
    for argv in (["run", sweep_file], ["status"], ["export"]):
        _assert_one_error_line(*cli("sweep", *argv, "--store", other),
                               f"--store: a SQLite database but not an initlab store (tables: t; give a new file name "
                               f"or an existing store), got '{other}'")
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other.db", "sweep.toml"]


def test_unreachable_scheduler_is_one_line_and_fast(cli, tmp_path, sweep_file):
    store = tmp_path / "results.db"
    _assert_one_error_line(*cli("sweep", "run", sweep_file, "--store", store, "--scheduler",
                        "tcp://127.0.0.1:9", "--timeout", "0.5"),
                           "--scheduler: cannot reach 'tcp://127.0.0.1:9' within 0.5 s")
    assert not store.exists()


@pytest.mark.parametrize("argv, fragment", [
    (["run", "SWEEP", "--store", "STORE", "--workers", "0"], "--workers: expected a positive integer, got 0"),
    (["run", "SWEEP", "--store", "STORE", "--workers", "2", "--scheduler", "tcp://x:1"], "--workers: give --workers or --scheduler, not both"),
    (["status", "--store", "STORE"], "--store: no such file ('initlab sweep run FILE --store STORE' creates it), got 'STORE'"),
    (["export", "--store", "STORE"], "--store: no such file ('initlab sweep run FILE --store STORE' creates it), got 'STORE'"),
    (["export", "--store", "STORE", "--format", "xlsx"], "--format: unknown format 'xlsx'"),
    (["export", "--store", "STORE", "--format", "parquet"], "--out: parquet is a binary format"),
    (["export", "--store", "STORE", "--out", "STORE"], "--out: 'STORE' is the store itself"),
    (["plan", "MISSING"], "missing.toml: no such sweep file"),
])
def test_bad_arguments_are_one_line_exit_2(cli, tmp_path, sweep_file, argv, fragment):
    store, missing = tmp_path / "results.db", tmp_path / "missing.toml"
    names = {"SWEEP": sweep_file, "STORE": store, "MISSING": missing}
    _assert_one_error_line(*cli("sweep", *[names.get(a, a) for a in argv]),
                           fragment.replace("STORE", str(store)))
    assert not store.exists()


def test_interrupt_says_in_one_line_how_to_resume(cli, tmp_path, sweep_file, monkeypatch):
    import initlab.experiments.sweep as sweep_api
    from initlab.experiments.sweep import SweepReport

    def interrupted(*args, on_progress, **kwargs):
        on_progress(0, 4)
        raise sweep_api.SweepInterrupted(SweepReport(tmp_path / "results.db", 4, 0, 1))

    monkeypatch.setattr(sweep_api, "run_sweep", interrupted)
    code, out, err = cli("sweep", "run", sweep_file, "--store", tmp_path / "results.db", "--workers", "2")
    assert code == 130 and out == ""
    assert err.strip() == (f"interrupted: 1 of 4 runs stored in {tmp_path / 'results.db'}; resume with: "
                           f"initlab sweep run {sweep_file} --store {tmp_path / 'results.db'} --workers 2")


THREE_CLASSES_SIGMOID = TINY_TOML.replace('data = "circles"', 'data = "blobs:3"').replace(
    'hidden = "4"', 'hidden = "4"\noutput = "sigmoid"')


@pytest.mark.parametrize("text, fragment", [
    (THREE_CLASSES_SIGMOID, "bad.toml: model.output: sigmoid separates 2 classes, but 'blobs:3' has 3"),
    (TINY_TOML.replace('"circles"', '"file:missing.npz"'), "bad.toml: data: file 'missing.npz' does not exist"),
])
def test_data_that_does_not_fit_fails_before_the_store_is_created(cli, tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    _assert_one_error_line(*cli("sweep", "run", path, "--store", tmp_path / "results.db"), fragment)
    assert not (tmp_path / "results.db").exists()
