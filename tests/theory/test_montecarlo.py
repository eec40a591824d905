"""Wide random networks follow the mean-field maps: width 2000, depth 10, several seeds.

At width N a layer adds two relative errors to the measured q: the next weights' chi-square
sum over N units (variance 2/N) and the mean of phi(h)^2 over N units (variance kappa/N,
kappa = Var[phi(u)^2] / E[phi(u)^2]^2: 5 for relu, 2 for linear, below 2 for tanh). With
map slopes <= 1 at most l such errors add up by layer l, and S seeds divide the variance by S:
the tolerance is 4 standard errors, 4 sqrt((2 + kappa) l / (N S)), plus an O(1/N) bias.
A measured correlation has standard error below sqrt(l / N) / sqrt(S) on the same argument.
"""

import math

import numpy as np
import pytest

from initlab.theory import c_map, q_by_depth, q_star

WIDTH, DEPTH, SEEDS = 2000, 10, 4


def forward(inputs, phi, sigma_w2, sigma_b2, seed):
    """Pre-activations h(1..DEPTH) of a random dense net for inputs (n_inputs, WIDTH)."""
    rng = np.random.default_rng(seed)
    h, layers = inputs @ (rng.standard_normal((WIDTH, WIDTH)) * math.sqrt(sigma_w2 / WIDTH)), []
    h += rng.standard_normal(WIDTH) * math.sqrt(sigma_b2)
    layers.append(h)
    for _ in range(DEPTH - 1):
        h = phi(h) @ (rng.standard_normal((WIDTH, WIDTH)) * math.sqrt(sigma_w2 / WIDTH))
        h += rng.standard_normal(WIDTH) * math.sqrt(sigma_b2)
        layers.append(h)
    return layers


PHI = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0), "linear": lambda x: x}
KAPPA = {"tanh": 2.0, "relu": 5.0, "linear": 2.0}


@pytest.mark.parametrize("name,sigma_w2,sigma_b2", [("tanh", 1.5, 0.05), ("tanh", 3.0, 0.1), ("relu", 2.0, 0.0),
                                                    ("relu", 1.6, 0.2), ("linear", 1.1, 0.0)])
@pytest.mark.slow
def test_measured_variance_by_depth_follows_the_length_map(name, sigma_w2, sigma_b2):
    x = np.random.default_rng(100).standard_normal((1, WIDTH))
    x *= math.sqrt(2.0 / np.mean(x * x))  # q(0) = 2 exactly: the first layer gives sigma_w^2 * 2 + sigma_b^2
    measured = np.mean([[float(np.mean(h * h)) for h in forward(x, PHI[name], sigma_w2, sigma_b2, seed)]
                        for seed in range(SEEDS)], axis=0)
    expected = q_by_depth(sigma_w2 * 2.0, DEPTH - 1, name, sigma_w2, sigma_b2)
    for layer, (got, want) in enumerate(zip(measured, expected), start=1):
        tolerance = 4 * math.sqrt((2 + KAPPA[name]) * layer / (WIDTH * SEEDS)) + 2 / WIDTH
        assert got == pytest.approx(want, rel=tolerance), (layer, got, want)


@pytest.mark.parametrize("name,sigma_w2,sigma_b2,c0", [("tanh", 1.2, 0.05, 0.2), ("tanh", 2.5, 0.05, 0.9),
                                                       ("relu", 2.0, 0.0, 0.3)])
@pytest.mark.slow
def test_correlation_of_two_inputs_follows_the_correlation_map(name, sigma_w2, sigma_b2, c0):
    q = q_star(name, sigma_w2, sigma_b2)
    q = 1.0 if not math.isfinite(q) else q  # relu at (2, 0) keeps every q: use 1
    # two inputs with exact length and correlation, so that layer 1 has variance q and correlation c1
    a, b = np.random.default_rng(7).standard_normal((2, WIDTH))
    a /= np.linalg.norm(a)
    b -= (b @ a) * a
    b /= np.linalg.norm(b)
    x0 = math.sqrt((q - sigma_b2) / sigma_w2 * WIDTH)
    inputs = x0 * np.stack([a, c0 * a + math.sqrt(1 - c0 * c0) * b])
    c = [(sigma_w2 * (q - sigma_b2) / sigma_w2 * c0 + sigma_b2) / q]
    for _ in range(DEPTH - 1):
        c.append(c_map(c[-1], q, name, sigma_w2, sigma_b2))
    measured = np.mean([[float(h[0] @ h[1] / np.sqrt((h[0] @ h[0]) * (h[1] @ h[1])))
                         for h in forward(inputs, PHI[name], sigma_w2, sigma_b2, seed)] for seed in range(SEEDS)],
                       axis=0)
    for layer, (got, want) in enumerate(zip(measured, c), start=1):
        tolerance = 4 * math.sqrt(layer / (WIDTH * SEEDS)) + 2 / WIDTH
        assert got == pytest.approx(want, abs=tolerance), (layer, got, want)
