"""Truncated normals follow the library they name.

- variance_scaling(distribution=truncated_normal) is Keras' VarianceScaling / JAX's variance_scaling:
  N(0, s^2) cut at +-2 s with s = sqrt(scale/n) / 0.8796..., so the sample std is sqrt(scale/n).
- truncated_normal(bounds=sigma) is Keras' TruncatedNormal: cut at mean +- 2 std, no correction,
  so the sample std is about 0.88 std.
The references are scipy.stats.truncnorm samples drawn here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from _initlab_init_stats import (FAN_AVG, FAN_IN, FAN_OUT, KS_ALPHA, SHAPE, Z, kurtosis_truncnorm, se_std,
                                 truncnorm_moments)
from initlab.init import initializer

KERAS_TRUNCATED_NORMAL_STD = 0.87962566103423978
N = SHAPE[0] * SHAPE[1]
K_TN2 = kurtosis_truncnorm(-2.0, 2.0)


def scipy_truncnorm(alpha, beta, loc, scale, seed):
    return stats.truncnorm(alpha, beta, loc=loc, scale=scale).rvs(size=N, random_state=np.random.default_rng(seed))


@pytest.mark.parametrize(("scale", "mode", "n"), [(1.0, "fan_in", FAN_IN), (2.0, "fan_out", FAN_OUT),
                                                  (0.5, "fan_avg", FAN_AVG)])
def test_variance_scaling_truncated_normal_keeps_variance_scale_over_n_like_keras(scale, mode, n):
    target = math.sqrt(scale / n)
    ours = initializer(f"variance_scaling(scale={scale}, mode={mode}, distribution=truncated_normal)")(SHAPE, 31)
    reference = scipy_truncnorm(-2.0, 2.0, 0.0, target / KERAS_TRUNCATED_NORMAL_STD, seed=32)
    assert stats.ks_2samp(ours.ravel(), reference).pvalue > KS_ALPHA
    tol = Z * se_std(target, K_TN2, N)
    assert abs(ours.std() - target) <= tol
    assert abs(reference.std() - target) <= tol  # the reference itself has the corrected std
    # Power: without the 0.8796 correction the std would be 12% lower, ~90 standard errors away.
    assert abs(ours.std() - target * KERAS_TRUNCATED_NORMAL_STD) > 10 * tol


def test_variance_scaling_truncated_differs_from_an_uncorrected_truncation_ks():
    target = math.sqrt(1.0 / FAN_IN)
    ours = initializer("variance_scaling")(SHAPE, 33).ravel()
    uncorrected = scipy_truncnorm(-2.0, 2.0, 0.0, target, seed=34)
    assert stats.ks_2samp(ours, uncorrected).pvalue < 1e-6


@pytest.mark.parametrize(("mean", "std"), [(0.0, 0.5), (1.0, 0.5), (-3.0, 2.0)])
def test_truncated_normal_sigma_bounds_are_keras_truncated_normal(mean, std):
    ours = initializer(f"truncated_normal(mean={mean}, std={std}, bounds=sigma)")(SHAPE, 35).ravel()
    assert ours.min() >= mean - 2 * std and ours.max() <= mean + 2 * std
    reference = scipy_truncnorm(-2.0, 2.0, mean, std, seed=36)
    assert stats.ks_2samp(ours, reference).pvalue > KS_ALPHA
    expected = std * truncnorm_moments(-2.0, 2.0)[1]  # ~0.88 std: no variance correction
    assert expected == pytest.approx(0.8796 * std, rel=1e-4)
    assert abs(ours.std() - expected) <= Z * se_std(expected, K_TN2, N)
    assert abs(ours.mean() - mean) <= Z * expected / math.sqrt(N)


def test_truncated_normal_sigma_bounds_equal_absolute_bounds_at_mean_plus_minus_two_std():
    sigma = initializer("truncated_normal(mean=1, std=0.5, bounds=sigma)")(SHAPE, 37)
    absolute = initializer("truncated_normal(mean=1, std=0.5, a=0, b=2)")(SHAPE, 37)
    np.testing.assert_allclose(sigma, absolute, rtol=0, atol=1e-12)


def test_truncated_normal_default_bounds_are_absolute_like_torch_trunc_normal():
    # torch.nn.init.trunc_normal_(std=0.1) cuts at +-2 in value units, i.e. at +-20 std: no visible cut.
    w = initializer("truncated_normal(std=0.1)")(SHAPE, 38)
    assert abs(w.std() - 0.1) <= Z * se_std(0.1, 3.0, N)
    assert np.abs(w).max() > 0.4  # 4 std: far beyond a sigma-unit cut at 0.2


def test_asymmetric_sigma_bounds_give_the_closed_form_truncated_moments():
    ours = initializer("truncated_normal(mean=1, std=0.5, a=-1, b=1.5, bounds=sigma)")(SHAPE, 39)
    mean, std = truncnorm_moments(-1.0, 1.5, 1.0, 0.5)
    assert ours.min() >= 0.5 and ours.max() <= 1.75
    assert abs(ours.mean() - mean) <= Z * std / math.sqrt(N)
    assert abs(ours.std() - std) <= Z * se_std(std, kurtosis_truncnorm(-1.0, 1.5), N)


def test_truncated_normal_far_in_one_tail_stays_inside_and_near_the_lower_bound():
    import numpy as np
    from scipy import stats
    from initlab.init import initializer
    w = initializer("truncated_normal(a=30, b=40)")((20000,), rng=0)
    assert w.min() >= 30 and w.max() <= 40
    # N(0,1) restricted to [30, 40] has mean ~30.033 and std ~0.033 (scipy's exact values)
    exact = stats.truncnorm(30, 40)
    assert abs(w.mean() - exact.mean()) < 6 * exact.std() / np.sqrt(w.size)
