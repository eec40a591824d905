"""Statistical helpers shared by the initializer tests: tolerances derived from the sample size.

Every tolerance here is Z standard errors of the estimator it bounds, with Z = 6: for a
Gaussian estimator the two-sided tail beyond 6 sigma is 2e-9, so a correct implementation
essentially never fails, while a wrong formula (a missing gain, fan_in vs fan_avg, a missing
truncation correction) moves the estimate by tens of standard errors at n >= 1e5.
Seeds are fixed, so every test is deterministic anyway; Z is what makes the bound honest.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

Z = 6.0          # standard errors allowed for any sample statistic
KS_ALPHA = 1e-3  # a KS test of two samples of the same law passes when p > KS_ALPHA

# The shape used for moment checks: 1e5 values, numpy layout (fan_in, fan_out).
SHAPE = (400, 250)
FAN_IN, FAN_OUT = 400, 250
FAN_AVG = (FAN_IN + FAN_OUT) / 2


def phi(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def Phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def truncnorm_moments(alpha: float, beta: float, mean: float = 0.0, std: float = 1.0) -> tuple[float, float]:
    """Closed-form mean and std of N(mean, std^2) conditioned on alpha <= (x - mean)/std <= beta.

    mean + std (phi(alpha) - phi(beta)) / Z and
    std^2 [1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2],
    Z = Phi(beta) - Phi(alpha). Written here so the test does not reuse scipy's truncnorm, which
    the library uses.
    """
    z = Phi(beta) - Phi(alpha)
    d = (phi(alpha) - phi(beta)) / z
    var = 1 + (alpha * phi(alpha) - beta * phi(beta)) / z - d * d
    return mean + std * d, std * math.sqrt(var)


# Kurtosis (4th standardised moment, not excess) of each family, for the std-of-std formula.
KURTOSIS_NORMAL = 3.0
KURTOSIS_UNIFORM = 9.0 / 5.0


def kurtosis_truncnorm(alpha: float, beta: float) -> float:
    return float(stats.truncnorm(alpha, beta).stats(moments="k")) + 3.0


def se_mean(sigma: float, n: int) -> float:
    """Standard error of a sample mean of n iid values with std sigma: sigma / sqrt(n)."""
    return sigma / math.sqrt(n)


def se_std(sigma: float, kurtosis: float, n: int) -> float:
    """Asymptotic standard error of the sample std of n iid values.

    The sample variance s^2 has Var(s^2) ~= sigma^4 (kurtosis - 1) / n; by the delta method,
    s = sqrt(s^2) has Var(s) ~= Var(s^2) / (2 sigma)^2 = sigma^2 (kurtosis - 1) / (4 n).
    (Normal: sigma / sqrt(2n); uniform: sigma sqrt(0.2/n).)
    """
    return sigma * math.sqrt((kurtosis - 1.0) / (4.0 * n))


def assert_sample_moments(sample: np.ndarray, mean: float, std: float, kurtosis: float) -> None:
    """Sample mean and std agree with (mean, std) within Z standard errors."""
    n = sample.size
    m, s = float(sample.mean()), float(sample.std())
    if std == 0.0:
        assert np.all(sample == mean), f"constant law: expected every value {mean}, got mean {m}, std {s}"
        return
    tol_mean, tol_std = Z * se_mean(std, n), Z * se_std(std, kurtosis, n)
    assert abs(m - mean) <= tol_mean, f"sample mean {m} vs {mean}: off by {abs(m - mean)} > {tol_mean} (n={n})"
    assert abs(s - std) <= tol_std, f"sample std {s} vs {std}: off by {abs(s - std)} > {tol_std} (n={n})"


def near_edge_margin(n: int, density_at_edge: float, tail: float = 1e-9) -> float:
    """A margin d such that P(no sample within d of an edge) <= tail.

    With a density at least `density_at_edge` near the edge, P(one sample within d) >= density * d
    and P(none of n) <= exp(-n density d); solve exp(-n density d) = tail for d.
    """
    return -math.log(tail) / (n * density_at_edge)


def by_first(rows):
    """pytest parameters for tuples `rows`, each identified by its first item (a spec string)."""
    return [pytest.param(*row, id=str(row[0])) for row in rows]
