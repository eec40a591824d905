"""`initlab report`: from a compare's results.json or a sweep store to one HTML page; bad input is one line."""

import json

import pytest

from initlab.experiments import CompareConfig, run_compare


@pytest.mark.parametrize("args, message", [
    (["--store", "{tmp}/missing.db"], "error: --store: no such file (give the results.db of a sweep), got '{tmp}/missing.db'"),
    ([], "error: --store: give exactly one of --store FILE (a sweep) or --results FILE (a compare)"),
    (["--store", "a.db", "--results", "b.json"],
     "error: --store: give exactly one of --store FILE (a sweep) or --results FILE (a compare)"),
    (["--results", "{tmp}/missing.json"],
     "error: --results: '{tmp}/missing.json' does not exist; give the results.json of a compare run folder"),
    (["--results", "{tmp}/bad.json"], "error: --results: '{tmp}/bad.json' is not a compare result (expected 'config' "
                                      "and a non-empty 'runs')"),
    (["--results", "{tmp}/ok.json", "--out", "{tmp}"], "error: --out: '{tmp}' is a folder; give a file name such as "
                                                      "report.html"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(cli, tmp_path, args, message):
    (tmp_path / "bad.json").write_text(json.dumps({"config": {}, "runs": []}))
    (tmp_path / "ok.json").write_text(json.dumps({"config": {"inits": ["zeros"]}, "runs": [
        {"init": "zeros", "seed": 0, "final_cost": 0.69, "diverged": False}]}))
    code, out, err = cli("report", *(a.format(tmp=tmp_path) for a in args))
    assert (code, out, err) == (2, "", message.format(tmp=tmp_path) + "\n")


def test_report_from_a_compare_results_file(cli, tmp_path):
    result = run_compare(CompareConfig(data="moons", n_samples=80, hidden=(4,), inits=("zeros", "he_normal"),
                                       seeds=2, iterations=50))
    (tmp_path / "results.json").write_text(json.dumps(result.to_json()))
    code, out, err = cli("report", "--results", tmp_path / "results.json", "--out", tmp_path / "r.html",
                         "--title", "moons <2 schemes>")
    assert (code, out) == (0, "")
    assert err.strip() == f"wrote {tmp_path / 'r.html'} (4 runs)"
    page = (tmp_path / "r.html").read_text()
    assert "<title>moons &lt;2 schemes&gt;</title>" in page and page.count('<tr id="point-') == 2


def test_report_from_a_sweep_store(cli, tmp_path):
    try:
        from initlab.experiments.sweep import Store
    except ImportError:
        pytest.skip("initlab.experiments.sweep.Store is not available yet")
    config = CompareConfig(data="moons", n_samples=80, hidden=(4,), inits=("he_normal",), seeds=2, iterations=50)
    document = run_compare(config).to_json()
    settings = {k: v for k, v in document["config"].items() if k not in ("seeds", "first_seed")}
    with Store(tmp_path / "results.db", create=True) as store:
        for run_record in document["runs"]:
            store.add(f"key-{run_record['seed']}", "hash", settings, run_record)
    code, out, err = cli("report", "--store", tmp_path / "results.db", "--out", tmp_path / "sweep.html")
    assert (code, out) == (0, "") and "(2 runs)" in err
    page = (tmp_path / "sweep.html").read_text()
    assert "<title>initlab sweep: results.db</title>" in page and page.count('<tr id="point-') == 1
