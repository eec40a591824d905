"""Which named scheme a tensor's values look drawn from (the `match` column of `initlab.torch.audit`).

The audit decides, in this order:

1. **constant** values (`constant_match`): ``zeros``, ``ones`` or ``constant(value=c)``; no test, no
   p-value. (The audit's orthogonal check comes next; then `match_values` does steps 2 and 3.)
2. **fan-based schemes**: the owning layer's own default when it has no registry name (an RNN's
   ``uniform(limit=1/sqrt(hidden_size))``), then the registry's `FAN_SCHEMES`, their mean and std
   from the registry's own formulas (`Initializer.moments`) for the tensor's fans (and, where torch
   would compute other fans from the stored tensor, e.g. ``nn.MultiheadAttention``'s (3E, E)
   ``in_proj_weight``, for those too). A scheme is consistent with the values when its std is within
   `STD_Z` standard errors of the tensor's (every entry), its extremes possible for the scheme
   (`extent_consistent`), and then a Kolmogorov-Smirnov test
   (`scipy.stats.kstest`) of the sample against its exact distribution gives p >= `ALPHA`. The std
   check is the sharper of the two for a scale: GPT-2's c_attn weight, normal(std=0.02), passes the KS
   test against lecun_normal over the fan_in torch reads from its stored (768, 2304) tensor (std
   0.0208), but its std is 80 standard errors from 0.0208. The first consistent scheme, in that
   order, wins: a small tensor is consistent with several, and the order puts the likeliest (torch's
   defaults) first.
3. Otherwise the **family** (normal, uniform, or normal truncated at +-2 std as Keras/JAX and
   ``variance_scaling`` draw it) is the first in that order whose standardised shape fits the values
   (KS on ``(x - mean) / std``, and extremes possible for it), and the match is
   a. that family's fan-free scheme with its parameter estimated from the values, when the estimate
      is a round number (one significant digit, within the sampling error): ``normal(std=0.02)``;
   b. else the fan-based scheme of that family whose std is nearest the values', when within a factor
      `NEAR` and more than `STD_TOLERANCE` from it (the audit flags the difference; a nearer one that
      the KS test rejects is not that scheme);
   c. else the fan-free scheme with its parameter given to the digits the sample supports.

A fan-free estimate always fits its own sample, so a named scheme with the tensor's fans is preferred
whenever it is consistent with the values (step 2 before step 3).

>>> import numpy as np
>>> from initlab.init import Fans
>>> rng = np.random.default_rng(0)
>>> def match(x, fan):
...     return match_values(x, fan, count=x.size, mean=x.mean(), std=x.std(), low=x.min(), high=x.max()).spec
>>> match(rng.uniform(-0.125, 0.125, 4096), Fans(64, 64))
'torch_default'
>>> match(rng.normal(0, 0.02, 4096), Fans(64, 64))
'normal(std=0.02)'
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from initlab.audit_flags import STD_TOLERANCE
from initlab.init import Fans, canonical, initializer, lookup
from initlab.init.laws import TRUNCATED_NORMAL_STD

ALPHA = 1e-4  # a scheme is consistent with the values when its KS p-value is at least this: 1 in 10,000
# samples of the right scheme is rejected, and a 20,000-entry sample still rejects a std 10% off (p ~ 1e-10)
NEAR = 1.5     # step 3b: a named scheme within this factor of the values' std is "that scheme, std off"
MEAN_ERRORS = 4.0  # a mean within 4 standard errors of 0 is 0 (a fit shows no mean)
MIN_VALUES = 8  # fewer (non-constant) values than this are not tested
EXACT_UP_TO = 2_000  # KS p-values: exact up to this many values, asymptotic beyond
STD_Z = 4.0  # step 2: a scheme's std within 4 standard errors of the tensor's std

# Fan-based schemes tried, in order of preference (a square weight's xavier_uniform is its lecun_uniform,
# and a small tensor fits several): torch's own default first, then the named schemes, then the Keras/JAX
# truncated-normal defaults (lecun_normal, he_normal and glorot_normal there).
FAN_SCHEMES = ("torch_default", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
               "he_uniform(mode=fan_out)", "he_normal(mode=fan_out)", "lecun_uniform", "lecun_normal",
               "variance_scaling", "variance_scaling(scale=2)", "variance_scaling(mode=fan_avg)")
NOTES = {"torch_default": "kaiming_uniform a=sqrt(5)"}
FAMILIES = ("normal", "uniform", "truncated_normal")
SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Match:
    """The scheme the values look drawn from: `spec` (an initlab spec `initlab.torch.apply` takes, or
    None), `label` (the spec with a note, as shown), the KS `p_value` (None for an exact check), and
    `std`, the std the scheme gives (None when not known)."""

    spec: str | None
    label: str
    p_value: float | None = None
    std: float | None = None


@dataclass(frozen=True)
class Candidate:
    spec: str
    family: str
    mean: float
    std: float
    note: str = ""

    def cdf(self):
        return family_cdf(self.family, self.mean, self.std)

    def p_value(self, values: np.ndarray) -> float:
        return ks_p_value(values, self.cdf())

    def std_consistent(self, std: float, count: int) -> bool:
        """Whether `count` values drawn from this candidate could have std `std`: within `STD_Z`
        standard errors (var(s) / sigma^2 is about (kurtosis - 1) / (4 n))."""
        error = math.sqrt((kurtosis(self.family) - 1.0) / (4.0 * count))
        return abs(std / self.std - 1.0) <= STD_Z * error

    def match(self, values: np.ndarray, p_value: float | None = None) -> Match:
        label = f"{self.spec} ({self.note})" if self.note else self.spec
        return Match(self.spec, label, self.p_value(values) if p_value is None else p_value, self.std)


@functools.cache
def kurtosis(family: str) -> float:
    """E[x^4] / E[x^2]^2 of the family about its mean: 3 (normal), 1.8 (uniform), 2.36 (cut at +-2 std)."""
    if family == "normal":
        return 3.0
    if family == "uniform":
        return 1.8
    from scipy import stats
    return float(stats.truncnorm(-2.0, 2.0).stats(moments="k")) + 3.0


def ks_p_value(values: np.ndarray, cdf) -> float:
    """`scipy.stats.kstest`'s p-value; asymptotic beyond `EXACT_UP_TO` values (the exact one costs 5 ms
    at 20,000 values; from 2,000 values on the two differ by about 1% of the p-value)."""
    from scipy import stats
    method = "auto" if len(values) <= EXACT_UP_TO else "asymp"
    return float(stats.kstest(values, cdf, method=method).pvalue)


def family_cdf(family: str, mean: float, std: float):
    """The cdf of the family's distribution with this mean and std (a truncated normal is cut at +-2
    of its underlying normal's std, as `variance_scaling` draws it). Closed forms over
    `scipy.special.ndtr`: freezing a `scipy.stats` distribution costs 2 ms, more than the test."""
    from scipy import special
    if family == "normal":
        return lambda x: special.ndtr((np.asarray(x) - mean) / std)
    if family == "uniform":
        low, width = mean - SQRT3 * std, 2 * SQRT3 * std
        return lambda x: np.clip((np.asarray(x) - low) / width, 0.0, 1.0)
    sigma, tail = std / TRUNCATED_NORMAL_STD, special.ndtr(-2.0)
    return lambda x: np.clip((special.ndtr((np.asarray(x) - mean) / sigma) - tail) / (1.0 - 2.0 * tail), 0.0, 1.0)


def family_of(spec: str) -> str:
    """normal, uniform or truncated_normal: the distribution a fan-based scheme spec draws from."""
    resolved = canonical(spec)
    family = dict(resolved.args).get("distribution") or lookup(resolved.name).distribution
    return {"untruncated_normal": "normal", "truncated_normal | normal | uniform": "truncated_normal"}.get(family, family)


def fan_candidates(shape: tuple[int, ...], fan: Fans, note: str = "") -> list[Candidate]:
    """Every scheme of `FAN_SCHEMES` as drawn for a tensor of `shape` with fans `fan`."""
    out = []
    for spec, family, init in _fan_schemes():
        mean, std = init.moments(shape, fan)
        notes = "; ".join(n for n in (NOTES.get(spec, ""), note) if n)
        out.append(Candidate(spec, family, mean, std, notes))
    return out


@functools.cache
def _fan_schemes() -> tuple:
    """(canonical spec, family, initializer) of each of `FAN_SCHEMES`, parsed once."""
    return tuple((str(canonical(spec)), family_of(spec), initializer(spec, layout="torch")) for spec in FAN_SCHEMES)


def rounded(value: float, tolerance: float) -> tuple[float, int]:
    """`value` with the fewest significant digits (1 to 4) within `tolerance` of it, and that number
    of digits (0 when the value rounds to zero).

    >>> rounded(0.020113, 0.0004), rounded(0.0823, 0.0004), rounded(0.0003, 0.001)
    ((0.02, 1), (0.082, 2), (0.0, 0))
    """
    if abs(value) <= tolerance:
        return 0.0, 0
    for digits in range(1, 5):
        candidate = float(f"{value:.{digits}g}")
        if abs(candidate - value) <= tolerance:
            return candidate, digits
    return float(f"{value:.4g}"), 4


def shape_family(values: np.ndarray, mean: float, std: float, low: float, high: float, count: int) -> str:
    """The first family of `FAMILIES` whose standardised distribution fits ``(values - mean) / std``
    (KS p-value >= ALPHA, and the extremes `low`, `high` of the `count` values consistent with it; a
    small sample fits several, and normal is the likeliest), else the best by KS."""
    z = (values - mean) / std
    slack = 1.0 + 5.0 / math.sqrt(count)  # mean and std are estimates: so is the family's support
    tested = {family: ks_p_value(z, family_cdf(family, 0.0, 1.0)) for family in FAMILIES}
    return next((family for family, p in tested.items()
                 if p >= ALPHA and extent_consistent(family, mean, std, low, high, count, slack)),
                max(tested, key=tested.get))


def extent_consistent(family: str, mean: float, std: float, low: float, high: float, count: int,
                      slack: float = 1.0 + 1e-5) -> bool:
    """Whether `count` draws from the family could have these extremes: inside the support of a
    uniform or truncated normal (times `slack`); for a normal, not so close to the mean that all
    `count` draws falling there has probability below ALPHA (a normal cut at +-2 std passes the KS
    test against an uncut one of the same std at 20,000 values, but 65,536 uncut draws all within
    2.27 std of the mean have probability 1e-660)."""
    from scipy import special
    if family == "normal":
        t = max(high - mean, mean - low) / std * slack
        return count * math.log1p(-2.0 * float(special.ndtr(-t))) >= math.log(ALPHA)
    half = SQRT3 * std if family == "uniform" else 2.0 * std / TRUNCATED_NORMAL_STD
    return mean - half * slack <= low and high <= mean + half * slack


def _number(value: float) -> str:
    return f"{value:g}"


def fitted(family: str, mean: float, std: float, count: int) -> tuple[Candidate, bool]:
    """The family's fan-free scheme with its parameter estimated from the values (`mean`, `std` of
    `count` values), rounded to the digits the sample supports, and whether that is one digit."""
    # std's relative standard error is about 1/sqrt(2n) for a normal sample: 3 of them, 0.1% at least
    relative = max(3.0 / math.sqrt(2.0 * count), 1e-3)
    m, _ = rounded(mean, MEAN_ERRORS * std / math.sqrt(count))
    shift = f"mean={_number(m)}, " if m else ""
    if family == "normal":
        s, digits = rounded(std, relative * std)
        return Candidate(f"normal({shift}std={_number(s)})", family, m, s), digits == 1
    if family == "uniform":
        limit, digits = rounded(SQRT3 * std, relative * SQRT3 * std)
        spec = (f"uniform(low={_number(m - limit)}, high={_number(m + limit)})" if m
                else f"uniform(limit={_number(limit)})")
        return Candidate(spec, family, m, limit / SQRT3), digits == 1
    sigma, digits = rounded(std / TRUNCATED_NORMAL_STD, relative * std / TRUNCATED_NORMAL_STD)
    spec = f"truncated_normal({shift}std={_number(sigma)}, a={_number(m - 2 * sigma)}, b={_number(m + 2 * sigma)})"
    return Candidate(spec, family, m, sigma * TRUNCATED_NORMAL_STD), digits == 1


def constant_match(value: float) -> Match:
    if value == 0.0:
        return Match("zeros", "zeros")
    if value == 1.0:
        return Match("ones", "ones")
    spec = f"constant(value={value:.6g})"
    return Match(spec, spec)


def match_values(values: np.ndarray, fan: Fans | None = None, torch_fan: Fans | None = None, *,
                 count: int, mean: float, std: float, low: float, high: float, shape: tuple[int, ...] = (1, 1),
                 defaults: tuple[Candidate, ...] = ()) -> Match:
    """The scheme the finite, non-constant `values` (a sample of a tensor of `shape`) look drawn from,
    by steps 2 and 3 of the module doc. `mean`, `std`, `low` and `high` are the whole tensor's (`count`
    finite values); `fan` the fans of the tensor's weight, `torch_fan` those torch computes from the
    stored tensor if they differ; `defaults` the owning layer's own default init, tried first."""
    if len(values) < MIN_VALUES:
        return Match(None, f"too few values to test ({len(values)})")
    named = list(defaults) + (fan_candidates(shape, fan) if fan is not None else [])
    if torch_fan is not None and torch_fan != fan:
        note = f"fans of the stored tensor: {_number(torch_fan.fan_in)}, {_number(torch_fan.fan_out)}"
        named += fan_candidates(shape, torch_fan, note)
    values = np.sort(values)  # kstest sorts at each call: sorted, that is quick
    for candidate in named:  # the first consistent one: a small tensor is consistent with several
        if not (candidate.std_consistent(std, count)
                and extent_consistent(candidate.family, candidate.mean, candidate.std, low, high, count)):
            continue
        p = candidate.p_value(values)
        if p >= ALPHA:
            return candidate.match(values, p)
    family = shape_family(values, mean, std, low, high, count)
    fit, round_number = fitted(family, mean, std, count)
    if not round_number:
        near = [c for c in named if c.family == family and abs(math.log(std / c.std)) <= math.log(NEAR)]
        nearest = min(near, key=lambda c: abs(math.log(std / c.std)), default=None)
        if nearest is not None and abs(std / nearest.std - 1.0) > STD_TOLERANCE:
            return nearest.match(values)
    return fit.match(values)
