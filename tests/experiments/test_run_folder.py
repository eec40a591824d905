"""The output folder is written completely or not at all."""

import json

import numpy as np
import pytest

from initlab.experiments import CompareConfig, resolve, run_compare
from initlab.report.folder import write_compare_figures
from initlab.experiments.run_folder import check_out, write_run_folder


def test_regression_on_2d_data_writes_cost_but_no_boundary(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    np.savez(tmp_path / "reg.npz", X=X, y=X[:, 0] * 0.5 + 0.25)
    result = run_compare(CompareConfig(data=f"file:{tmp_path / 'reg.npz'}", hidden=(4,), inits=("he_normal",),
                                       seeds=1, iterations=20))
    names = write_run_folder(result, tmp_path / "out", write_compare_figures)
    assert names == ["config.json", "cost.png", "report.html", "results.json"]
    assert json.loads((tmp_path / "out" / "results.json").read_text())["runs"][0]["train_accuracy"] is None


def test_an_output_path_that_is_a_file_is_refused_before_work(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(ValueError, match=r"out: '.*taken' exists and is not a folder"):
        check_out(target)


def test_preset_note_is_dropped_when_the_data_is_overridden():
    assert "SYNTHETIC STAND-IN" in resolve("article").note
    assert resolve("article", data="circles").note == ""
