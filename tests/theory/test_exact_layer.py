"""`initlab.theory.exact_layer`: the exact per-layer law against the Beta mixture integrated directly, and the
predicted mean and variance of log q against Monte Carlo over 1,000 Gaussian networks."""

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import betaln, digamma, polygamma

from initlab.theory import activation
from initlab.theory.exact_layer import piecewise_linear_log_moments, relu_log_moments
from initlab.theory.finite_width import chi2_log_moments, log_q_moments, moments, step


def beta_mixture(leak: float, n: int) -> tuple[float, float]:
    """(E, Var) of log F from |phi(g)|^2 = chi2_n (a^2 + (1 - a^2) B), B | K ~ Beta(K/2, (n - K)/2), K ~ Bin(n, 1/2),
    integrating each Beta by scipy.integrate.quad (independent of the Mellin route initlab takes)."""
    a2, m1, m2 = leak * leak, 0.0, 0.0
    for k in range(n + 1):
        p = math.comb(n, k) / 2.0 ** n
        if k in (0, n):
            e1 = math.log(a2) if k == 0 else 0.0
            e2 = e1 * e1
        else:
            al, be = k / 2, (n - k) / 2
            density = lambda x: math.exp((al - 1) * math.log(x) + (be - 1) * math.log1p(-x) - betaln(al, be))  # noqa: E731,B023
            f = lambda x: math.log(a2 + (1 - a2) * x)  # noqa: E731
            e1 = integrate.quad(lambda x: f(x) * density(x), 0, 1, limit=200, points=[a2])[0]  # noqa: B023
            e2 = integrate.quad(lambda x: f(x) ** 2 * density(x), 0, 1, limit=200, points=[a2])[0]  # noqa: B023
        m1, m2 = m1 + p * e1, m2 + p * e2
    return digamma(n / 2) + math.log(2 / n) + m1 - math.log((1 + a2) / 2), polygamma(1, n / 2) + m2 - m1 * m1


@pytest.mark.parametrize("leak, n", [(0.2, 16), (0.01, 16), (0.2, 32), (0.5, 3), (0.01, 1), (2.0, 16)])
def test_leaky_moments_match_the_beta_mixture(leak, n):
    assert piecewise_linear_log_moments(leak, n) == pytest.approx(beta_mixture(leak, n), rel=1e-8, abs=1e-10)


def test_linear_is_the_log_chi2_law_and_relu_the_issues_numbers():
    assert piecewise_linear_log_moments(1.0, 16) == pytest.approx(chi2_log_moments(16), rel=1e-12)
    assert piecewise_linear_log_moments(-1.0, 16) == pytest.approx(chi2_log_moments(16), rel=1e-12)  # |u|
    assert relu_log_moments(16)[1] == pytest.approx(0.4196, abs=5e-5)  # 5/n = 0.3125
    assert relu_log_moments(32)[1] == pytest.approx(0.1775, abs=5e-5)  # 5/n = 0.156
    # wide layers approach the first-order terms: Var ~ 5/n, E ~ -5/(2n), to O(1/n^2)
    mean, var = relu_log_moments(4096)
    assert var == pytest.approx(5 / 4096, rel=4 / 4096) and mean == pytest.approx(-2.5 / 4096, rel=4 / 4096)


NETWORKS = 1000
Z = 4.0  # two-sided 99.994% per check; ~60 checks over the four cases: a family-wise false alarm below 0.5%


def monte_carlo(widths: list[int], leak: float, seed: int) -> np.ndarray:
    """log q(l) for l = 1..L of one input (mean square 1, as wide as the first layer) through NETWORKS
    Gaussian nets: first layer Var W = 1/n_in, later ones He for the activation, zero biases. Networks in
    which a relu layer went wholly negative (q = 0 from there on: the theory conditions on that not
    happening) are dropped."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(widths[0])
    x *= math.sqrt(widths[0]) / np.linalg.norm(x)
    h, fan_in, logs = np.broadcast_to(x, (NETWORKS, widths[0])), widths[0], []
    for layer, n in enumerate(widths):
        sigma_w2 = 1.0 if layer == 0 else 2.0 / (1.0 + leak * leak)
        z = np.einsum("si,sij->sj", h, rng.standard_normal((NETWORKS, fan_in, n)) * math.sqrt(sigma_w2 / fan_in))
        with np.errstate(divide="ignore"):
            logs.append(np.log(np.mean(z * z, axis=1)))
        h, fan_in = np.where(z > 0, z, leak * z), n
    logs = np.array(logs).T
    return logs[np.isfinite(logs).all(axis=1)]


CASES = {"relu 16 x 10": ([16] * 10, 0.0), "relu 32 x 10": ([32] * 10, 0.0),
         "relu 16/128 alternating": ([16, 128] * 5, 0.0), "leaky 0.2, 16 x 10": ([16] * 10, 0.2)}


@pytest.mark.parametrize("case", CASES)
def test_log_q_mean_and_variance_within_the_monte_carlo_interval_over_1000_networks(case):
    # The CI comes from the sample: the mean's SE is s / sqrt(N); the sample variance's SE is
    # sqrt((m4 - s^4) / N) (m4 the fourth central moment; sqrt(2/N) s^2 for a normal law: 4.5% at N = 1000).
    widths, leak = CASES[case]
    logs = monte_carlo(widths, leak, seed=2026)
    count = len(logs)
    assert count >= NETWORKS - 2  # relu: 2^-16 per layer of 16 units may drop a network, never more
    act = activation("leaky_relu", slope=leak) if leak else activation("relu")
    layer_step = step(moments(act, 1.0), 2.0 / (1.0 + leak * leak), 0.0)
    assert layer_step.leak == leak
    predicted = log_q_moments([layer_step] * (len(widths) - 1), widths)
    first_order = log_q_moments([layer_step] * (len(widths) - 1), widths, exact=False)
    centred = logs - logs.mean(axis=0)
    var = centred.var(axis=0, ddof=1)
    var_se = np.sqrt(((centred ** 4).mean(axis=0) - var ** 2) / count)
    mean_se = np.sqrt(var / count)
    for layer, ((mean, v), m, s, mse, vse) in enumerate(zip(predicted, logs.mean(axis=0), var, mean_se, var_se)):
        assert abs(m - mean) <= Z * mse, (layer + 1, m, mean, mse)
        assert abs(s - v) <= Z * vse, (layer + 1, s, v, vse)
    if case == "relu 16 x 10":  # the first-order 5/n rule is outside the interval: 25% low at layer 10
        assert var[-1] - first_order[-1][1] > Z * var_se[-1]
        assert first_order[-1][1] / predicted[-1][1] == pytest.approx(0.76, abs=0.01)
