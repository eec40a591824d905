"""`initlab audit`: one JSON document, exit 1 on a --fail-on flag, one-line errors with exit 2."""

import json
import textwrap

import pytest

pytest.importorskip("torch")

FACTORIES = textwrap.dedent("""
    import torch
    from torch import nn

    def mlp(width=64):
        return nn.Sequential(nn.Linear(32, width), nn.ReLU(), nn.Linear(width, 10))

    def copied():
        model = mlp()
        model.add_module("again", nn.Linear(32, 64))
        with torch.no_grad():
            model.again.weight.copy_(model[0].weight)
        return model

    def with_nan():
        model = mlp()
        with torch.no_grad():
            model[0].weight[0, 0] = float("nan")
        return model

    def no_parameters():
        return nn.ReLU()

    def not_a_module():
        return 42

    def broken():
        raise RuntimeError("no weights file")

    class Named(nn.Module):
        def __init__(self):
            super().__init__()
            self.a_module_with_a_really_quite_long_descriptive_name = nn.Linear(8, 8)

    def long_names():
        return Named()
""")


@pytest.fixture
def factories(tmp_path, monkeypatch):
    (tmp_path / "audit_models.py").write_text(FACTORIES)
    monkeypatch.chdir(tmp_path)  # the CLI imports factories from the current folder, as `python -m` does
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "audit_models"


def test_json_has_one_row_per_parameter_with_the_documented_fields(cli, factories):
    result = cli("audit", "--torch", f"{factories}:mlp(width=48)", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert [row["name"] for row in document["parameters"]] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    first = document["parameters"][0]
    assert {"name", "shape", "fan_in", "fan_out", "mean", "std", "match", "p_value", "flags"} <= set(first)
    assert (first["shape"], first["fan_in"], first["fan_out"]) == ([48, 32], 32, 48)
    assert first["match"] == "torch_default (kaiming_uniform a=sqrt(5))" and first["flags"] == []
    assert document["summary"]["parameters"] == 4 and document["summary"]["flagged"] == 0
    assert "0.weight" in result.err and "torch_default" in result.err  # the table is on stderr


def test_same_seed_same_model_and_document_other_seed_other_model(cli, factories):
    first, again = (cli.json("audit", "--torch", f"{factories}:mlp", "--seed", "3") for _ in range(2))
    other = cli.json("audit", "--torch", f"{factories}:mlp", "--seed", "4")
    assert first == again
    assert first["parameters"][0]["mean"] != other["parameters"][0]["mean"]


@pytest.mark.parametrize("factory, fail_on, code", [
    ("mlp", "identical,non_finite,std_off,zero,constant,tied", 0),
    ("copied", "identical", 1),
    ("copied", "non_finite,tied", 0),
    ("with_nan", "std_off,non_finite", 1),
])
def test_fail_on_exits_1_only_when_a_listed_flag_is_raised(cli, factories, factory, fail_on, code):
    result = cli("audit", "--torch", f"{factories}:{factory}", "--fail-on", fail_on, "--json")
    assert result.code == code, result.err
    document = json.loads(result.out)  # the document is printed either way
    flagged = [row["name"] for row in document["parameters"] if set(row["flags"]) & set(fail_on.split(","))]
    assert bool(flagged) == (code == 1)
    if code:
        assert f"--fail-on {fail_on}: {len(flagged)} flagged: {', '.join(flagged)}" in result.err
    if factory == "copied":
        assert "identical: 0.weight = again.weight\n" in result.err


@pytest.mark.parametrize("argv, message", [
    (("--fail-on", "stdoff"), "--fail-on: unknown flag 'stdoff' (did you mean 'std_off'?); choices: constant, "
                              "identical, non_finite, std_off, tied, zero"),
    (("--fail-on", ","), "--fail-on: expected comma-separated flags"),
    (("--torch", "no_such_module_xyz:build"), "--torch: cannot import module 'no_such_module_xyz'"),
    (("--torch", "audit_models:nothing"), "--torch: module 'audit_models' has no function 'nothing'"),
    (("--torch", "audit_models:not_a_module"), "--torch: factory 'audit_models:not_a_module' returned int"),
    (("--torch", "audit_models:broken"), "raised RuntimeError: no weights file"),
    (("--torch", "audit_models:mlp(widht=3)"), "raised TypeError: mlp() got an unexpected keyword argument 'widht'"),
    (("--torch", "audit_models:no_parameters"), "--torch: ReLU has no parameters: nothing to audit"),
    (("--torch", "audit_models:mlp", "--seed", "-1"), "--seed: expected a non-negative integer, got -1"),
])
def test_bad_input_is_one_line_with_exit_code_2(cli, factories, argv, message):
    if "--torch" not in argv:
        argv = ("--torch", "audit_models:mlp", *argv)
    result = cli("audit", *argv, "--json")
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and message in result.err, result.err


def test_missing_torch_option_is_a_usage_error(cli):
    result = cli("audit")
    assert result.code == 2 and "--torch" in result.err


def test_long_names_are_never_cut_in_a_narrow_table(cli, factories, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    result = cli("audit", "--torch", f"{factories}:long_names")
    assert result.code == 0, result.err
    assert "a_module_with_a_really_quite_long_descriptive_name.weight" in result.err


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["audit", "--help"], ["audit", "--torch", "m:f", "--fail-on", "bogus"]])
def test_help_and_a_refused_fail_on_import_no_torch(argv):
    import subprocess
    import sys
    script = (f"import sys\nfrom initlab.cli import main\ncode = main({argv!r})\nassert code in (0, 2), code\n"
              "print('TORCH', 'torch' in sys.modules, 'scipy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rsplit("TORCH", 1)[1].split() == ["False", "False"]
