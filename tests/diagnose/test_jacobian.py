"""`initlab diagnose --jacobian`: the hidden Jacobian's singular values against autograd, the exact
orthogonal case, the Gaussian products' known moments, and the CLI's checks."""

import json
import math

import numpy as np
import pytest

from initlab.diagnose.jacobian import spectrum
from initlab.diagnose.mlp_probe import capture_mlp
from initlab.nn.mlp import MLP


def _spectrum(net, X, examples=16):
    return spectrum(capture_mlp(net, X, np.zeros(len(X), dtype=int)), float(np.mean(X * X)), examples)


def test_singular_values_equal_those_of_torch_autograds_jacobian_of_the_same_network():
    torch = pytest.importorskip("torch")
    net = MLP([3, 12, 10, 9, 1], activation="tanh", init="he_normal", bias_init="normal(std=0.1)", seed=1)
    X = np.random.default_rng(2).standard_normal((4, 3))
    measured = _spectrum(net, X).singular_values
    (W1, b1), *middle, _ = [(torch.tensor(W), torch.tensor(b)) for W, b in net.params]

    def hidden(h1):  # h(1) -> h(L) through layers 2..L, as the MLP computes them (x @ W + b)
        for W, b in middle:
            h1 = torch.tanh(h1 @ W + b)
        return h1

    for row, x in zip(measured, torch.tensor(X)):
        J = torch.autograd.functional.jacobian(hidden, torch.tanh(x @ W1 + b1))
        np.testing.assert_allclose(row, torch.linalg.svdvals(J).numpy(), rtol=1e-10, atol=1e-13)


def test_a_deep_linear_gaussian_chain_has_mean_square_one_and_variance_of_s2_equal_to_its_depth():
    # For products of L' Gaussian matrices (variance 1/n) the squared singular values have mean 1 and second
    # moment L' + 1 (Fuss-Catalan): variance L'. Finite width adds O(L'^2 / n) to it.
    factors, width, nets = 9, 256, 20
    stats = [_spectrum(MLP([8, *[width] * (factors + 1), 1], activation="linear", init="lecun_normal", seed=s),
                       np.ones((1, 8)), examples=1).measured for s in range(nets)]
    mean_square = np.array([s["mean_square"] for s in stats])
    var_square = np.array([s["var_square"] for s in stats])
    assert abs(mean_square.mean() - 1) < 3 * mean_square.std(ddof=1) / math.sqrt(nets)
    assert abs(var_square.mean() - factors) < 3 * var_square.std(ddof=1) / math.sqrt(nets) + factors ** 2 / width


def test_orthogonal_weights_keep_a_linear_chain_isometric_and_gaussian_ones_do_not():
    X = np.random.default_rng(0).standard_normal((4, 8))
    orthogonal = _spectrum(MLP([8, *[64] * 11, 1], activation="linear", init="orthogonal", seed=0), X)
    gaussian = _spectrum(MLP([8, *[64] * 11, 1], activation="linear", init="lecun_normal", seed=0), X)
    np.testing.assert_allclose(orthogonal.singular_values, 1.0, atol=1e-12)
    assert orthogonal.measured["var_square"] < 1e-20 and orthogonal.theory_mean_square == pytest.approx(1.0)
    assert gaussian.measured["max"] > 2 and gaussian.measured["q05"] < 1e-3


def test_theory_mean_square_is_the_product_of_each_layers_gain_for_relu():
    # relu at He init: each layer 2..L multiplies E[s^2] by sigma_w^2 E[phi'^2] (n(l) / n(l-1)) = 2 * 0.5 * ratio,
    # the weights' measured sigma_w^2 (not exactly 2) entering as fan_in * mean(W^2).
    net = MLP([2, 30, 60, 40, 1], activation="relu", init="he_normal", seed=3)
    s = _spectrum(net, np.ones((2, 2)))
    gains = [np.mean(W * W) * W.shape[1] * 0.5 for W, _ in net.params[1:3]]
    assert s.theory_mean_square == pytest.approx(np.prod(gains), rel=1e-12)
    assert s.shape == (40, 30) and s.singular_values.shape == (2, 30)


@pytest.mark.slow
def test_cli_writes_the_spectrum_and_its_figure_and_refuses_what_it_cannot_measure(cli, tmp_path):
    code, out, err = cli("diagnose", "--hidden", "32x6", "--activation", "tanh", "--init", "orthogonal",
                         "--jacobian", "--out", tmp_path / "run", "--json")
    assert code == 0, err
    j = json.loads(out)["jacobian"]
    assert (j["from"], j["to"], j["examples"], j["shape"]) == ("layer 1", "layer 6", 16, [32, 32])
    assert j["q05"] <= j["median"] <= j["q95"] <= j["max"] and sum(j["histogram"]["counts"]) == 16 * 32
    assert (tmp_path / "run" / "jacobian.png").stat().st_size > 10_000
    assert "singular values 0." in err and "(0 at dynamical isometry)" in err
    for argv, message in ((["--hidden", "40"], "needs at least 2 hidden layers"),
                          (["--hidden", "4000x30"], "multiply-adds, over the"),
                          (["--torch", "x:y"], "a --torch model is not supported")):
        code, out, err = cli("diagnose", *argv, "--jacobian", "--out", tmp_path / "bad")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "bad").exists()
