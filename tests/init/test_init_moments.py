"""Every registered scheme: the formula it states (`moments`) is the formula it should have, and a
large sample (1e5 values) shows that mean and std within sample-size-derived tolerances."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from _initlab_init_stats import (FAN_AVG, FAN_IN, FAN_OUT, KURTOSIS_NORMAL, KURTOSIS_UNIFORM, SHAPE,
                                 assert_sample_moments, by_first, kurtosis_truncnorm, near_edge_margin,
                                 truncnorm_moments)
from initlab.init import SCHEMES, canonical, fans, initializer

SQRT3 = math.sqrt(3.0)
TN2_STD = truncnorm_moments(-2.0, 2.0)[1]  # std of N(0,1) truncated to +-2: 0.8796...
KERAS_TRUNCATED_NORMAL_STD = 0.87962566103423978  # the constant Keras / JAX divide by
N_VALUES = SHAPE[0] * SHAPE[1]


@dataclass(frozen=True)
class Case:
    spec: str
    mean: float
    std: float
    kurtosis: float  # of the law, for the std-of-sample-std tolerance (nan: exact law)
    shape: tuple[int, ...] = SHAPE


def normal(spec, mean, std):
    return Case(spec, mean, std, KURTOSIS_NORMAL)


def uniform(spec, low, high):
    return Case(spec, (low + high) / 2, (high - low) / math.sqrt(12.0), KURTOSIS_UNIFORM)


def symmetric_uniform(spec, bound):
    return uniform(spec, -bound, bound)


def truncnorm(spec, mean, std, a, b, absolute=True):
    alpha, beta = ((a - mean) / std, (b - mean) / std) if absolute else (a, b)
    m, s = truncnorm_moments(alpha, beta, mean, std)
    return Case(spec, m, s, kurtosis_truncnorm(alpha, beta))


def const(spec, value):
    return Case(spec, value, 0.0, math.nan)


_P_EYE = min(SHAPE) / N_VALUES  # fraction of ones in eye(400, 250)
_P_DIRAC = 250 / (9 * 250 * 400)  # fraction of ones in dirac_ of a 3x3 kernel, 250 -> 400 channels
_N = {"fan_in": FAN_IN, "fan_out": FAN_OUT, "fan_avg": FAN_AVG}

# Expected (mean, std) for SHAPE = (fan_in=400, fan_out=250), written from the published formulas.
CASES = [
    const("zeros", 0.0),
    const("ones", 1.0),
    const("constant", 0.0),
    const("constant(value=0.3)", 0.3),
    const("constant(-2.5)", -2.5),
    normal("normal", 0.0, 1.0),
    normal("normal(std=10)", 0.0, 10.0),  # randn * 10 of Imad Dabbura's article
    normal("normal(mean=-2, std=0.5)", -2.0, 0.5),
    uniform("uniform", 0.0, 1.0),  # torch.nn.init.uniform_ default U(0, 1)
    symmetric_uniform("uniform(limit=0.12)", 0.12),
    uniform("uniform(low=-1, high=3)", -1.0, 3.0),
    symmetric_uniform("epsilon_uniform", math.sqrt(6.0) / math.sqrt(FAN_IN + FAN_OUT)),  # Ng
    symmetric_uniform("epsilon_uniform(epsilon=0.12)", 0.12),
    symmetric_uniform("xavier_uniform", math.sqrt(6.0 / (FAN_IN + FAN_OUT))),
    symmetric_uniform("xavier_uniform(gain=1.41)", 1.41 * math.sqrt(6.0 / (FAN_IN + FAN_OUT))),
    normal("xavier_normal", 0.0, math.sqrt(2.0 / (FAN_IN + FAN_OUT))),
    normal("glorot_normal(gain=0.5)", 0.0, 0.5 * math.sqrt(2.0 / (FAN_IN + FAN_OUT))),
    symmetric_uniform("he_uniform", math.sqrt(2.0) * math.sqrt(3.0 / FAN_IN)),
    symmetric_uniform("he_uniform(nonlinearity=tanh)", 5.0 / 3.0 * math.sqrt(3.0 / FAN_IN)),
    symmetric_uniform("kaiming_uniform(mode=fan_out, nonlinearity=relu)", math.sqrt(2.0) * math.sqrt(3.0 / FAN_OUT)),
    normal("he_normal", 0.0, math.sqrt(2.0 / FAN_IN)),
    normal("he_normal(mode=fan_out)", 0.0, math.sqrt(2.0 / FAN_OUT)),
    normal("kaiming_normal(a=0.2, nonlinearity=leaky_relu)", 0.0, math.sqrt(2.0 / (1 + 0.2**2)) / math.sqrt(FAN_IN)),
    normal("he_normal(nonlinearity=selu)", 0.0, 0.75 / math.sqrt(FAN_IN)),
    symmetric_uniform("lecun_uniform", math.sqrt(3.0 / FAN_IN)),
    normal("lecun_normal", 0.0, math.sqrt(1.0 / FAN_IN)),
    truncnorm("truncated_normal", 0.0, 1.0, -2.0, 2.0),
    truncnorm("truncated_normal(std=0.5, a=-1, b=1)", 0.0, 0.5, -1.0, 1.0),
    truncnorm("truncated_normal(std=0.5, bounds=sigma)", 0.0, 0.5, -2.0, 2.0, absolute=False),
    truncnorm("truncated_normal(mean=0.5, std=2, a=-1, b=4)", 0.5, 2.0, -1.0, 4.0),
    truncnorm("truncated_normal(mean=1, std=0.5, a=-1, b=1.5, bounds=sigma)", 1.0, 0.5, -1.0, 1.5, absolute=False),
    # Keras/JAX variance_scaling: truncated to +-2 s with s = sqrt(scale/n) / 0.8796, so std = sqrt(scale/n).
    Case("variance_scaling", 0.0, math.sqrt(1.0 / FAN_IN), kurtosis_truncnorm(-2, 2)),
    *[Case(f"variance_scaling(scale=2, mode={mode}, distribution={dist})", 0.0, math.sqrt(2.0 / _N[mode]),
           {"truncated_normal": kurtosis_truncnorm(-2, 2), "normal": KURTOSIS_NORMAL,
            "untruncated_normal": KURTOSIS_NORMAL, "uniform": KURTOSIS_UNIFORM}[dist])
      for mode in ("fan_in", "fan_out", "fan_avg")
      for dist in ("truncated_normal", "normal", "untruncated_normal", "uniform")],
    normal("meanfield(sigma_w2=1.5)", 0.0, math.sqrt(1.5 / FAN_IN)),  # sigma_w^2 / fan_in, the mean-field notation
    normal("meanfield_bias(sigma_b2=0.05)", 0.0, math.sqrt(0.05)),
    const("meanfield_bias(sigma_b2=0)", 0.0),
    # Orthogonal: Frobenius norm^2 = min(rows, cols), so entry variance is gain^2 / max(rows, cols).
    normal("orthogonal", 0.0, 1.0 / math.sqrt(max(SHAPE))),
    normal("orthogonal(gain=2)", 0.0, 2.0 / math.sqrt(max(SHAPE))),
    # Delta-orthogonal 3x3 (in=250 <= out=400, numpy layout): 1/9 of the entries are an orthogonal matrix's
    # (variance 1/out), the rest 0, so std = 1/sqrt(9 * out) and kurtosis 9 * 3 = 27.
    Case("delta_orthogonal", 0.0, 1.0 / math.sqrt(9 * 400), 27.0, (3, 3, 250, 400)),
    Case("delta_orthogonal(gain=2)", 0.0, 2.0 / math.sqrt(9 * 400), 27.0, (3, 3, 250, 400)),
    Case("identity", _P_EYE, math.sqrt(_P_EYE * (1 - _P_EYE)), math.nan),
    Case("eye(gain=3)", 3 * _P_EYE, 3 * math.sqrt(_P_EYE * (1 - _P_EYE)), math.nan),
    # nn.Linear's default: kaiming_uniform_(a=sqrt 5) = U(+-1/sqrt(fan_in)).
    symmetric_uniform("torch_default", 1.0 / math.sqrt(FAN_IN)),
    # Glorot & Bengio 2010, eq. 1: the "standard" U(+-1/sqrt(n)), n = fan_in.
    symmetric_uniform("glorot_standard", 1.0 / math.sqrt(FAN_IN)),
    # JAX's fan_geo_avg: n = sqrt(fan_in * fan_out) = sqrt(400 * 250) = 316.2...
    normal("variance_scaling(scale=2, mode=fan_geo_avg, distribution=normal)", 0.0, math.sqrt(2.0 / math.sqrt(FAN_IN * FAN_OUT))),
    # dirac_ on a (3, 3, 250, 400) numpy-layout kernel: 250 ones among 9 * 250 * 400 entries.
    Case("dirac", _P_DIRAC, math.sqrt(_P_DIRAC * (1 - _P_DIRAC)), math.nan, (3, 3, 250, 400)),
    # sparse_ (numpy layout (in, out) = torch's transpose): ceil(0.1 * 250) = 25 zeros in each row of 250,
    # the rest N(0, 0.01^2): std 0.01 * sqrt(225/250), kurtosis 3 / (225/250).
    Case("sparse", 0.0, 0.01 * math.sqrt(225 / 250), 3.0 / (225 / 250)),
    # Mean-field criticality (chi_1 = 1): relu at sigma_w^2 = 2, tanh without bias at sigma_w^2 = 1.
    normal("critical(activation=relu, sigma_b2=0)", 0.0, math.sqrt(2.0 / FAN_IN)),
    normal("critical(sigma_b2=0)", 0.0, math.sqrt(1.0 / FAN_IN)),
]
IDS = [c.spec for c in CASES]
EXACT = ("identity", "eye", "dirac")  # deterministic laws whose std is not a sampling quantity


def test_cases_cover_every_registered_scheme():
    covered = {canonical(c.spec).name for c in CASES}
    assert covered == set(SCHEMES), f"schemes without a moment test: {set(SCHEMES) - covered}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_stated_moments_equal_independently_computed_formula(case):
    mean, std = initializer(case.spec).moments(case.shape)
    assert mean == pytest.approx(case.mean, rel=1e-12, abs=1e-15)
    assert std == pytest.approx(case.std, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sample_of_1e5_values_matches_stated_moments(case):
    init = initializer(case.spec)
    sample = init(case.shape, rng=20240611)
    assert sample.shape == case.shape and sample.dtype == np.float64
    mean, std = init.moments(case.shape)
    if case.spec.startswith(EXACT):
        assert (float(sample.mean()), float(sample.std())) == pytest.approx((mean, std), rel=1e-12)
    else:
        assert_sample_moments(sample, mean, std, case.kurtosis)


def test_sample_moment_check_rejects_a_wrong_formula():
    # Power of the tolerance: he_normal's sample is far outside lecun_normal's std bound
    # (sqrt 2 apart), and sqrt(2/fan_in) is outside the bound for sqrt(2/fan_avg).
    sample = initializer("he_normal")(SHAPE, rng=1)
    with pytest.raises(AssertionError):
        assert_sample_moments(sample, 0.0, math.sqrt(1.0 / FAN_IN), KURTOSIS_NORMAL)
    with pytest.raises(AssertionError):
        assert_sample_moments(sample, 0.0, math.sqrt(2.0 / FAN_AVG), KURTOSIS_NORMAL)


# ---------------------------------------------------------------- bounds of the bounded laws

def assert_bound_is_attained(sample, low, high):
    """low <= sample <= high and both edges are approached within a margin that a sample of
    this size reaches with probability 1 - 1e-9 (see near_edge_margin)."""
    assert sample.min() >= low and sample.max() <= high, (sample.min(), sample.max(), low, high)
    margin = near_edge_margin(sample.size, 1.0 / (high - low))  # uniform density, a lower bound for these laws
    assert sample.min() <= low + margin and sample.max() >= high - margin


@pytest.mark.parametrize(("spec", "bound"), by_first([
    ("torch_default", 1.0 / math.sqrt(FAN_IN)),
    ("epsilon_uniform(epsilon=0.12)", 0.12),
    ("epsilon_uniform", math.sqrt(6.0) / math.sqrt(FAN_IN + FAN_OUT)),
    ("xavier_uniform", math.sqrt(6.0 / (FAN_IN + FAN_OUT))),
    ("he_uniform", math.sqrt(6.0 / FAN_IN)),
    ("lecun_uniform", math.sqrt(3.0 / FAN_IN)),
    ("uniform(limit=0.12)", 0.12),
]))
def test_symmetric_uniform_scheme_fills_exactly_its_bound(spec, bound):
    assert_bound_is_attained(initializer(spec)(SHAPE, rng=5), -bound, bound)


def test_uniform_low_high_fills_exactly_low_to_high():
    assert_bound_is_attained(initializer("uniform(low=-1, high=3)")(SHAPE, rng=6), -1.0, 3.0)


def test_torch_default_bias_uses_the_weights_fan_in():
    init = initializer("torch_default")
    weight_fans = fans(SHAPE)
    bias = init((100_000,), rng=7, fan=weight_fans)
    assert bias.shape == (100_000,)
    assert_bound_is_attained(bias, -1.0 / math.sqrt(FAN_IN), 1.0 / math.sqrt(FAN_IN))
    assert init.moments((FAN_OUT,), fan=weight_fans) == pytest.approx((0.0, 1.0 / math.sqrt(FAN_IN) / SQRT3))
    # Without the override a 1-D (n,) shape has fan_in = n, a different bound.
    assert init.moments((100_000,))[1] == pytest.approx(1.0 / math.sqrt(100_000) / SQRT3)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_variance_scaling_truncated_normal_is_cut_at_two_corrected_stds(scale, mode):
    bound = 2.0 * math.sqrt(scale / _N[mode]) / KERAS_TRUNCATED_NORMAL_STD
    sample = initializer(f"variance_scaling(scale={scale}, mode={mode})")(SHAPE, rng=8)
    assert np.abs(sample).max() <= bound
    # Density of the truncated normal at its edge, in value units: phi(2) / (s * (Phi(2) - Phi(-2))).
    s = bound / 2.0
    edge_density = math.exp(-2.0) / math.sqrt(2 * math.pi) / (s * (2 * 0.5 * (1 + math.erf(2 / math.sqrt(2))) - 1))
    margin = near_edge_margin(sample.size, edge_density)
    assert sample.min() <= -bound + margin and sample.max() >= bound - margin


def test_truncated_normal_respects_absolute_bounds_and_reaches_them():
    mean, std, a, b = 0.5, 2.0, -1.0, 4.0
    sample = initializer(f"truncated_normal(mean={mean}, std={std}, a={a}, b={b})")(SHAPE, rng=9)
    assert sample.min() >= a and sample.max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    edge_density = min(math.exp(-alpha**2 / 2), math.exp(-beta**2 / 2)) / math.sqrt(2 * math.pi) / (std * z)
    margin = near_edge_margin(sample.size, edge_density)
    assert sample.min() <= a + margin and sample.max() >= b - margin


def test_keras_constant_is_the_std_of_a_unit_normal_truncated_at_two():
    assert TN2_STD == pytest.approx(KERAS_TRUNCATED_NORMAL_STD, rel=1e-14)


def test_torch_default_is_kaiming_uniform_with_a_sqrt5_bit_for_bit():
    a = initializer("torch_default")(SHAPE, rng=10)
    b = initializer(f"he_uniform(a={math.sqrt(5.0)!r})")(SHAPE, rng=10)
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=0)


def test_epsilon_uniform_default_is_xavier_uniform():
    np.testing.assert_array_equal(initializer("epsilon_uniform")(SHAPE, rng=11),
                                  initializer("xavier_uniform")(SHAPE, rng=11))
