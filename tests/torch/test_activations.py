"""`theory_activation`: closed forms for known activations, quadrature + autograd for any other."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from initlab.theory import activation
from initlab.theory.activations import SMOOTH
from initlab.torch.activations import theory_activation
from initlab.torch.trace import layers


class QuickGelu(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


def traced(act: nn.Module):
    return layers(nn.Sequential(nn.Linear(3, 3), act))[0]


def test_user_activation_second_moment_matches_monte_carlo_within_4_standard_errors():
    act = theory_activation(traced(QuickGelu()))
    z = torch.from_numpy(np.random.default_rng(0).standard_normal(10**6))
    f = (z * torch.sigmoid(1.702 * z)) ** 2
    mc, se = f.mean().item(), f.std().item() / math.sqrt(f.numel())
    assert act.name == "QuickGelu"
    assert abs(act.second_moment(1.0) - mc) < 4 * se, (act.second_moment(1.0), mc, se)


def test_autograd_derivative_equals_the_analytic_one():
    x = np.linspace(-5, 5, 41)
    s = 1.0 / (1.0 + np.exp(-1.702 * x))
    np.testing.assert_allclose(theory_activation(traced(QuickGelu())).dphi(x), s + 1.702 * x * s * (1 - s),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("module, name", [(nn.ReLU(), "relu"), (nn.Tanh(), "tanh"), (nn.Sigmoid(), "sigmoid"),
                                          (nn.SiLU(), "silu"), (nn.GELU(), "gelu")])
def test_known_activations_use_initlabs_closed_forms(module, name):
    ours, theirs = theory_activation(traced(module)), activation(name)
    assert (ours.name, ours.slope) == (theirs.name, theirs.slope)
    assert ours.second_moment(1.0) == theirs.second_moment(1.0)
    assert ours.derivative_moment(1.0) == theirs.derivative_moment(1.0)


def test_leaky_relu_keeps_the_modules_negative_slope():
    act = theory_activation(traced(nn.LeakyReLU(0.2)))
    assert act.slope == pytest.approx(0.2, abs=1e-7)  # 0.2 read back through float32 would be off at 1e-9
    assert act.second_moment(1.0) == pytest.approx((1 + 0.2 ** 2) / 2, rel=1e-6)


def test_tanh_approximate_gelu_is_not_mistaken_for_the_exact_one():
    act = theory_activation(traced(nn.GELU(approximate="tanh")))
    exact = SMOOTH["gelu"].second_moment(1.0)
    assert act is not SMOOTH["gelu"]
    # The two gelus differ by < 1e-3 pointwise, so their moments are close but not equal.
    assert 0 < abs(act.second_moment(1.0) - exact) < 1e-3


def test_no_activation_is_none():
    assert theory_activation(layers(nn.Sequential(nn.Linear(3, 3)))[0]) is None
