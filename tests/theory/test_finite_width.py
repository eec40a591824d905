"""`initlab.theory.finite_width`: the Gaussian moments against scipy.integrate.quad, Hanin & Rolnick's relu sum
with the exact chi-square term, linear layers, and a Monte Carlo check of the mean drift with the curvature term."""

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import digamma, polygamma

from initlab.theory import activation
from initlab.theory.finite_width import (Step, chi2_log_moments, log_q_moments, moments, propagate, step,
                                         upstream_log_moments)

RELU, TANH, GELU = activation("relu"), activation("tanh"), activation("gelu")


def gaussian_mean(f, q: float) -> float:
    """E[f(u)], u ~ N(0, q), by adaptive quadrature: independent of initlab's Gauss-Hermite/Legendre rules."""
    root = math.sqrt(q)
    density = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    return integrate.quad(lambda z: f(root * z) * density(z), -12, 12, limit=200, points=[0.0])[0]


@pytest.mark.parametrize("act", [TANH, GELU, activation("silu"), activation("sigmoid"), RELU,
                                 activation("leaky_relu", slope=0.2)], ids=lambda a: a.name)
@pytest.mark.parametrize("q", [0.3, 1.0, 4.0])
def test_moments_match_scipy_quad(act, q):
    phi = lambda u: float(act.phi(np.array(u)))  # noqa: E731
    dphi = lambda u: float(act.dphi(np.array(u)))  # noqa: E731
    m = moments(act, q)
    second = gaussian_mean(lambda u: phi(u) ** 2, q)
    assert m.second == pytest.approx(second, rel=1e-8)
    assert m.mean == pytest.approx(gaussian_mean(phi, q), rel=1e-8, abs=1e-12)
    assert m.fourth == pytest.approx(gaussian_mean(lambda u: phi(u) ** 4, q), rel=1e-8)
    assert m.u_phi_dphi == pytest.approx(gaussian_mean(lambda u: u * phi(u) * dphi(u), q), rel=1e-8)
    assert m.dphi2 == pytest.approx(gaussian_mean(lambda u: dphi(u) ** 2, q), rel=1e-8)
    hermite4 = gaussian_mean(lambda u: phi(u) ** 2 * ((u * u / q) ** 2 - 6 * u * u / q + 3), q) / 4
    assert m.curvature == pytest.approx(hermite4, rel=1e-6, abs=1e-10)
    assert m.kappa == pytest.approx(m.fourth / second ** 2 - 1, rel=1e-8)


def test_stein_and_heat_identities_give_the_length_maps_log_slope_and_curvature():
    # E[u phi phi'] = q M'(q) and q^2 M''(q): checked against finite differences of M = E[phi^2] in q.
    h, q = 1e-3, 1.3
    M = lambda x: gaussian_mean(lambda u: float(GELU.phi(np.array(u))) ** 2, x)  # noqa: E731
    m = moments(GELU, q)
    assert m.u_phi_dphi == pytest.approx(q * (M(q + h) - M(q - h)) / (2 * h), rel=1e-5)
    assert m.curvature == pytest.approx(q * q * (M(q + h) - 2 * M(q) + M(q - h)) / h ** 2, rel=1e-4)
    # and the step's slope and curvature are d log q_next / d log q and its derivative
    sigma_w2, sigma_b2 = 1.7, 0.2
    log_next = lambda t: math.log(sigma_w2 * M(math.exp(t)) + sigma_b2)  # noqa: E731
    t, dt = math.log(q), 1e-3
    s = step(m, sigma_w2, sigma_b2)
    assert s.slope == pytest.approx((log_next(t + dt) - log_next(t - dt)) / (2 * dt), rel=1e-5)
    assert s.curvature == pytest.approx((log_next(t + dt) - 2 * log_next(t) + log_next(t - dt)) / dt ** 2, rel=1e-3)
    assert s.share == pytest.approx(sigma_w2 * m.second / s.q_next, rel=1e-12)


def test_relu_first_order_is_five_sum_of_inverse_widths_plus_the_trigamma_term():
    widths = [50, 80, 100, 30, 100, 1]
    he = step(moments(RELU, 1.0), 2.0, 0.0)
    assert (he.slope, he.share, he.kappa, he.curvature) == (1.0, 1.0, 5.0, 0.0)
    for layer, (n, (mean, var)) in enumerate(zip(widths, log_q_moments([he] * 5, widths, exact=False))):
        upstream = 5 * sum(1 / k for k in widths[:layer])  # Hanin & Rolnick 2018
        assert var == pytest.approx(upstream + polygamma(1, n / 2), rel=1e-12)
        assert mean == pytest.approx(-upstream / 2 + digamma(n / 2) + math.log(2 / n), rel=1e-12, abs=1e-15)


def test_relu_exact_adds_the_binomial_mixture_of_digammas_per_layer():
    # Each relu layer of n units multiplies Q by (2/n) chi2_K, K ~ Bin(n, 1/2) conditioned on K >= 1:
    # E log = E[psi(K/2)] + log(4/n), Var log = E[psi_1(K/2)] + Var[psi(K/2)], written out here by hand.
    def by_hand(n):
        k = np.arange(1, n + 1)
        p = np.array([math.comb(n, int(j)) for j in k], dtype=float) / (2.0 ** n - 1)
        psi = digamma(k / 2)
        return p @ psi + math.log(4 / n), p @ polygamma(1, k / 2) + p @ psi ** 2 - (p @ psi) ** 2
    widths = [16, 32, 100, 7, 1]
    he = step(moments(RELU, 1.0), 2.0, 0.0)
    for layer, (n, (mean, var)) in enumerate(zip(widths, log_q_moments([he] * 4, widths))):
        terms = [by_hand(k) for k in widths[:layer]]
        assert var == pytest.approx(sum(v for _, v in terms) + polygamma(1, n / 2), rel=1e-10)
        assert mean == pytest.approx(sum(m for m, _ in terms) + digamma(n / 2) + math.log(2 / n), rel=1e-10)
    assert by_hand(16)[1] == pytest.approx(0.4196, abs=5e-5) and by_hand(32)[1] == pytest.approx(0.1775, abs=5e-5)


def test_linear_layers_first_order_add_two_over_n_and_drift_minus_one_over_n():
    identity = step(moments(None, 1.0), 1.0, 0.0)
    assert (identity.slope, identity.share, identity.kappa, identity.curvature) == (1.0, 1.0, 2.0, 0.0)
    d, v = zip(*upstream_log_moments([identity] * 3, [10, 20, 40], exact=False))
    assert v == pytest.approx([0, 2 / 10, 2 / 10 + 2 / 20, 2 / 10 + 2 / 20 + 2 / 40], rel=1e-12)
    assert d == pytest.approx([0, -1 / 10, -1 / 10 - 1 / 20, -1 / 10 - 1 / 20 - 1 / 40], rel=1e-12)


def test_linear_layers_exact_add_the_log_chi2_moments():
    # A linear layer multiplies Q by chi2_n / n exactly: the trigamma and digamma terms, not 2/n and -1/n.
    identity = step(moments(None, 1.0), 1.0, 0.0)
    d, v = zip(*upstream_log_moments([identity] * 3, [10, 20, 40]))
    own = [chi2_log_moments(n) for n in (10, 20, 40)]
    assert v == pytest.approx(np.cumsum([0] + [x for _, x in own]), rel=1e-12)
    assert d == pytest.approx(np.cumsum([0] + [x for x, _ in own]), rel=1e-12, abs=1e-15)


def test_a_bias_makes_the_map_first_order_and_says_so():
    # With a bias the weights carry only part of q_next: no exact law, the first-order terms are used.
    biased = step(moments(RELU, 1.0), 2.0, 0.1)
    assert biased.leak is None and step(moments(TANH, 1.0), 1.0, 0.0).leak is None
    assert propagate(0.0, 0.0, biased, 16) == propagate(0.0, 0.0, biased, 16, exact=False)


def test_chi2_log_moments_are_exact_for_small_n():
    # log(chi2_1 / 1): mean psi(1/2) + log 2 = -gamma - log 2, variance pi^2 / 2; checked by quadrature too.
    mean, var = chi2_log_moments(1)
    assert mean == pytest.approx(-np.euler_gamma - math.log(2), rel=1e-12)
    assert var == pytest.approx(math.pi ** 2 / 2, rel=1e-12)
    density = lambda x: x ** 1.5 * math.exp(-x / 2) / (2 ** 2.5 * math.gamma(2.5))  # noqa: E731  chi2 with 5 dof
    m5 = integrate.quad(lambda x: math.log(x / 5) * density(x), 0, np.inf)[0]
    v5 = integrate.quad(lambda x: (math.log(x / 5) - m5) ** 2 * density(x), 0, np.inf)[0]
    assert chi2_log_moments(5) == pytest.approx((m5, v5), rel=1e-7)


def test_propagate_adds_the_curvature_drift_only_when_asked():
    through = Step(1.0, 0.9, 0.8, 3.0, 0.25)
    noise = 0.8 ** 2 * 3.0 / 100
    assert propagate(0.1, 0.2, through, 100) == pytest.approx((0.9 * 0.1 - noise / 2, 0.81 * 0.2 + noise))
    assert propagate(0.1, 0.2, through, 100, curvature=True)[0] == pytest.approx(0.9 * 0.1 - noise / 2 + 0.025)


def test_log_q_moments_needs_one_step_fewer_than_widths():
    with pytest.raises(ValueError, match=r"^steps, widths: expected L widths and L - 1 steps, got 2 and 2"):
        log_q_moments([Step(1.0, 1.0, 1.0, 5.0, 0.0)] * 2, [10, 10])


@pytest.mark.slow
def test_the_curvature_term_predicts_the_mean_drift_of_stabilized_gelu_monte_carlo():
    # gelu at q = 1 with the bias variance that makes the slope 1 (initlab.torch.auto): the length map is
    # curved (c = 0.079), so log q drifts up by c V / 2 per layer against the Jensen drift down. 2000 nets
    # of width 64 and depth 8 on one input; the mean of log q has a sampling sd <= 0.015. Measured at layer 8:
    # -0.167, predicted -0.214 with the curvature term (3.1 sd), -0.275 without it (7 sd). The true drift
    # flattens further than second order says (width 32, layer 10: -0.37 measured, -0.49 with, -0.70
    # without), so the check is the first 8 layers within 4 sd, and "closer with the term than without".
    m = moments(GELU, 1.0)
    sigma_b2 = 1 - m.second / m.u_phi_dphi
    sigma_w2 = (1 - sigma_b2) / m.second
    n, depth, seeds, rng = 64, 8, 2000, np.random.default_rng(0)
    x = rng.standard_normal(n)
    x *= math.sqrt(n) / np.linalg.norm(x)  # mean square exactly 1: the first layer's q is 1
    h, logs = np.broadcast_to(x, (seeds, n)), []
    for layer in range(depth):
        w2, b2 = (1.0, 0.0) if layer == 0 else (sigma_w2, sigma_b2)
        z = np.einsum("si,sij->sj", h, rng.standard_normal((seeds, n, n)) * math.sqrt(w2 / n))
        z += rng.standard_normal((seeds, n)) * math.sqrt(b2)
        logs.append(np.log(np.mean(z ** 2, axis=1)))
        h = GELU.phi(z)
    gelu = step(m, sigma_w2, sigma_b2)
    assert gelu.slope == pytest.approx(1.0, abs=1e-9) and gelu.curvature == pytest.approx(0.0787, abs=1e-4)
    with_curvature = log_q_moments([gelu] * (depth - 1), [n] * depth, curvature=True)
    without = log_q_moments([gelu] * (depth - 1), [n] * depth)
    for layer, (mean, _), (first_order, _) in zip(logs, with_curvature, without):
        assert np.mean(layer) == pytest.approx(mean, abs=4 * np.std(layer) / math.sqrt(seeds))
    assert abs(np.mean(logs[-1]) - with_curvature[-1][0]) < abs(np.mean(logs[-1]) - without[-1][0])
