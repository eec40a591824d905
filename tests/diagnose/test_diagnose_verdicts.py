"""The issue's acceptance cases: a 30-layer relu MLP on circles (and 784-D Gaussian inputs), diagnosed
at initialization, gets the verdict the lesson teaches, with evidence and a fix that parses."""

import json

import numpy as np
import pytest

from initlab.data import load
from initlab.diagnose import VERDICTS, diagnose, diagnose_mlp
from initlab.init import initializer
from initlab.nn.mlp import MLP

DEPTH, WIDTH = 30, 100
LAYER_KEYS = {"index", "name", "kind", "units", "fan_in", "activation", "pre_mean", "pre_std", "expected_pre_std",
              "band_low", "band_high", "activation_mean", "activation_std", "expected_activation_std",
              "saturated_fraction", "dead_fraction", "grad_std", "expected_grad_std", "weight_grad_ratio",
              "duplicate_groups", "duplicate_units", "sigma_w2", "sigma_b2"}


@pytest.fixture(scope="module")
def circles():
    return load("circles", n_samples=256, seed=0)


def deep(X, y, init, activation="relu", seed=0, **kwargs):
    net = MLP([X.shape[1]] + [WIDTH] * DEPTH + [1], activation=activation, init=init, seed=seed, **kwargs)
    return diagnose_mlp(net, X, y)


def test_xavier_on_30_relu_layers_vanishes_by_orders_of_magnitude_as_theory_predicts(circles):
    d = deep(*circles, "xavier_normal")
    assert d.verdict == "vanishing"
    first, last = d.layers[0], d.layers[DEPTH - 1]
    assert last.pre_std / first.pre_std < 1e-3
    # theory: each relu layer multiplies q by sigma_w2 / 2 = (2 / (fan_in + fan_out)) * fan_in / 2 = 1/2
    assert last.expected_pre_std / first.expected_pre_std == pytest.approx(0.5 ** ((DEPTH - 1) / 2), rel=0.05)
    assert all(layer.in_band for layer in d.layers)  # the measured profile follows theory, layer by layer
    assert d.evidence[0].startswith("forward: pre-activation std 0.107 -> 4.37e-06 (layer 1 -> 30)")
    assert "31 of 31 layers inside theory's finite-width band" in d.evidence[0]
    assert d.evidence[1].startswith("backward: gradient std")
    assert d.recommendation["scheme"] == "he_normal"


@pytest.mark.parametrize("seed", range(5))
def test_he_on_30_relu_layers_is_ok_with_every_layer_inside_the_band(circles, seed):
    d = deep(*circles, "he_normal", seed=seed)
    assert d.verdict == "ok", d.evidence
    assert d.recommendation is None
    assert [layer.index for layer in d.layers if not layer.in_band] == []
    assert d.evidence[0].endswith("31 of 31 layers inside theory's finite-width band")
    # a healthy deep He net loses units to correlated inputs (dead on the batch), but not half of them
    dead = [layer.dead_fraction for layer in d.layers[:-1]]
    assert 0.2 < max(dead) < 0.6 and all(layer.duplicate_units == 0 for layer in d.layers)


@pytest.mark.parametrize("init, verdict", [("he_normal", "ok"), ("xavier_normal", "vanishing")])
def test_gaussian_784_inputs(init, verdict):
    X, y = load("gaussian:784", n_samples=256, seed=0)
    d = deep(X, y, init)
    assert d.verdict == verdict
    assert d.layers[0].fan_in == 784
    assert all(layer.in_band for layer in d.layers)


def test_zeros_init_is_symmetric(circles):
    d = deep(*circles, "zeros")
    assert d.verdict == "symmetric"
    assert d.evidence[0] == "layer 1: all 100 units identical (1 group): zeros/constant init never breaks symmetry"
    assert d.evidence[-1] == "... and 27 more layers like these"
    assert d.recommendation["scheme"] == "he_normal"
    assert d.layers[0].weight_grad_ratio is None  # ||W|| = 0
    assert json.loads(json.dumps(d.to_json(), allow_nan=False))["layers"][0]["weight_grad_ratio"] is None


def test_normal_std_10_with_tanh_is_saturated(circles):
    d = deep(*circles, "normal(std=10)", activation="tanh")
    assert d.verdict == "saturated"
    assert min(layer.saturated_fraction for layer in d.layers[1:-1]) > 0.9
    assert d.evidence[0].startswith("layer 1: 70% of tanh outputs within 0.01 of -1 or 1 (pre-activation std 7.62")
    assert d.recommendation["scheme"] == "lecun_normal"
    assert "sigma_w2 = 1" in d.recommendation["why"]


def test_normal_std_10_with_relu_explodes(circles):
    d = deep(*circles, "normal(std=10)")
    assert d.verdict == "exploding"
    assert d.layers[DEPTH - 1].pre_std / d.layers[0].pre_std > 1e40
    assert d.evidence[0].startswith("forward:") and d.recommendation["scheme"] == "he_normal"


def test_a_signal_that_overflows_float64_is_exploding_and_still_valid_json(circles):
    X, y = circles
    d = diagnose_mlp(MLP([2] + [WIDTH] * 60 + [1], activation="relu", init="normal(std=100)", seed=0), X, y)
    assert d.verdict == "exploding"
    assert d.evidence[0].startswith("statistics overflow float64 in ")
    doc = json.loads(json.dumps(d.to_json(), allow_nan=False))
    assert doc["layers"][-2]["pre_std"] is None and doc["layers"][0]["grad_std"] is None  # inf -> null


def test_negative_biases_kill_relu_units_and_the_fix_says_bias_zeros(circles):
    d = deep(*circles, "he_normal", bias_init="constant(value=-1)")
    assert d.verdict == "dead"
    assert d.evidence[-1] == "median dead fraction over 30 relu layers: 100%"
    assert d.recommendation["bias_init"] == "zeros" and "--bias-init zeros" in d.recommendation["why"]


def test_deep_sigmoid_gradients_vanish_backward_while_the_forward_signal_holds(circles):
    d = deep(*circles, "xavier_normal", activation="sigmoid")
    assert d.verdict == "vanishing"
    assert d.evidence[0].startswith("backward: gradient std") and d.evidence[1].startswith("forward:")
    assert d.layers[0].grad_std / d.layers[DEPTH - 1].grad_std < 1e-12  # sigmoid' <= 1/4 per layer


@pytest.mark.parametrize("activation, scheme", [
    ("relu", "he_normal"), ("leaky_relu", "he_normal(a=0.01)"), ("tanh", "lecun_normal"),
    ("sigmoid", "critical(activation=sigmoid, sigma_b2=0)"), ("linear", "lecun_normal")])
def test_the_recommended_scheme_is_a_valid_spec_for_each_activation(circles, activation, scheme):
    d = deep(*circles, "normal(std=0.01)", activation=activation)
    assert d.verdict == "vanishing"
    assert d.recommendation["scheme"] == scheme
    initializer(d.recommendation["scheme"])  # parses and builds


def test_recommended_leaky_he_makes_the_leaky_net_ok(circles):
    bad = deep(*circles, "xavier_normal", activation="leaky_relu")
    assert bad.verdict == "vanishing"
    assert deep(*circles, bad.recommendation["scheme"], activation="leaky_relu").verdict == "ok"


def test_json_has_the_documented_keys_and_no_nan(circles):
    d = deep(*circles, "normal(std=10)")
    doc = json.loads(json.dumps(d.to_json(), allow_nan=False))
    assert set(doc) == {"verdict", "evidence", "recommendation", "model", "layers"}
    assert doc["model"] == "MLP 2-100x30-1, relu, normal(std=10)"
    assert all(set(layer) == LAYER_KEYS for layer in doc["layers"])
    assert [layer["index"] for layer in doc["layers"]] == list(range(1, DEPTH + 2))
    assert doc["verdict"] in VERDICTS


def test_a_net_without_hidden_layers_is_ok_and_no_captures_is_an_error(circles):
    X, y = circles
    d = diagnose_mlp(MLP([2, 1], init="he_normal", seed=0), X, y)
    assert d.verdict == "ok" and d.evidence == ["no hidden layer: 1 of 1 layers inside theory's finite-width band"]
    with pytest.raises(ValueError, match="captures: expected at least one dense or convolutional layer, got none"):
        diagnose([], 1.0, "empty")


def test_diagnose_checks_the_targets(circles):
    X, _ = circles
    with pytest.raises(ValueError, match="y: sigmoid output with 2 classes needs integer labels"):
        diagnose_mlp(MLP([2, 3, 1], seed=0), X, np.full(len(X), 3))
