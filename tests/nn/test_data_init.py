"""`lsuv` and `auto` for the NumPy engine (`initlab.nn.data_init`), and as `--init` in compare and train."""

import json
import math

import numpy as np
import pytest

from initlab.experiments import CompareConfig, load_dataset
from initlab.experiments.compare import build_model, run_compare
from initlab.nn.data_init import BASE, LSUV_TOL, auto, lsuv
from initlab.nn.mlp import MLP


def _batch(n=256, d=5, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_lsuv_meets_mishkin_and_matas_criterion_on_every_layer_and_only_rescales_orthonormal_weights(activation):
    X = _batch()
    net = MLP([5, 64, 64, 64, 64, 3], activation=activation, output="softmax", init=BASE["lsuv"], seed=1)
    before = [W.copy() for W, _ in net.params]
    result = lsuv(net, X)
    A = X
    for layer, ((W, b), W0) in enumerate(zip(net.params, before)):
        z = A @ W + b
        assert abs(np.var(z) - 1) < LSUV_TOL  # on the variance, not the std (a variance of 0.81 would fail)
        scale = W[0, 0] / W0[0, 0]
        np.testing.assert_allclose(W, scale * W0, rtol=1e-12)  # one factor per layer: still orthogonal up to scale
        A = net.activations[layer].forward(z) if layer < len(net.activations) else None
    assert result.converged and sum(result.iterations) >= 1


def test_lsuv_leaves_a_layer_already_at_unit_variance_alone():
    X = _batch()
    net = MLP([5, 32, 1], activation="relu", init=BASE["lsuv"], seed=0)
    lsuv(net, X)
    calibrated = [W.copy() for W, _ in net.params]
    assert lsuv(net, X).iterations == [0, 0]
    assert all(np.array_equal(W, C) for (W, _), C in zip(net.params, calibrated))


def test_auto_scales_lecun_normal_draws_by_the_length_maps_gain():
    rng_net = MLP([5, 40, 40, 1], activation="relu", init="lecun_normal", seed=3)
    net = MLP([5, 40, 40, 1], activation="relu", init=BASE["auto"], seed=3)
    gains = auto(net, np.random.default_rng(0))
    assert gains == [(1.0, 0.0), (2.0, 0.0), (2.0, 0.0)]  # inputs standardized, then He's 2 after relu
    for (W, _), (W0, _) in zip(net.params[1:], rng_net.params[1:]):
        np.testing.assert_allclose(W, math.sqrt(2.0) * W0, rtol=1e-15)


def test_auto_keeps_a_deep_tanh_nets_pre_activations_at_unit_second_moment():
    # tanh: sigma_w^2 = 1 / E[tanh(z)^2] = 2.54 keeps q = 1 a stable fixed point of the length map (slope < 1).
    net = MLP([64, *[256] * 20, 1], activation="tanh", init=BASE["auto"], seed=0)
    (w1, b1), (w2, b2), *_ = auto(net, np.random.default_rng(1))
    assert (w1, b1) == (1.0, 0.0) and b2 == 0.0 and w2 == pytest.approx(2.5362, abs=1e-3)
    A = _batch(128, 64)
    for layer, (W, b) in enumerate(net.params[:-1]):
        z = A @ W + b
        A = net.activations[layer].forward(z)
    assert np.mean(z * z) == pytest.approx(1.0, abs=0.15)  # finite-width spread at 20 x 256 is a few percent


@pytest.mark.slow
def test_compare_with_lsuv_and_auto_is_reproducible_and_equals_building_by_hand():
    config = CompareConfig(data="circles", n_samples=120, hidden=(16, 16), activation="tanh",
                           inits=("lsuv", "auto", "orthogonal"), seeds=2, iterations=50)
    data = load_dataset(config)
    first, again = run_compare(config, data), run_compare(config, data)
    costs = {(r.init, r.seed): r.result.final_cost for r in first.runs}
    assert costs == {(r.init, r.seed): r.result.final_cost for r in again.runs}
    assert costs[("lsuv", 0)] != costs[("orthogonal", 0)]
    weights_seed = np.random.SeedSequence(1).spawn(2)[0]
    by_hand = MLP([2, 16, 16, 1], activation="tanh", init="orthogonal", seed=np.random.default_rng(weights_seed))
    lsuv(by_hand, data.X_train)
    built = build_model(config, data, "lsuv", np.random.default_rng(weights_seed))
    assert all(np.array_equal(W, V) for (W, _), (V, _) in zip(built.params, by_hand.params))


@pytest.mark.parametrize("spec, message", [("lsuv(tol=1)", "lsuv takes no parameters here"),
                                           ("auto()", "auto takes no parameters here")])
def test_data_inits_take_no_parameters(cli, tmp_path, spec, message):
    code, out, err = cli("compare", "--init", spec, "--iterations", "3", "--out", tmp_path / "run")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_train_with_lsuv_from_the_cli(cli, tmp_path):
    code, out, err = cli("train", "--init", "lsuv", "--hidden", "8,8", "--iterations", "20", "--no-figures",
                         "--out", tmp_path / "run", "--json")
    assert code == 0, err
    assert json.loads(out)["config"]["inits"] == ["lsuv"]
