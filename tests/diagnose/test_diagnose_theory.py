"""The expectations of `initlab.diagnose.expected`: Hanin & Rolnick's relu formula, a Monte Carlo check of the
generalised finite-width band, and the backward pass of real He nets."""

import math

import numpy as np
import pytest
from scipy.special import digamma, polygamma

from initlab.data import load
from initlab.diagnose import diagnose_mlp
from initlab.diagnose.expected import expected, forward_variances, moments, upstream_log_moments
from initlab.nn.mlp import MLP
from initlab.theory import activation
from initlab.theory.exact_layer import relu_log_moments

RELU = activation("relu")


def log_band(e):
    """(mean, variance) of log(mean z^2 / q) that a band encodes: band = sqrt(q) exp(mean/2 -+ sqrt(var))."""
    return math.log(e.band_low * e.band_high / e.pre_std ** 2), (math.log(e.band_high / e.band_low) / 2) ** 2


def test_relu_band_adds_the_exact_per_layer_term_about_five_over_n():
    widths = [50, 80, 100, 30, 100, 1]
    L = len(widths)
    e = expected(0.7, [2.0] * L, [0.0] * L, [RELU] * (L - 1) + [None], widths, [2.0] * L, 1.0)
    for layer, (n, ex) in enumerate(zip(widths, e)):
        terms = [relu_log_moments(k) for k in widths[:layer]]  # exact: (2/n) chi2_K, K ~ Bin(n, 1/2)
        mean, var = log_band(ex)
        # the layer's own chi-square term is the exact trigamma(n/2) (~2/n), its mean digamma(n/2) + log(2/n)
        assert var == pytest.approx(sum(v for _, v in terms) + polygamma(1, n / 2), rel=1e-12)
        assert mean == pytest.approx(sum(m for m, _ in terms) + digamma(n / 2) + math.log(2 / n), rel=1e-12)
        first_order = 5 * sum(1 / k for k in widths[:layer])  # Hanin & Rolnick 2018: 5 sum 1/n
        if n >= 30:  # O(1/n^2) apart per layer (trigamma(n/2) = 2/n + 2/n^2 + ...)
            assert var == pytest.approx(first_order + 2 / n, abs=30 * sum(1 / k ** 2 for k in widths[:layer + 1]))


def test_linear_layers_add_the_exact_log_chi2_variance():
    qs, ms = forward_variances(1.0, [1.0] * 4, [0.0] * 4, [None] * 4)
    assert qs == [1.0] * 4
    d, v = zip(*upstream_log_moments(qs, ms, [1.0] * 4, [10, 20, 40, 80]))
    assert v == pytest.approx(np.cumsum([0] + [polygamma(1, n / 2) for n in (10, 20, 40)]), rel=1e-12)  # ~2/n


@pytest.mark.parametrize("name, sigma_w2, sigma_b2", [("relu", 2.0, 0.0), ("tanh", 1.5, 0.1), ("tanh", 1.0, 0.0),
                                                      ("sigmoid", 4.0, 0.0)])
@pytest.mark.slow
def test_band_moments_match_monte_carlo_over_4000_random_nets(name, sigma_w2, sigma_b2):
    # 4000 independent width-50, depth-6 nets on one input: the variance of log(mean z^2) has a sampling
    # error of sqrt(2/4000) = 2.2%, and the formula is first order in 1/n (Hanin & Rolnick 2018): 10%.
    rng, phi, n, depth, seeds = np.random.default_rng(0), activation(name), 50, 6, 4000
    x = rng.standard_normal(10)
    h, fan, logs = np.broadcast_to(x, (seeds, 10)), 10, []
    for _ in range(depth):
        W = rng.standard_normal((seeds, fan, n)) * math.sqrt(sigma_w2 / fan)
        z = np.einsum("si,sij->sj", h, W) + rng.standard_normal((seeds, n)) * math.sqrt(sigma_b2)
        logs.append(np.log(np.mean(z ** 2, axis=1)))
        h, fan = phi.phi(z), n
    e = expected(float(np.mean(x ** 2)), [sigma_w2] * depth, [sigma_b2] * depth, [phi] * depth, [n] * depth,
                 [sigma_w2] * depth, 1.0)
    for layer, ex in zip(logs, e):
        mean, var = log_band(ex)
        assert np.var(layer) == pytest.approx(var, rel=0.10)
        assert np.mean(layer) - 2 * math.log(ex.pre_std) == pytest.approx(mean, abs=0.03)  # 3 sampling sd


def test_moments_closed_forms():
    m = moments(activation("leaky_relu", slope=0.2), 3.0)
    assert m.second == pytest.approx(3.0 * 1.04 / 2)
    assert m.mean == pytest.approx(0.8 * math.sqrt(3.0 / (2 * math.pi)))
    assert m.fourth == pytest.approx(1.5 * 9.0 * (1 + 0.2 ** 4))
    tanh = moments(activation("tanh"), 1e-6)  # small q: tanh is linear, so kappa -> 2 and E[u phi phi'] -> q
    assert tanh.fourth / tanh.second ** 2 - 1 == pytest.approx(2.0, rel=1e-4)
    assert tanh.u_phi_dphi == pytest.approx(1e-6, rel=1e-4)
    overflowed = moments(RELU, math.inf)  # a signal that overflowed: inf moments, E[phi'^2] still 1/2
    assert (overflowed.second, overflowed.fourth, overflowed.dphi2) == (math.inf, math.inf, 0.5)
    assert all(math.isnan(v) for k, v in vars(moments(activation("tanh"), math.nan)).items() if k != "leak")


def test_degenerate_weights_give_zeros_without_warnings():
    e = expected(1.0, [0.0, 0.0], [0.0, 0.0], [activation("tanh"), None], [5, 1], [0.0, 0.0], 0.3)
    assert [(x.pre_std, x.band_low, x.band_high, x.activation_std) for x in e] == [(0.0, 0.0, 0.0, 0.0)] * 2
    assert e[0].grad_std == 0.0 and e[1].grad_std == pytest.approx(0.3)


@pytest.mark.parametrize("seed", range(5))
def test_expected_gradients_follow_the_measured_ones_of_he_nets(seed):
    # The backward pass of a relu net is a forward pass through the transposed weights (Hanin 2018), so
    # the same finite-width law bounds it, counted from the output: log-variance 5 sum 1/n over the
    # layers between + 2/n for the layer itself; |log(measured/expected)| <= sqrt of it (+-2 sd).
    X, y = load("circles", n_samples=256, seed=0)
    d = diagnose_mlp(MLP([2] + [100] * 30 + [1], activation="relu", init="he_normal", seed=seed), X, y)
    hidden = d.layers[:-1]
    for layer in hidden:
        between = len(hidden) - layer.index
        assert abs(math.log(layer.grad_rms / layer.expected_grad_std)) <= math.sqrt(5 * between / 100 + 2 / 100)
    assert d.layers[-1].expected_grad_std == pytest.approx(d.layers[-1].grad_rms, rel=1e-12)  # the anchor
