"""`initlab coordcheck`: one JSON document of the contract's shape on stdout, the folder --out writes, and
bad input as one line on stderr with exit code 2."""

import json
import textwrap

import pytest

pytest.importorskip("torch")

MLP = "examples.width_models:mlp"
SMALL = ("--widths", "8,16,32", "--steps", "2", "--seeds", "2", "--input-shape", "16", "--n-samples", "8")


def test_json_document_has_the_contract_shape(cli):
    code, out, err = cli("coordcheck", "--torch", MLP, *SMALL, "--json")
    assert code == 0, err
    doc = json.loads(out)  # one document, nothing else on stdout
    assert doc["axis"] == "width" and doc["widths"] == [8, 16, 32] and doc["steps"] == 2
    assert doc["verdict"] in ("stable", "grows", "shrinks")
    assert [m["name"] for m in doc["modules"]] == [str(i) for i in range(7)]  # Linear, ReLU, ..., readout
    for module in doc["modules"]:
        assert set(module) == {"name", "role", "rms", "slopes", "slope_spread", "verdict", "broken_at", "delta",
                               "delta_slopes", "delta_spread", "delta_verdict", "delta_broken_at"}
        assert module["delta"][0] == [0.0, 0.0, 0.0]  # no update before the first step
        assert len(module["rms"]) == 3 and all(len(row) == 3 for row in module["rms"])  # [step][width]
        assert len(module["slopes"]) == 3
    assert doc["modules"][0]["role"] == "embedding" and doc["modules"][-1]["role"] == "readout"
    assert doc["config"]["command"].startswith(f"initlab coordcheck --torch {MLP} --width-arg width --widths 8,16,32")
    assert "verdict:" in err and "update slope 2" in err


@pytest.mark.slow
def test_out_writes_the_json_the_figure_and_the_report(cli, tmp_path):
    code, out, err = cli("coordcheck", "--torch", MLP, *SMALL, "--out", str(tmp_path / "cc"), "--json")
    assert code == 0, err
    folder = tmp_path / "cc"
    assert json.loads((folder / "coordcheck.json").read_text()) == json.loads(out)
    assert (folder / "coordcheck.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (folder / "report.html").read_text()
    assert "data:image/png;base64," in page and "initlab coordcheck --torch" in page
    assert page.count("<tr class=") == 7  # one row per module


def test_depth_check_names_the_depth_argument(cli):
    code, out, err = cli("coordcheck", "--torch", "examples.width_models:residual_mlp(width=8)", "--depths", "1,2,4",
                         "--steps", "1", "--seeds", "1", "--input-shape", "16", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["axis"] == "depth" and doc["depths"] == [1, 2, 4] and "widths" not in doc
    assert "--depth-arg depth --depths 1,2,4" in doc["config"]["command"]


ARGMAX = textwrap.dedent("""
    from torch import nn

    class Argmax(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = nn.Linear(4, width)

        def forward(self, x):
            return self.fc(x).argmax(-1)

    def build(width=8):
        return Argmax(width)
""")


@pytest.mark.parametrize("options, line", [
    (("--torch", MLP, "--width-arg", "hidden"), "error: --width-arg: the factory examples.width_models:mlp has no "
                                                "argument 'hidden' (its arguments: width, depth, d_in, d_out)"),
    (("--torch", MLP, "--widths", "64,32,128"), "error: --widths: expected at least 3 increasing positive "
                                                "integers, got [64, 32, 128]"),
    (("--torch", MLP, "--widths", "64,128"), "error: --widths: expected at least 3 increasing positive integers, "
                                             "got [64, 128]"),
    (("--torch", MLP, "--widths", "8,16,32", "--lr", "0"), "error: --lr: expected a positive number, got 0.0"),
    (("--torch", MLP, "--widths", "8,16,32", "--steps", "0"), "error: --steps: expected a positive integer, got 0"),
    (("--torch", MLP, "--widths", "8,16,32", "--optimizer", "lbfgs"), "error: --optimizer: expected one of adam, "
                                                                      "sgd"),
    (("--torch", "examples.width_models:mlp(width=3)"), "error: --torch: 'examples.width_models:mlp(width=3)' sets "
                                                        "width=, which the check varies; drop it there"),
    (("--torch", MLP, "--max-memory", "10KB"), "error: --torch: "),
    (("--torch", "argmax_model:build", "--widths", "8,16,32"), "error: --torch: the model's output is not floating "
                                                               "(torch.int64)"),
])
def test_bad_input_is_one_line_and_exit_code_2(cli, tmp_path, monkeypatch, options, line):
    (tmp_path / "argmax_model.py").write_text(ARGMAX)
    monkeypatch.chdir(tmp_path)
    shape = () if "--input-shape" in options else ("--input-shape", "4" if "argmax" in options[1] else "16")
    code, out, err = cli("coordcheck", *options, *shape)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(line), err
