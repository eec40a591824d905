"""`initlab diagnose` from the command line: the acceptance examples, the recommended command
really fixes the problem, the files it writes, and one-line errors with exit code 2."""

import json
import shlex
import textwrap

import pytest


DEEP_RELU = ("--data", "circles", "--hidden", "100x30", "--activation", "relu")


def run(cli, tmp_path, *argv):
    """``initlab diagnose ARGV --out TMP/out --json``: (exit code, the document or None, stderr)."""
    code, out, err = cli("diagnose", *argv, "--out", tmp_path / "out", "--json")
    return code, (json.loads(out) if code == 0 else None), err


@pytest.mark.slow
def test_xavier_on_30_relu_layers_is_vanishing_and_the_recommended_command_makes_it_ok(cli, tmp_path):
    code, doc, err = run(cli, tmp_path, *DEEP_RELU, "--init", "xavier_normal")
    assert code == 0, err
    assert doc["verdict"] == "vanishing"
    assert len(doc["layers"]) == 31  # 30 hidden + the output layer
    first, last = doc["layers"][0], doc["layers"][29]
    assert last["activation_std"] / first["activation_std"] < 1e-3  # orders of magnitude
    assert {"index", "activation_std", "expected_activation_std", "grad_std", "expected_grad_std",
            "saturated_fraction", "dead_fraction", "duplicate_groups"} <= set(first)
    fix = doc["recommendation"]
    assert fix["scheme"] == "he_normal"
    words = shlex.split(fix["command"])
    assert words[:2] == ["initlab", "diagnose"] and words[words.index("--init") + 1] == "he_normal"
    code, fixed, err = run(cli, tmp_path, *words[2:])
    assert code == 0, err
    assert fixed["verdict"] == "ok" and fixed["recommendation"] is None


@pytest.mark.slow
def test_diagnose_writes_json_figure_and_report_and_prints_a_table(cli, tmp_path):
    code, doc, err = run(cli, tmp_path, "--hidden", "20x4", "--init", "zeros")
    assert code == 0, err
    assert doc["verdict"] == "symmetric"
    out = tmp_path / "out"
    assert json.loads((out / "diagnose.json").read_text()) == doc
    assert (out / "diagnose.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text()
    assert "symmetric" in page and page.count('<tr class="') == len(doc["layers"])
    assert "verdict: symmetric" in err and "layer 1: all 20 units identical" in err


@pytest.mark.slow
def test_normal_std_10_with_tanh_is_saturated(cli, tmp_path):
    code, doc, err = run(cli, tmp_path, "--hidden", "100x10", "--activation", "tanh", "--init", "normal(std=10)")
    assert code == 0, err
    assert doc["verdict"] == "saturated"
    assert max(layer["saturated_fraction"] for layer in doc["layers"][:-1]) > 0.9


@pytest.mark.slow
def test_dead_units_from_negative_biases_get_a_command_that_resets_the_biases(cli, tmp_path):
    code, doc, err = run(cli, tmp_path, "--hidden", "50x5", "--bias-init", "constant(value=-1)")
    assert code == 0, err
    assert doc["verdict"] == "dead"
    words = shlex.split(doc["recommendation"]["command"])
    assert words[words.index("--bias-init") + 1] == "zeros"
    code, fixed, err = run(cli, tmp_path, *words[2:])
    assert code == 0, err
    assert fixed["verdict"] == "ok"


@pytest.mark.slow
def test_an_init_already_at_its_optimum_is_kept_not_recommended_again(cli, tmp_path):
    # 4 units per layer: relu units die from finite width, not from the init (He already).
    code, doc, err = run(cli, tmp_path, "--hidden", "4x30")
    assert code == 0, err
    assert doc["verdict"] == "dead"
    fix = doc["recommendation"]
    assert fix["at_optimum"] and fix["scheme"] == "he_normal" and "command" not in fix
    assert "keep: he_normal" in err and "check it" not in err


@pytest.mark.slow
def test_gaussian_inputs_of_784_features(cli, tmp_path):
    code, doc, err = run(cli, tmp_path, "--data", "gaussian:784", "--hidden", "256x20", "--init", "he_normal")
    assert code == 0, err
    assert doc["verdict"] == "ok"
    assert doc["layers"][0]["fan_in"] == 784


FACTORIES = textwrap.dedent("""
    import torch.nn as nn

    def deep_relu():
        layers = [nn.Linear(64, 128), nn.ReLU()]
        for _ in range(29):
            layers += [nn.Linear(128, 128), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(128, 10))

    def small_cnn():
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                             nn.Flatten(), nn.Linear(8 * 8 * 8, 10))

    def mlp(depth=2, width=8, inputs=4, activation="relu"):
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        layers = [nn.Linear(inputs, width), act()]
        for _ in range(depth - 1):
            layers += [nn.Linear(width, width), act()]
        return nn.Sequential(*layers, nn.Linear(width, 3))

    class Tokens(nn.Module):
        # token ids -> a dict of two outputs, like a Hugging Face model

        def __init__(self, vocab):
            super().__init__()
            self.embed, self.mix, self.head = nn.Embedding(vocab, 16), nn.Linear(16, 16), nn.Linear(16, 4)

        def forward(self, ids):
            hidden = self.mix(self.embed(ids)).tanh()
            return {"logits": self.head(hidden.mean(1)), "hidden": hidden}

    def tokens(vocab=20):
        return Tokens(vocab)

    def parameter_free():
        return nn.Sequential(nn.ReLU())

    def not_a_module():
        return 42

    def broken():
        raise RuntimeError("no weights file")

    class Tied(nn.Module):
        # a language model whose output layer shares the token embedding's table

        def __init__(self, vocab):
            super().__init__()
            self.embed, self.head = nn.Embedding(vocab, 16), nn.Linear(16, vocab, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, ids):
            return self.head(self.embed(ids).mean(1))

    def tied(vocab=20):
        return Tied(vocab)

    NOT_CALLABLE = 3
""")


@pytest.fixture
def factories(tmp_path, monkeypatch):
    (tmp_path / "my_models.py").write_text(FACTORIES)
    monkeypatch.chdir(tmp_path)  # the CLI imports factories from the current folder, as `python -m` does
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_models"


@pytest.mark.slow
def test_torch_model_with_xavier_is_vanishing_and_auto_fixes_it(cli, tmp_path, factories):
    base = ("--torch", f"{factories}:deep_relu", "--input-shape", "64")
    code, doc, err = run(cli, tmp_path, *base, "--init", "xavier_normal")
    assert code == 0, err
    assert doc["verdict"] == "vanishing"
    assert doc["recommendation"]["python"].startswith("initlab.torch.apply(model, 'he_normal'")
    code, fixed, err = run(cli, tmp_path, *base, "--init", "auto")
    assert code == 0, err
    assert fixed["verdict"] == "ok"


@pytest.mark.slow
def test_torch_bias_init_goes_to_initlab_torch_apply(cli, tmp_path, factories):
    code, doc, err = run(cli, tmp_path, "--torch", f"{factories}:deep_relu", "--input-shape", "64",
                         "--init", "he_normal", "--bias-init", "constant(value=-1)")
    assert code == 0, err
    assert doc["verdict"] == "dead"
    assert all(layer["sigma_b2"] == 1.0 for layer in doc["layers"])


@pytest.mark.slow
def test_no_figures_removes_an_earlier_runs_figure_and_report(cli, tmp_path):
    assert run(cli, tmp_path, "--hidden", "10x2")[0] == 0
    assert run(cli, tmp_path, "--hidden", "10x2", "--no-figures")[0] == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["diagnose.json"]


@pytest.mark.slow
def test_torch_cnn_on_digits_reshaped_to_images(cli, tmp_path, factories):
    code, doc, err = run(cli, tmp_path, "--torch", f"{factories}:small_cnn", "--data", "digits",
                         "--input-shape", "1,8,8", "--init", "he_normal")
    assert code == 0, err
    assert [layer["units"] for layer in doc["layers"]] == [8, 8, 10]


@pytest.mark.parametrize("argv, message", [
    (("--activation", "rleu"), "--activation: unknown activation 'rleu' (did you mean 'relu'?)"),
    (("--init", "normal(std=-1)"), "std"),
    (("--hidden", "0x3"), "--hidden: expected WIDTHxDEPTH with positive numbers"),
    (("--input-shape", "3,8,8"), "--input-shape: only used with --torch"),
    (("--torch", "no_such_module_xyz:build"), "--torch: cannot import module 'no_such_module_xyz'"),
    (("--torch", "my_models:nothing"), "--torch: module 'my_models' has no function 'nothing'"),
    (("--torch", "my_models:NOT_CALLABLE"), "--torch: module 'my_models' has a non-callable 'NOT_CALLABLE'"),
    (("--torch", "my_models:not_a_module", "--input-shape", "4"),
     "--torch: factory 'my_models:not_a_module' returned int, expected a torch.nn.Module"),
    (("--torch", "my_models:broken", "--input-shape", "4"), "raised RuntimeError: no weights file"),
    (("--torch", "my_models"), "--torch: expected 'module.path:factory'"),
    (("--torch", "my_models:mlp(depth=__import__('os').getpid())"), "with literal values, got"),
    (("--torch", "my_models:mlp(3)"), "--torch: expected 'module.path:factory' or 'module.path:factory(key=value"),
    (("--torch", "my_models:mlp(depht=3)", "--input-shape", "4"),
     "--torch: factory 'my_models:mlp(depht=3)' raised TypeError: mlp() got an unexpected keyword argument 'depht'"),
    (("--torch", "my_models:deep_relu", "--input-shape", "3,32"), "--input-shape: the model rejected a batch of shape"),
    (("--torch", "my_models:deep_relu"), "--input-shape: give --input-shape"),
    (("--torch", "my_models:tokens", "--data", "tokens:20", "--input-shape", "6", "--output", "nope"),
     "--output: the model's output has no key 'nope'; its keys: logits, hidden"),
    (("--torch", "my_models:tokens", "--input-dtype", "long", "--input-shape", "6"),
     "--vocab: --input-dtype long draws token ids 0..N-1: give --vocab N"),
    (("--torch", "my_models:tokens", "--input-dtype", "int8", "--input-shape", "6"),
     "--input-dtype: expected float or long, got 'int8'"),
    (("--torch", "my_models:deep_relu", "--input-shape", "64", "--vocab", "5", "--input-dtype", "float"),
     "--vocab: draws token ids 0..vocab-1, which --input-dtype float contradicts"),
    (("--torch", "my_models:tokens", "--data", "tokens:0", "--input-shape", "6"),
     "--data: expected 'tokens:VOCAB' with a positive integer VOCAB, got 'tokens:0'"),
    (("--torch", "my_models:tokens", "--data", "tokens:20", "--input-shape", "6", "--input-dtype", "float"),
     "--input-dtype: --data tokens:20 gives token ids (long), not floats"),
    (("--torch", "my_models:tokens", "--input-shape", "6"), "--input-shape: the model rejected a batch of shape "
                                                             "[256, 6]: Expected tensor for argument #1 'indices'"),
    (("--torch", "my_models:tokens", "--input-shape", "6"), "(a token model? give --vocab N)\n"),
    (("--torch", "my_models:tokens", "--input-shape", "6", "--init", "lsuv"), "(a token model? give --vocab N)\n"),
    (("--torch", "my_models:deep_relu", "--data", "tokens:20", "--input-shape", "64"),
     "--input-shape: the model rejected a batch of shape [256, 64]: "),
    (("--torch", "my_models:tokens(vocab=10)", "--data", "tokens:20", "--input-shape", "6"),
     "--input-shape: the model rejected a batch of shape [256, 6]: index out of range"),
    (("--torch", "my_models:parameter_free", "--input-shape", "6"), "--torch: Sequential has no parameters"),
    (("--output", "logits"), "--output: only used with --torch"),
    (("--n-samples", "1"), "--n-samples: expected an integer >= 2"),
    (("--init", "auto"), "--init: 'auto' is initlab.torch's and needs --torch"),
    (("--torch", "my_models:deep_relu", "--input-shape", "64", "--hidden", "10x3", "--activation", "tanh"),
     "--torch: --hidden and --activation only shape an initlab MLP"),
    (("--torch", "my_models:deep_relu", "--input-shape", "64", "--init", "auto", "--bias-init", "zeros"),
     "--bias-init: with --torch it goes with a scheme in --init"),
])
def test_bad_input_is_one_line_with_exit_code_2(cli, tmp_path, factories, argv, message):
    code, _, err = run(cli, tmp_path, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_batch_and_weights_come_from_independent_streams(cli, tmp_path, factories):
    # One stream for both would make the first layer's weight rows copies of the input rows: z[i, i]
    # would stand out from the rest of z by ~sqrt(fan_in) standard deviations.
    import torch
    from initlab.diagnose.command import Options
    from initlab.diagnose.sources import Seeds, load_factory, torch_batch
    import initlab.torch
    seeds = Seeds.spawn(0)
    model = load_factory(f"{factories}:deep_relu", seeds.factory)
    initlab.torch.apply(model, "he_normal", seed=seeds.weights)
    batch, _ = torch_batch((64,), 256, seeds.batch)
    with torch.no_grad():
        z = model[0](batch)[:, :128] - model[0].bias[:128]
    diagonal, rest = torch.diagonal(z[:128]), z.std()
    assert diagonal.abs().max() < 5 * rest
    assert dict(Options(seed=0).flags())["--seed"] is None


@pytest.mark.slow
def test_a_torch_model_with_its_default_init_is_the_same_at_every_run(cli, tmp_path, factories):
    argv = ("--torch", f"{factories}:deep_relu", "--input-shape", "64", "--no-figures")
    first = run(cli, tmp_path, *argv)[1]
    second = run(cli, tmp_path, *argv)[1]
    assert first == second and first["layers"][0]["pre_std"] > 0


def test_a_factory_takes_literal_keyword_arguments(cli, tmp_path, factories):
    code, doc, err = run(cli, tmp_path, "--torch", "my_models:mlp(depth=5, width=16, activation='tanh')",
                         "--input-shape", "4")
    assert code == 0, err
    assert [layer["units"] for layer in doc["layers"]] == [16] * 5 + [3]
    assert [layer["activation"] for layer in doc["layers"]] == ["tanh"] * 5 + ["identity"]


def test_token_ids_from_a_tokens_spec_input_dtype_long_or_vocab_alone_are_the_same_batch(cli, tmp_path, factories):
    code, spec, err = run(cli, tmp_path, "--torch", "my_models:tokens", "--data", "tokens:20", "--input-shape", "6")
    assert code == 0, err
    code, flags, err = run(cli, tmp_path, "--torch", "my_models:tokens", "--input-dtype", "long", "--vocab", "20",
                           "--input-shape", "6")
    assert code == 0, err
    code, vocab_alone, err = run(cli, tmp_path, "--torch", "my_models:tokens", "--vocab", "20", "--input-shape", "6")
    assert code == 0, err  # --vocab implies --input-dtype long
    assert spec["layers"] == flags["layers"] == vocab_alone["layers"]
    assert [(layer["name"], layer["kind"]) for layer in spec["layers"]] == [
        ("embed", "embedding"), ("mix", "dense"), ("head", "dense")]
    embed = spec["layers"][0]
    assert embed["units"] == 16 and embed["positions"] == 6  # (n, 16, 6): units on axis 1, positions after


def test_output_chooses_what_the_loss_reads_and_names_the_layers_it_cannot_reach(cli, tmp_path, factories):
    code, doc, err = run(cli, tmp_path, "--torch", "my_models:tokens", "--data", "tokens:20", "--input-shape", "6",
                         "--output", "hidden", "--init", "lsuv")
    assert code == 0, err
    assert [layer["name"] for layer in doc["layers"]] == ["embed", "mix"]
    assert any(line.startswith("not diagnosed: head (the selected output does not depend on it)")
               for line in doc["evidence"])


def test_a_tied_tensor_left_alone_by_init_is_one_clean_line_not_a_python_warning(cli, tmp_path, factories):
    import warnings

    from initlab.torch import TiedParameterWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedParameterWarning)  # one escaping diagnose would fail the run
        code, doc, err = run(cli, tmp_path, "--torch", "my_models:tied", "--vocab", "20", "--input-shape", "6",
                             "--init", "he_normal")
    assert code == 0, err
    assert doc["layers"]
    lines = [line for line in err.splitlines() if "tied:" in line or "Warning" in line]
    assert lines == ["--init he_normal: tied: left alone embed.weight (also head.weight): shared by different "
                     "modules (tied='skip'; tied='owner' initialises each once by its owner's rule)"], err


def test_the_token_hint_is_only_for_a_model_that_starts_with_an_embedding(cli, tmp_path, factories):
    code, _, err = run(cli, tmp_path, "--torch", "my_models:mlp", "--input-shape", "5")  # it takes 4 inputs
    assert code == 2 and "the model rejected a batch of shape [256, 5]" in err and "token model" not in err, err
