"""`initlab diagnose` over several schemes and seeds (a study): per-layer histograms, Var(dL/dW), the
two-input correlation against the correlation map, the summary over seeds, and the CLI's checks."""

import json
import math

import numpy as np
import pytest

from initlab.diagnose.command import Options, run
from initlab.diagnose.correlation import correlations
from initlab.diagnose.distributions import layer_distributions
from initlab.diagnose.mlp_probe import capture_mlp
from initlab.diagnose.study import run_study
from initlab.nn.mlp import MLP


def _captures(width, depth, activation, init, bias="zeros", n=32, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, 8))
    net = MLP([8, *[width] * depth, 1], activation=activation, init=init, bias_init=bias, seed=seed)
    return capture_mlp(net, X, np.zeros(n, dtype=int))


def test_histograms_count_every_entry_and_var_dw_is_the_weight_gradients_variance():
    captures = _captures(20, 3, "tanh", "xavier_uniform", n=10)
    layers = layer_distributions(captures)
    for layer, c in zip(layers, captures):
        assert sum(layer["activation"]["counts"]) == c.a.size and sum(layer["grad"]["counts"]) == c.dz.size
        assert sum(layer["weight_grad"]["counts"]) == c.weight_grad.size
        assert layer["weight_grad_var"] == pytest.approx(np.var(c.weight_grad), rel=1e-12)
        edges = layer["activation"]["edges"]
        assert edges[0] == pytest.approx(c.a.min(), rel=1e-5) and edges[-1] == pytest.approx(c.a.max(), rel=1e-5)


@pytest.mark.parametrize("activation, init, bias", [
    ("relu", "he_normal", "zeros"),
    ("tanh", "critical(activation=tanh, sigma_b2=0.05)", "normal(std=0.2236)"),  # critical: c drifts slowly
    ("tanh", "normal(std=0.1)", "zeros")])  # sigma_w^2 = 10 at width 1000: chaotic, c falls toward 0
def test_measured_correlation_follows_the_one_step_correlation_map(activation, init, bias):
    # A sample correlation over n = 1000 coordinates has sd at most about 1/sqrt(n) = 0.032 per pair; the pairs
    # share the weights, so their mean is not much surer. 2.5 sd leaves room for that and fails for a wrong map
    # (e.g. one that ignores the biases or uses the wrong activation: off by 0.1 and more).
    rows = correlations(_captures(1000, 6, activation, init, bias))
    assert [row["layer"] for row in rows] == list(range(1, 7)) and rows[0]["predicted"] is None
    for row in rows[1:]:
        assert abs(row["measured"] - row["predicted"]) < 2.5 / math.sqrt(1000), row


def test_correlation_map_predictions_separate_the_ordered_and_chaotic_phases():
    ordered = correlations(_captures(300, 20, "tanh", "lecun_normal", "normal(std=0.2236)"))
    chaotic = correlations(_captures(300, 20, "tanh", "normal(std=0.2)", "zeros"))  # sigma_w^2 = 12
    assert ordered[-1]["chained"] > 0.95 and ordered[-1]["measured"] > 0.95
    assert chaotic[-1]["chained"] < 0.1 and chaotic[-1]["measured"] < 0.2


def test_a_study_summarises_each_scheme_over_its_seeds_with_the_runs_own_numbers():
    options = Options(hidden="30x4", activation="tanh", n_samples=64, seed=5)
    study = run_study(options, ["xavier_uniform", "uniform(limit=0.01)"], seeds=3)
    assert [(r.init, r.seed) for r in study.runs] == [(i, s) for i in ("xavier_uniform", "uniform(limit=0.01)")
                                                      for s in (5, 6, 7)]
    single = run(Options(hidden="30x4", activation="tanh", n_samples=64, seed=6, init="uniform(limit=0.01)"))
    assert study.runs[4].diagnosis.layers == single.layers  # seed 6 of the second scheme: the same diagnosis
    summary = study.summary()
    assert summary[1]["verdicts"] == {"vanishing": 3} and summary[0]["seeds"] == 3
    stds = [run.diagnosis.layers[2].activation_std for run in study.of("xavier_uniform")]
    assert summary[0]["layers"][2]["activation_std"] == [np.median(stds), min(stds), max(stds)]
    doc = json.loads(json.dumps(study.to_json(), allow_nan=False))
    assert len(doc["runs"]) == 6 and {"distributions", "correlation"} <= set(doc["runs"][0])


@pytest.mark.slow
def test_cli_study_writes_its_files_and_refuses_bad_studies_in_one_line(cli, tmp_path):
    code, out, err = cli("diagnose", "--hidden", "20x3", "--n-samples", "32", "--init", "he_normal", "--init",
                         "zeros", "--seeds", "2", "--out", tmp_path / "study", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [s["init"] for s in doc["schemes"]] == ["he_normal", "zeros"] and doc["schemes"][1]["verdicts"]
    assert sorted(p.name for p in (tmp_path / "study").iterdir()) == ["histograms.png", "layers.png", "study.json"]
    assert "2 seeds per scheme" in err and "he_normal" in err and "zeros" in err
    code, out, err = cli("diagnose", "--hidden", "20x3", "--histograms", "--out", tmp_path / "one", "--json")
    assert code == 0 and {"distributions", "correlation"} <= set(json.loads(out)), err
    assert (tmp_path / "one" / "histograms.png").exists() and (tmp_path / "one" / "layers.png").exists()
    for argv, message in ((["--seeds", "0"], "--seeds: expected a positive integer"),
                          (["--seeds", "401"], "--seeds: expected a positive integer <= 400"),
                          (["--init", "zeros", "--init", "zeros"], "each scheme once"),
                          (["--init", "zeros", "--init", "bogus"], "--init"),
                          (["--seed", str(2**63 - 1), "--seeds", "2"], "go past the largest seed")):
        code, out, err = cli("diagnose", "--hidden", "20x3", *argv, "--out", tmp_path / "bad")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (argv, err)
        assert not (tmp_path / "bad").exists()
