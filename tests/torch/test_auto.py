"""`initlab.torch.auto`: analytic, data-free weight variances (He et al. 2015; Poole et al. 2016) and the
finite-width spread around them (Hanin & Rolnick 2018), checked on 30 x 256 MLPs over 20 seeds."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch import nn

from _initlab_torch_nets import auto_over_seeds, gaussian, layer_outputs, mlp, small_cnn
from initlab.torch import auto, predicted_log_std_spread

runs = functools.lru_cache(maxsize=None)(auto_over_seeds)  # each activation simulated once per session


def gaussian_moment(f) -> float:
    """E[f(z)], z ~ N(0, 1), by adaptive quadrature: independent of initlab's Gauss-Hermite rule."""
    return integrate.quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -12, 12, limit=200)[0]


class QuickGelu(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


def test_sigma_w2_is_he_after_relu_and_one_over_the_second_moment_otherwise():
    relu = auto(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)), (4,), seed=0)
    assert [x.sigma_w2 for x in relu.layers] == [1.0, 2.0, 2.0]
    assert [x.chi_1 for x in relu.layers] == [1.0, 1.0, 1.0] and relu.stable
    tanh = auto(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)), (4,), seed=0).layers[1]
    assert tanh.sigma_w2 == pytest.approx(1 / gaussian_moment(lambda z: math.tanh(z) ** 2), rel=1e-9)
    assert tanh.chi_1 == pytest.approx(tanh.sigma_w2 * gaussian_moment(lambda z: math.cosh(z) ** -4), rel=1e-9)
    assert tanh.slope == pytest.approx(
        tanh.sigma_w2 * gaussian_moment(lambda z: z * math.tanh(z) / math.cosh(z) ** 2), rel=1e-9)


def test_gelu_and_a_user_activation_get_their_variance_by_quadrature_without_a_table():
    net = nn.Sequential(nn.Linear(6, 32), nn.GELU(), nn.Linear(32, 32), QuickGelu(), nn.Linear(32, 1))
    result = auto(net, (6,), seed=0, stabilize=False)  # zero biases: sigma_w^2 = 1 / E[act^2] exactly
    names = [(x.input_activation, x.activation_name) for x in result.layers]
    assert names == [("identity", "gelu"), ("gelu", "QuickGelu"), ("QuickGelu", "identity")]
    quick = lambda z: z / (1 + math.exp(-1.702 * z))  # noqa: E731
    assert result.layers[1].sigma_w2 == pytest.approx(1 / gaussian_moment(lambda z: (z * stats.norm.cdf(z)) ** 2),
                                                      rel=1e-9)
    assert result.layers[2].sigma_w2 == pytest.approx(1 / gaussian_moment(lambda z: quick(z) ** 2), rel=1e-9)
    assert "QuickGelu" in str(result)
    stabilized = auto(net, (6,), seed=0).layers[1]  # slope E[z act act'] / E[act^2] > 1: moved to 1 by the bias
    slope = gaussian_moment(lambda z: z * (z * stats.norm.cdf(z)) * (stats.norm.cdf(z) + z * stats.norm.pdf(z)))
    slope /= gaussian_moment(lambda z: (z * stats.norm.cdf(z)) ** 2)
    assert stabilized.sigma_b2 == pytest.approx(1 - 1 / slope, rel=1e-9)
    assert stabilized.sigma_w2 == pytest.approx(result.layers[1].sigma_w2 / slope, rel=1e-9)
    assert net[2].bias.std().item() == pytest.approx(math.sqrt(stabilized.sigma_b2), rel=0.5)  # 32 draws


def test_weights_are_normal_with_variance_sigma_w2_over_fan_in_ks():
    net = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512))
    auto(net, (256,), seed=1)
    w = net[2].weight.detach().double().numpy().ravel()
    assert stats.kstest(w, stats.norm(0, math.sqrt(2 / 512)).cdf).pvalue > 1e-3
    assert torch.count_nonzero(net[2].bias) == 0


@pytest.mark.parametrize("distribution", ["uniform", "truncated_normal"])
def test_other_distributions_keep_the_variance(distribution):
    net = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512))
    auto(net, (256,), seed=2, distribution=distribution)
    # 262144 draws: the sample variance has relative SE sqrt(Var w^2)/E w^2/sqrt(n) < 0.3%; allow 1.5%.
    assert net[2].weight.double().var().item() == pytest.approx(2 / 512, rel=0.015)


@pytest.mark.parametrize("activation", [
    "tanh",
    pytest.param("relu", marks=pytest.mark.xfail(strict=True, reason=(
        "auto keeps E[q] = 1 (He); seed-to-seed fluctuation (Var log q = 0.57 at layer 30) puts the geometric "
        "mean below it by Jensen: measured 0.891 at layer 26, 0.903 at layer 30 (seeds 0..19, batch 512)"))),
    pytest.param("gelu", marks=pytest.mark.xfail(strict=True, reason=(
        "with the stabilizing bias variance (slope 1 at q = 1) the drift left is second order, from the "
        "curvature of gelu's length map: measured 1.08 at layer 10, 1.13 at layer 14, 1.12 at layer 30 "
        "(zero biases: 3.01 at layer 30, see the test below)"))),
])
def test_issue_target_geometric_mean_of_every_linear_output_std_over_20_seeds_within_10pct(activation):
    geometric_mean, _, _ = runs(activation)
    assert torch.all((geometric_mean - 1).abs() <= 0.1), geometric_mean


def test_relu_output_variance_is_one_in_expectation_at_every_layer():
    # What auto promises (E[q] = 1) as opposed to the geometric-mean target above: the mean over 20 seeds of
    # each Linear output's batch variance is 1 within 4 standard errors of that mean (seed-to-seed sd).
    x = gaussian((512, 256), seed=1000)
    variances = []
    for seed in range(20):
        net = mlp("relu")
        auto(net, (256,), seed=seed)
        variances.append(torch.stack(layer_outputs(net, x)) ** 2)
    v = torch.stack(variances)
    mean, se = v.mean(0), v.std(0) / math.sqrt(len(v))
    assert torch.all((mean - 1).abs() <= 4 * se), (mean, se)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_geometric_mean_within_10pct_where_the_first_order_theory_allows_it(activation):
    # Both failures above grow with the log-variance of q (relu: the Jensen factor exp(-Var/4); gelu: the
    # mean drift of a length map curved at q = 1, ~ F''(1) Var / 2 per layer). Where the predicted Var log q <= 0.2
    # (sd(log std) <= 0.224) the Jensen factor is >= 0.95 and the seed noise of a 20-seed geometric mean is
    # <= 0.224 / sqrt(20) = 5% per layer, so the 10% target must hold: relu layers 1-10, gelu layers 1-5.
    geometric_mean, _, result = runs(activation)
    small = torch.tensor(result.predicted_spread()) <= math.sqrt(0.2) / 2
    assert small.sum() >= 5
    assert torch.all((geometric_mean[small] - 1).abs() <= 0.1), geometric_mean[small]


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_seed_to_seed_spread_of_log_std_matches_the_finite_width_prediction_within_35pct(activation):
    # The sd of 20 draws has relative SE 1/sqrt(2 * 19) = 16%; averaging over the batch's inputs does not
    # shrink the part shared through the weights, so 35% is ~2.2 SE. Checked in the first-order regime
    # (predicted sd <= 0.5): every layer (gelu with its stabilizing bias variance). Measured ratios with seeds
    # 0-19: relu 0.88-1.12 (0.417 vs 0.379 at layer 30), tanh 0.97-1.01, gelu 0.90-1.10 (0.375 vs 0.369).
    _, spread, result = runs(activation)
    predicted = torch.tensor(result.predicted_spread(), dtype=spread.dtype)
    first_order = predicted <= 0.5
    ratio = spread[first_order] / predicted[first_order]
    assert first_order.sum() >= 10 and torch.all((ratio - 1).abs() <= 0.35), ratio


def test_gelu_bias_variance_removes_the_drift_of_the_unstable_fixed_point():
    # Zero biases: q = 1 is unstable (slope 1.144), the geometric mean drifts to ~3 by layer 30; with
    # sigma_b^2 = 1 - 1/1.144 = 0.126 the slope is 1 and what is left is the second-order drift (<= 1.15).
    stabilized, _, result = runs("gelu")
    drifting, _, _ = runs("gelu", stabilize=False)
    assert result.layers[1].sigma_b2 == pytest.approx(0.1259, abs=1e-4) and result.layers[1].slope == 1.0
    assert drifting[-1] > 2.0
    assert torch.all((stabilized - 1).abs() <= 0.15), stabilized


def test_gelu_spread_beyond_first_order_stays_below_the_linear_prediction():
    # Away from q = 1 gelu's log-log length map flattens to slope 1 (relu-like above, linear below), so the
    # linearised growth slope^2 = 1.31 per layer overestimates: measured 2.87 vs predicted 6.94 at layer 30.
    _, spread, result = runs("gelu", stabilize=False)
    predicted = torch.tensor(result.predicted_spread(), dtype=spread.dtype)
    assert spread[-1] > 1.0 and spread[-1] < predicted[-1]


def test_predicted_spread_is_hanin_rolnicks_sum_for_relu_and_two_over_n_for_one_layer():
    widths = [100, 200, 50, 400]
    expected = math.sqrt(5 * (1 / 100 + 1 / 200 + 1 / 50) + 2 / 400) / 2
    assert predicted_log_std_spread(widths, [5.0] * 3, [1.0] * 3)[-1] == pytest.approx(expected, rel=1e-12)
    assert predicted_log_std_spread([64], [], []) == [math.sqrt(2 / 64) / 2]
    with pytest.raises(ValueError, match=r"^widths, kappa, slope: expected L positive widths"):
        predicted_log_std_spread([64, 64], [5.0, 5.0], [1.0])


def test_conv_outputs_have_unit_second_moment_in_expectation():
    # Valid (unpadded) convolutions: every output sums a full receptive field. Over 12 seeds the mean of the
    # per-seed mean square of each conv output must be 1 within 4 standard errors (of those 12 values).
    x = gaussian((16, 3, 12, 12), seed=5)
    squares = []
    for seed in range(12):
        net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 32, 3), nn.Tanh(), nn.Conv2d(32, 8, 3))
        auto(net, (3, 12, 12), seed=seed)
        with torch.no_grad():
            h1 = net[0](x); h2 = net[2](net[1](h1)); h3 = net[4](net[3](h2))  # noqa: E702
        squares.append([h.pow(2).mean().item() for h in (h1, h2, h3)])
    q = np.array(squares)
    mean, se = q.mean(0), q.std(0, ddof=1) / math.sqrt(len(q))
    assert np.all(np.abs(mean - 1) <= 4 * se + 1e-3), (mean, se)


def test_same_seed_is_bit_identical_and_other_seeds_differ():
    a, b, c = small_cnn(), small_cnn(), small_cnn()
    auto(a, (3, 16, 16), seed=3), auto(b, (3, 16, 16), seed=3), auto(c, (3, 16, 16), seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)


def test_messages_state_the_real_numbers():
    tanh = auto(nn.Sequential(*[m for _ in range(30) for m in (nn.Linear(8, 8), nn.Tanh())]), (8,), seed=0)
    assert not tanh.stable
    assert tanh.message.startswith("tanh: keeping q = 1 needs sigma_w^2 = 2.54; there chi_1 = 1.18, so the backward "
                                   "signal grows x1.18 per layer in variance (x115 over the 29 layer(s) it feeds); "
                                   "no scalar init keeps both forward and backward variance at 1 with tanh at q = 1")
    gelu = auto(nn.Sequential(nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 8)), (8,), seed=0, stabilize=False)
    assert "gelu: keeping q = 1 needs sigma_w^2 = 2.35; there chi_1 = 1.07" in gelu.message
    assert "q = 1 is an unstable fixed point of the length map (d q_next / d q = 1.14 > 1)" in gelu.message
    gelu = auto(nn.Sequential(nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 8)), (8,), seed=0)
    assert "gelu: keeping q = 1 needs sigma_w^2 = 2.06; there chi_1 = 0.937" in gelu.message
    assert ("q = 1 is an unstable fixed point of the length map with zero biases (d q_next / d q = 1.14 > 1); "
            "bias variance sigma_b^2 = 0.126 makes it 1") in gelu.message
    sigmoid = auto(nn.Sequential(nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 8)), (8,), seed=0)
    assert "the backward signal shrinks x0.153 per layer" in sigmoid.message


def test_result_serialises_and_prints():
    result = auto(small_cnn(), (3, 16, 16), seed=0)
    data = json.loads(json.dumps(result.to_json()))
    assert [row["name"] for row in data["layers"]] == ["0", "2", "6"]
    assert data["layers"][1]["weight_std"] == pytest.approx(math.sqrt(2 / (16 * 9)))
    assert data["predicted_log_std_spread"] is None and data["stable"] is True
    assert str(result).splitlines()[0].split()[:3] == ["layer", "input", "act"]


def test_batch_norm_models_pass_the_shape_check_and_keep_their_mode():
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    auto(net, (4,), seed=0)
    assert net.training and net[1].training and int(net[1].num_batches_tracked) == 0


@pytest.mark.parametrize("shape", [(5,), (4, 3)])
def test_a_shape_the_model_rejects_is_a_value_error_naming_input_shape(shape):
    with pytest.raises(ValueError, match=r"^input_shape: the model rejected input of shape \[1, "):
        auto(nn.Sequential(nn.Linear(4, 2)), shape, seed=0)


@pytest.mark.parametrize("shape", [(0,), (-1, 3), "abc", 4, (2.5,)])
def test_a_malformed_input_shape_is_a_value_error(shape):
    with pytest.raises(ValueError, match=r"^input_shape: expected a tuple of positive integers"):
        auto(nn.Sequential(nn.Linear(4, 2)), shape, seed=0)


def test_an_activation_that_kills_the_signal_is_a_value_error_naming_it():
    class Zero(nn.Module):
        def forward(self, x):
            return x * 0.0

    with pytest.raises(ValueError, match=r"^model: activation 'Zero' has E\[act\(z\)\^2\] = 0 at q = 1"):
        auto(nn.Sequential(nn.Linear(4, 4), Zero(), nn.Linear(4, 2)), (4,), seed=0)


def test_bad_distribution_and_missing_seed_are_value_errors():
    with pytest.raises(ValueError, match=r"^distribution: unknown distribution 'normall' \(did you mean 'normal'"):
        auto(nn.Sequential(nn.Linear(4, 2)), (4,), seed=0, distribution="normall")
    with pytest.raises(ValueError, match=r"^generator, seed: give exactly one"):
        auto(nn.Sequential(nn.Linear(4, 2)), (4,))
