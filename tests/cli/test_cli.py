"""The `initlab` command: JSON documents on stdout, one-line errors with exit code 2."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from initlab.init import SCHEMES


def test_schemes_json_lists_every_scheme_with_its_formula_and_source(cli):
    document = cli.json("schemes")
    names = [row["name"] for row in document["schemes"]]
    assert names == list(SCHEMES)
    he = next(row for row in document["schemes"] if row["name"] == "he_normal")
    assert he["aliases"] == ["kaiming_normal"] and "fan_mode" in he["formula"] and "kaiming_normal_" in he["source"]


def test_sample_json_std_matches_formula_within_sampling_error(cli):
    document = cli.json("sample", "he_normal", "--shape", "400,250", "--seed", "3")
    n = 400 * 250
    assert document["expected_std"] == pytest.approx(math.sqrt(2 / 400), rel=1e-12)
    # std of a sample std of a normal is sigma / sqrt(2n); allow 5 of those.
    assert abs(document["std"] - document["expected_std"]) < 5 * document["expected_std"] / math.sqrt(2 * n)
    assert document["n"] == n and document["dtype"] == "float64"


def test_sample_float32_and_torch_layout(cli):
    document = cli.json("sample", "he_uniform", "--shape", "32,16,3,3", "--layout", "torch",
                        "--dtype", "float32")
    assert document["dtype"] == "float32"
    assert document["expected_std"] == pytest.approx(math.sqrt(2 / (16 * 9)))
    assert document["max"] <= math.sqrt(6 / (16 * 9))


def test_sample_bfloat16_and_fan_axes(cli):
    document = cli.json("sample", "variance_scaling(in_axis=0, out_axis=(1, 2))", "--shape", "64,8,16",
                        "--dtype", "bfloat16", "--exact")
    assert (document["dtype"], document["exact"], document["fan_in"], document["fan_out"]) == ("bfloat16", True, 64, 128)
    assert document["expected_std"] == pytest.approx(math.sqrt(1 / 64), rel=1e-12)
    # std of a sample std is about sigma / sqrt(2n) (a little more for the truncated normal); bfloat16 adds < 0.4%.
    assert abs(document["std"] / document["expected_std"] - 1) < 6 / math.sqrt(2 * 64 * 8 * 16) + 0.004


def test_gradcheck_json_passes_every_combination(cli):
    document = cli.json("gradcheck")
    assert document["passed"] is True and len(document["checks"]) == 15
    assert max(c["max_relative_error"] for c in document["checks"]) < 1e-7


@pytest.mark.slow
def test_compare_json_shows_the_lesson_and_writes_the_output_folder(cli, tmp_path):
    document = cli.json("compare", "--data", "circles", "--n-samples", "200", "--hidden", "10,5",
                        "--seeds", "2", "--lr", "0.05", "--iterations", "1500", "--out", str(tmp_path))
    summary = {row["init"]: row for row in document["summary"]}
    assert list(summary) == ["zeros", "normal(std=10)", "he_normal", "xavier_normal"]
    assert summary["zeros"]["final_cost_mean"] == math.log(2) and summary["zeros"]["train_accuracy_mean"] == 0.5
    assert summary["he_normal"]["final_cost_mean"] < 0.5 * summary["normal(std=10)"]["final_cost_mean"]
    assert summary["xavier_normal"]["final_cost_mean"] < 0.5 * summary["normal(std=10)"]["final_cost_mean"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boundary.png", "config.json", "cost.png", "report.html", "results.json"]
    assert json.loads((tmp_path / "results.json").read_text()) == document
    assert json.loads((tmp_path / "config.json").read_text())["iterations"] == 1500
    with Image.open(tmp_path / "cost.png") as image:
        assert image.size[0] > 400 and image.size[1] > 300
    with Image.open(tmp_path / "boundary.png") as image:  # rows = 4 schemes, columns = 2 seeds, 2.3 in each
        assert image.size[0] > 2 * 2.3 * 110 and image.size[1] > 4 * 2.3 * 110


def test_preset_fills_settings_and_explicit_options_override(cli, tmp_path):
    document = cli.json("compare", "--preset", "demo", "--iterations", "20", "--seeds", "1",
                        "--no-figures", "--out", str(tmp_path))
    config = document["config"]
    assert config["iterations"] == 20 and config["seeds"] == 1
    assert config["inits"] == ["zeros", "normal(std=10)", "he_normal", "xavier_normal"]
    assert config["n_samples"] == 400 and config["hidden"] == [10, 5]


def test_train_json_is_one_scheme_and_one_seed(cli, tmp_path):
    document = cli.json("train", "--init", "glorot_uniform", "--seed", "7", "--iterations", "50",
                        "--out", str(tmp_path), "--no-figures")
    assert [(r["init"], r["seed"]) for r in document["runs"]] == [("xavier_uniform", 7)]


def write_image_folder(root: Path, classes: dict[str, int]) -> Path:
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for k in range(count):
            Image.new("RGB", (6, 5), (k * 40, 10, 200)).save(root / name / f"{k}.png")
    return root


@pytest.mark.slow
def test_compare_on_an_image_folder(cli, tmp_path):
    folder = write_image_folder(tmp_path / "pets", {"cats": 4, "dogs": 4})
    document = cli.json("compare", "--data", f"images:{folder}", "--test-fraction", "0", "--hidden", "5,5",
                        "--activation", "tanh", "--init", "he_normal", "--seeds", "1", "--iterations", "10",
                        "--out", str(tmp_path / "out"))
    assert document["runs"][0]["train_accuracy"] is not None
    assert not (tmp_path / "out" / "boundary.png").exists()  # 90 features: no 2-D boundary


def bad_inputs(tmp_path):
    single = write_image_folder(tmp_path / "single", {"cats": 2})
    one_class = tmp_path / "one.csv"
    one_class.write_text("a,b,label\n1,2,1\n3,4,1\n5,6,1\n7,8,1\n")
    nan_file = tmp_path / "nan.npz"
    np.savez(nan_file, X=np.array([[np.nan, 1.0], [0.0, 1.0]]), y=np.array([0, 1]))
    return [
        (["sample", "he_norml"], "SPEC: unknown scheme 'he_norml' (did you mean 'he_normal'?)"),
        (["sample", "normal(std=-1)"], "std: expected a positive number, got -1"),
        (["sample", "orthogonal", "--shape", "5"], "shape: 'orthogonal' needs at least 2 dimensions, got [5]"),
        (["sample", "he_normal", "--shape", "4,x"], "shape: expected comma-separated positive integers"),
        (["sample", "he_normal", "--dtype", "int8"],
         "dtype: expected one of float16, bfloat16, float32, float64, got 'int8'"),
        (["sample", "lecun_normal(in_axis=3)", "--shape", "4,5"], "in_axis: axis 3 is out of range for shape [4, 5]"),
        (["sample", "lecun_normal(in_axis=0, out_axis=0)", "--shape", "4,5"],
         "out_axis: axis 0 of shape [4, 5] is already in_axis; each axis may have one role"),
        (["sample", "lecun_normal(in_axis=x)"], "in_axis: expected an axis or a tuple of axes"),
        (["sample", "normal(in_axis=0)"], "'normal' has no parameter 'in_axis'"),
        (["sample", "variance_scaling(mode=fan_geo)"], "unknown mode 'fan_geo' (did you mean 'fan_geo_avg'?)"),
        (["sample", "dirac(groups=3)", "--shape", "3,3,4,8"], "groups: dirac needs out channels divisible by groups"),
        (["sample", "sparse(sparsity=1.5)"], "sparsity: expected a non-negative number <= 1, got 1.5"),
        (["compare", "--hidden", "10,-5"], "hidden: expected positive integers"),
        (["compare", "--data", "circels"], "data: unknown dataset 'circels' (did you mean 'circles'?)"),
        (["compare", "--init", "he_norml"], "did you mean 'he_normal'?"),
        (["compare", "--preset", "dmeo"], "preset: unknown preset 'dmeo' (did you mean 'demo'?)"),
        (["compare", "--seeds", "abc"], "Invalid value for '--seeds'"),
        (["compare", "--bogus"], "No such option: --bogus"),
        (["compare", "--data", f"images:{tmp_path / 'missing'}"], "does not exist"),
        (["compare", "--data", f"images:{single}"], "need at least 2"),
        (["compare", "--data", f"file:{nan_file}"], "NaN"),
        (["compare", "--data", "blobs:3", "--output", "sigmoid"],
         "--output: sigmoid separates 2 classes, but 'blobs:3' has 3; use softmax"),
        (["compare", "--data", f"file:{one_class}"], "has a single class in its training labels"),
        (["compare", "--n-samples", "0"], "--n-samples: expected a positive integer, got 0"),
        (["sample", "HE_NORMAL"], "did you mean 'he_normal'?"),
        (["sample", "he_normal", "--seed", "-1"], "--seed: expected a non-negative integer, got -1"),
        (["gradcheck", "--tolerance", "nan"], "--tolerance: expected a positive number, got nan"),
        (["gradcheck", "--tolerance", "-1"], "--tolerance: expected a positive number, got -1"),
        (["train", "--lr", "-1"], "lr: expected a positive number, got -1"),
        (["compare", "--target-cost", "-1"], "--target-cost: expected a non-negative number, got -1"),
        (["train", "--target-accuracy", "1.5"], "--target-accuracy: expected a fraction in (0, 1], got 1.5"),
        (["compare", "--data", "teacher:linear", "--target-accuracy", "0.9"],
         "--target-accuracy: a linear (regression) output has no accuracy"),
        (["compare", "--data", "teacher:cnn"], "--data: 'teacher:cnn': expected teacher:linear or teacher:mlp"),
    ]


def test_every_bad_input_is_one_line_on_stderr_with_exit_code_2(cli, tmp_path):
    for argv, expected in bad_inputs(tmp_path):
        out_option = ["--out", str(tmp_path / "never")] if argv[0] in ("compare", "train") else []
        code, out, err = cli(*argv, *out_option)
        assert code == 2, (argv, err)
        assert out == "", argv
        assert err.count("\n") == 1 and expected in err, (argv, err)
        assert "Traceback" not in err
    assert not (tmp_path / "never").exists()  # nothing half-written


@pytest.mark.slow
def test_console_script_exits_2_without_traceback():
    script = Path(sys.executable).with_name("initlab")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "initlab.cli"]
    done = subprocess.run([*command, "compare", "--hidden", "10,-5"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert done.returncode == 2
    assert done.stdout == "" and done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr


def test_output_path_that_is_a_file_fails_before_training(cli, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    code, out, err = cli("compare", "--iterations", "5", "--out", str(taken))
    assert code == 2 and out == "" and err.count("\n") == 1 and "exists and is not a folder" in err
    assert taken.read_text() == "keep me"


def test_human_readable_tables_go_to_stderr_not_stdout(cli):
    code, out, err = cli("schemes")
    assert code == 0 and out == "" and "he_normal" in err
