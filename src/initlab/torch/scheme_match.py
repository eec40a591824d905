"""Which named scheme a tensor's values look drawn from (the `match` column of `initlab.torch.audit`).

`match_values(values, ...)` decides, in this order:

1. **constant** values: ``zeros``, ``ones`` or ``constant(value=c)``; no test, no p-value.
2. **fan-based schemes**: the owning layer's own default when it has no registry name (an RNN's
   ``uniform(limit=1/sqrt(hidden_size))``), then the registry's `FAN_SCHEMES`, their mean and std
   from the registry's own formulas (`Initializer.moments`) for the tensor's fans (and, where torch
   would compute other fans from the stored tensor, e.g. ``nn.MultiheadAttention``'s (3E, E)
   ``in_proj_weight``, for those too): each is a Kolmogorov-Smirnov test (`scipy.stats.kstest`) of
   the sample against that exact distribution. The first, in that order, with p >= `ALPHA` wins: a
   small tensor is consistent with several, and the order puts the likeliest (torch's defaults) first.
3. Otherwise the **family** (normal, uniform, or normal truncated at +-2 std as Keras/JAX and
   ``variance_scaling`` draw it) is the first in that order whose standardised shape fits the values
   (KS on ``(x - mean) / std``), and the match is
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
>>> match_values(rng.uniform(-0.125, 0.125, 4096), Fans(64, 64), count=4096, mean=0.0, std=0.125 / 3 ** 0.5).spec
'torch_default'
>>> match_values(rng.normal(0, 0.02, 4096), Fans(64, 64), count=4096, mean=0.0, std=0.02).spec
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
        from scipy import stats
        return float(stats.kstest(values, self.cdf()).pvalue)

    def match(self, values: np.ndarray, p_value: float | None = None) -> Match:
        label = f"{self.spec} ({self.note})" if self.note else self.spec
        return Match(self.spec, label, self.p_value(values) if p_value is None else p_value, self.std)


def family_cdf(family: str, mean: float, std: float):
    """The cdf of the family's distribution with this mean and std (a truncated normal is cut at +-2
    of its underlying normal's std, as `variance_scaling` draws it)."""
    from scipy import special, stats
    if family == "normal":
        return stats.norm(mean, std).cdf
    if family == "uniform":
        return stats.uniform(mean - SQRT3 * std, 2 * SQRT3 * std).cdf
    sigma, low = std / TRUNCATED_NORMAL_STD, special.ndtr(-2.0)
    # scipy.stats.truncnorm's cdf is ten times slower than this closed form, which is all it computes
    return lambda x: np.clip((special.ndtr((np.asarray(x) - mean) / sigma) - low) / (1.0 - 2.0 * low), 0.0, 1.0)


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


def shape_family(values: np.ndarray, mean: float, std: float) -> str:
    """The first family of `FAMILIES` whose standardised distribution fits ``(values - mean) / std``
    (KS p-value >= ALPHA; a small sample fits several, and normal is the likeliest), else the best."""
    from scipy import stats
    z = (values - mean) / std
    tested = {family: stats.kstest(z, family_cdf(family, 0.0, 1.0)).pvalue for family in FAMILIES}
    return next((family for family, p in tested.items() if p >= ALPHA), max(tested, key=tested.get))


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
                 count: int, mean: float, std: float, shape: tuple[int, ...] = (1, 1),
                 defaults: tuple[Candidate, ...] = ()) -> Match:
    """The scheme the finite, non-constant `values` (a sample of a tensor of `shape`) look drawn from,
    by steps 2 and 3 of the module doc. `mean` and `std` are the whole tensor's (`count` finite
    values); `fan` the fans of the tensor's weight, `torch_fan` those torch computes from the stored
    tensor if they differ; `defaults` the owning layer's own default init, tried first."""
    if len(values) < MIN_VALUES:
        return Match(None, f"too few values to test ({len(values)})")
    named = list(defaults) + (fan_candidates(shape, fan) if fan is not None else [])
    if torch_fan is not None and torch_fan != fan:
        note = f"fans of the stored tensor: {_number(torch_fan.fan_in)}, {_number(torch_fan.fan_out)}"
        named += fan_candidates(shape, torch_fan, note)
    for candidate in named:  # the first consistent one: a small tensor is consistent with several
        p = candidate.p_value(values)
        if p >= ALPHA:
            return candidate.match(values, p)
    family = shape_family(values, mean, std)
    fit, round_number = fitted(family, mean, std, count)
    if not round_number:
        near = [c for c in named if c.family == family and abs(math.log(std / c.std)) <= math.log(NEAR)]
        nearest = min(near, key=lambda c: abs(math.log(std / c.std)), default=None)
        if nearest is not None and abs(std / nearest.std - 1.0) > STD_TOLERANCE:
            return nearest.match(values)
    return fit.match(values)
