"""`initlab apply --torch MODULE:FACTORY --init SPEC`: what the CLI prints and writes is what
`initlab.torch.initialise` does with the same seed; bad input is one line with exit code 2."""

import json
import textwrap

import pytest

torch = pytest.importorskip("torch")

FACTORY = textwrap.dedent("""
    import torch
    from torch import nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.rnn = nn.LSTM(8, 16, batch_first=True)
            self.head = nn.Linear(16, 20)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))

        def forward(self, ids):
            return self.head(self.rnn(self.embed(ids))[0])

    def build(hidden=16):
        return Tagger()
""")


@pytest.fixture
def factory(tmp_path, monkeypatch):
    (tmp_path / "apply_models.py").write_text(FACTORY)
    monkeypatch.chdir(tmp_path)
    yield "apply_models:build"


def test_json_lists_every_parameter_once_with_what_was_done(cli, factory):
    code, out, err = cli("apply", "--torch", factory, "--init", "he_normal", "--recurrent", "orthogonal", "--json")
    assert code == 0, err
    doc = json.loads(out)
    rows = {row["name"]: row for row in doc["parameters"]}
    assert set(rows) == {"embed.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                         "head.weight", "head.bias", "cls_token"}
    assert rows["rnn.weight_hh_l0"]["spec"] == "orthogonal"
    assert [b["label"] for b in rows["rnn.weight_ih_l0"]["blocks"]] == ["i", "f", "g", "o"]
    assert rows["rnn.weight_ih_l0"]["blocks"][0]["std"] == pytest.approx((2 / 8) ** 0.5)
    assert rows["cls_token"]["spec"] is None and "token" in rows["cls_token"]["note"]
    assert rows["embed.weight"]["spec"] is None  # embedding='keep' by default
    assert doc["summary"]["left_alone"] == 2
    assert "cls_token" in err and "left alone: 2" in err


def test_saved_state_is_what_the_python_api_draws_with_the_same_seed(cli, factory, tmp_path):
    code, _, err = cli("apply", "--torch", factory + "(hidden=16)", "--init", "xavier_uniform", "--seed", "3",
                       "--save", tmp_path / "model.pt")
    assert code == 0, err
    saved = torch.load(tmp_path / "model.pt")
    from initlab.diagnose.sources import Seeds, load_factory
    from initlab.torch import initialise
    model = load_factory(factory, Seeds.spawn(3).factory)
    initialise(model, "xavier_uniform", seed=3)
    for name, value in model.state_dict().items():
        assert torch.equal(saved[name], value), name


def test_save_creates_missing_folders_and_an_unwritable_path_is_refused_before_the_model_is_built(
        cli, factory, tmp_path):
    code, _, err = cli("apply", "--torch", factory, "--init", "he_normal", "--save", tmp_path / "no/such/model.pt")
    assert code == 0, err
    assert set(torch.load(tmp_path / "no/such/model.pt")) >= {"head.weight", "rnn.weight_hh_l0"}
    (tmp_path / "a_file").write_text("")
    code, out, err = cli("apply", "--torch", "apply_models:missing", "--init", "he_normal",  # --save is checked first
                         "--save", tmp_path / "a_file/model.pt")
    assert code == 2 and out == ""
    assert "--save: cannot create folder" in err and len(err.strip().splitlines()) == 1, err


def test_overrides_fill_the_named_block(cli, factory):
    code, out, err = cli("apply", "--torch", factory, "--init", "keep", "--override", "rnn.bias_*:f=ones", "--json")
    assert code == 0, err
    doc = json.loads(out)
    rows = {row["name"]: row for row in doc["parameters"]}
    assert {b["label"]: b["spec"] for b in rows["rnn.bias_ih_l0"]["blocks"]} == {
        "i": "zeros", "f": "ones", "g": "zeros", "o": "zeros"}
    assert rows["head.weight"]["spec"] is None and rows["head.bias"]["spec"] == "zeros"


@pytest.mark.parametrize("argv, message", [
    (("--init", "he_normal", "--override", "rnn.bias"), "--override: expected GLOB=SPEC"),
    (("--init", "he_normal", "--override", "nothing.*=zeros"), "matches no parameter"),
    (("--init", "he_nromal"), "--init"),
    (("--init", "he_normal", "--tied", "sometimes"), "--tied"),
    (("--init", "he_normal", "--seed", "-1"), "--seed"),
])
def test_bad_input_is_one_line_with_exit_code_2(cli, factory, argv, message):
    code, out, err = cli("apply", "--torch", factory, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_missing_factory_is_named(cli, factory):
    code, _, err = cli("apply", "--torch", "apply_models:missing", "--init", "he_normal")
    assert code == 2 and "--torch: module 'apply_models' has no function 'missing'" in err
