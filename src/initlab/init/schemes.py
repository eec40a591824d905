"""Every named scheme, one short factory each. Scaled schemes are one `variance_scaling` call.

Where PyTorch, Keras and JAX disagree, initlab follows PyTorch for the names PyTorch uses
(``xavier_*``, ``he_*``/``kaiming_*``: untruncated normal, gains from `gain`), and Keras/JAX for
``variance_scaling`` (truncated normal with the std correction). ``lecun_normal`` is untruncated
like the other ``*_normal`` schemes; Keras/JAX's version is
``variance_scaling(scale=1, mode=fan_in, distribution=truncated_normal)``.
"""

from __future__ import annotations

import math

from initlab.init import laws
from initlab._checks import choice, integer, number
from initlab.init.gains import gain
from initlab.init.registry import scheme

MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
TORCH_MODES = ("fan_in", "fan_out")
DISTRIBUTIONS = ("truncated_normal", "normal", "untruncated_normal", "uniform")


@scheme("zeros", formula="0", distribution="constant", source="torch.nn.init.zeros_; the symmetric start that Andrew Ng's and the deeplearning.ai courses warn against")
def zeros() -> laws.Law:
    """All zeros: every unit of a layer computes the same thing forever (symmetry)."""
    return laws.constant(0.0)


@scheme("ones", formula="1", distribution="constant", source="torch.nn.init.ones_")
def ones() -> laws.Law:
    return laws.constant(1.0)


@scheme("constant", formula="value", distribution="constant", source="torch.nn.init.constant_")
def constant(value: float = 0.0) -> laws.Law:
    return laws.constant(number("value", value))


@scheme("normal", formula="N(mean, std^2)", distribution="normal",
        source="torch.nn.init.normal_; randn * k is normal(std=k): 0.01 in deeplearning.ai course 1 week 3, 10 in Imad Dabbura's article")
def normal(std: float = 1.0, mean: float = 0.0) -> laws.Law:
    std, mean = number("std", std, positive=True), number("mean", mean)
    return laws.normal(mean, laws.fixed(std))


@scheme("uniform", formula="U(-limit, limit) or U(low, high)", distribution="uniform",
        source="torch.nn.init.uniform_ (default U(0, 1))")
def uniform(limit: float | None = None, low: float | None = None, high: float | None = None) -> laws.Law:
    if limit is not None:
        if low is not None or high is not None:
            raise ValueError(f"limit, low, high: give either limit or low and high, got limit={limit!r}, "
                             f"low={low!r}, high={high!r}")
        limit = number("limit", limit, positive=True)
        return laws.symmetric_uniform(laws.fixed(limit))
    low = 0.0 if low is None else number("low", low)
    high = 1.0 if high is None else number("high", high)
    if not low < high:
        raise ValueError(f"low, high: expected low < high, got low={low:g}, high={high:g}")
    return laws.uniform(laws.fixed(low), laws.fixed(high))


@scheme("epsilon_uniform", formula="U(-e, e), e = sqrt(6)/sqrt(fan_in + fan_out)", distribution="uniform",
        source="Andrew Ng's Machine Learning course, 'Random initialization'; exercise 4: epsilon=0.12",
        fan_axes=True)
def epsilon_uniform(epsilon: float | None = None) -> laws.Law:
    """Ng's symmetry-breaking init. With the default epsilon it equals `xavier_uniform`;
    the course's 400-25-10 network uses the fixed ``epsilon=0.12``."""
    if epsilon is not None:
        epsilon = number("epsilon", epsilon, positive=True)
        return laws.symmetric_uniform(laws.fixed(epsilon))
    return laws.variance_scaling(1.0, "fan_avg", "uniform")


@scheme("xavier_uniform", aliases=("glorot_uniform",), formula="U(-b, b), b = gain*sqrt(6/(fan_in + fan_out))",
        distribution="uniform", source="Glorot & Bengio 2010; torch.nn.init.xavier_uniform_", fan_axes=True)
def xavier_uniform(gain: float = 1.0) -> laws.Law:
    return laws.variance_scaling(number("gain", gain, positive=True) ** 2, "fan_avg", "uniform")


@scheme("xavier_normal", aliases=("glorot_normal",), formula="N(0, gain^2 * 2/(fan_in + fan_out))",
        distribution="normal", source="Glorot & Bengio 2010; torch.nn.init.xavier_normal_ (untruncated)",
        fan_axes=True)
def xavier_normal(gain: float = 1.0) -> laws.Law:
    return laws.variance_scaling(number("gain", gain, positive=True) ** 2, "fan_avg", "normal")


def _kaiming_scale(a: float, mode: str, nonlinearity: str) -> tuple[float, str]:
    choice("mode", mode, TORCH_MODES)
    return gain(nonlinearity, number("a", a)) ** 2, mode


@scheme("he_uniform", aliases=("kaiming_uniform",), formula="U(-b, b), b = gain*sqrt(3/fan_mode)",
        distribution="uniform", source="He et al. 2015; torch.nn.init.kaiming_uniform_", fan_axes=True)
def he_uniform(a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> laws.Law:
    """gain = gain(nonlinearity, a); the defaults give gain sqrt(2), as in torch."""
    return laws.variance_scaling(*_kaiming_scale(a, mode, nonlinearity), "uniform")


@scheme("he_normal", aliases=("kaiming_normal",), formula="N(0, gain^2/fan_mode)",
        distribution="normal", source="He et al. 2015; torch.nn.init.kaiming_normal_ (untruncated); deeplearning.ai course 2 week 1",
        fan_axes=True)
def he_normal(a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> laws.Law:
    """gain = gain(nonlinearity, a); the defaults give N(0, 2/fan_in), as in torch."""
    return laws.variance_scaling(*_kaiming_scale(a, mode, nonlinearity), "normal")


@scheme("glorot_standard", formula="U(-1/sqrt(fan_in), 1/sqrt(fan_in))", distribution="uniform",
        source="Glorot & Bengio 2010, eq. 1: the 'commonly used heuristic' they compare with (variance 1/(3 fan_in))",
        fan_axes=True)
def glorot_standard() -> laws.Law:
    """The paper's "standard" initialization, which its normalized one (`xavier_uniform`) replaces: with
    variance 1/(3 n) each layer multiplies the signal's variance by about 1/3 near tanh's linear regime.
    The same law as `torch_default`'s weights."""
    return laws.variance_scaling(1.0 / 3.0, "fan_in", "uniform")


@scheme("lecun_uniform", formula="U(-b, b), b = sqrt(3/fan_in)", distribution="uniform",
        source="LeCun et al. 1998; keras lecun_uniform, jax.nn.initializers.lecun_uniform", fan_axes=True)
def lecun_uniform() -> laws.Law:
    return laws.variance_scaling(1.0, "fan_in", "uniform")


@scheme("lecun_normal", formula="N(0, 1/fan_in)", distribution="normal",
        source="LeCun et al. 1998 (untruncated); the 'Xavier' of Imad Dabbura's article (2018): randn * sqrt(1/fan_in)",
        fan_axes=True)
def lecun_normal() -> laws.Law:
    return laws.variance_scaling(1.0, "fan_in", "normal")


@scheme("truncated_normal", formula="N(mean, std^2) restricted to [a, b] (absolute) or mean + std*[a, b] (sigma)",
        distribution="truncated normal",
        source="bounds=absolute: torch.nn.init.trunc_normal_; bounds=sigma: keras TruncatedNormal, jax truncated_normal")
def truncated_normal(std: float = 1.0, mean: float = 0.0, a: float = -2.0, b: float = 2.0,
                     bounds: str = "absolute") -> laws.Law:
    """No std correction: the sample's std is smaller than `std` (0.88 std for +-2 sigma),
    as in all three libraries. `variance_scaling` is the one that corrects."""
    std, mean = number("std", std, positive=True), number("mean", mean)
    a, b = number("a", a), number("b", b)
    if not a < b:
        raise ValueError(f"a, b: expected a < b, got a={a:g}, b={b:g}")
    if choice("bounds", bounds, ("absolute", "sigma")) == "absolute":
        a, b = (a - mean) / std, (b - mean) / std
    return laws.truncated_normal(mean, laws.fixed(std), a, b)


@scheme("variance_scaling", formula="variance scale/n, n = fan_in | fan_out | (fan_in + fan_out)/2 | sqrt(fan_in * fan_out)",
        distribution="truncated_normal | normal | uniform",
        source="keras VarianceScaling, jax.nn.initializers.variance_scaling", fan_axes=True)
def variance_scaling(scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal") -> laws.Law:
    choice("mode", mode, MODES)
    choice("distribution", distribution, DISTRIBUTIONS)
    return laws.variance_scaling(number("scale", scale, positive=True), mode, distribution)


@scheme("orthogonal", formula="gain * Q, Q from the QR of a Gaussian matrix", distribution="orthogonal",
        source="Saxe et al. 2014; torch.nn.init.orthogonal_")
def orthogonal(gain: float = 1.0) -> laws.Law:
    """Rows: ``shape[0]`` in torch layout (as ``orthogonal_``), prod(``shape[:-1]``) in numpy/keras
    layout (as Keras and JAX); the same matrix for a dense weight."""
    return laws.orthogonal(number("gain", gain, positive=True))


@scheme("delta_orthogonal", formula="W[..., centre] = gain * Q (Q^T Q = I, in -> out), every other tap 0",
        distribution="orthogonal", source="Xiao et al. 2018 (dynamical isometry for 10,000-layer CNNs); "
        "jax.nn.initializers.delta_orthogonal")
def delta_orthogonal(gain: float = 1.0) -> laws.Law:
    """The centre tap is index (k - 1) // 2 in each kernel dimension, as in JAX (torch's ``dirac_`` uses
    k // 2: the same for odd kernels). Needs out >= in channels; a 2-D weight is a 1x1 kernel, so it is
    ``orthogonal`` with orthonormal columns. Grouped convolutions are not special-cased: the weight's
    (out, in/groups) centre matrix is made orthogonal as a whole. Entry std gain / sqrt(out * prod(kernel))."""
    return laws.delta_orthogonal(number("gain", gain, positive=True))


@scheme("dirac", formula="1 at the centre tap from input channel d to output channel d (per group), 0 elsewhere",
        distribution="constant", source="torch.nn.init.dirac_ (identity-preserving convolutions)")
def dirac(groups: float = 1.0) -> laws.Law:
    """The centre tap is k // 2 in each kernel dimension, as torch (`delta_orthogonal` uses JAX's (k - 1) // 2:
    the same for odd kernels). Needs 3 to 5 dimensions and out channels divisible by `groups`."""
    whole = isinstance(groups, float) and groups.is_integer()  # spec numbers are floats: 2.0 means 2
    return laws.dirac(integer("groups", int(groups) if whole else groups, minimum=1))


@scheme("sparse", formula="N(0, std^2) with ceil(sparsity * rows) zeros in each column (torch layout)",
        distribution="sparse normal", source="Martens 2010 (Hessian-free optimization); torch.nn.init.sparse_")
def sparse(sparsity: float = 0.1, std: float = 0.01) -> laws.Law:
    """2-D only. In torch layout (out, in) each column (an input unit's outgoing weights) gets
    ceil(sparsity * out) zeros, as torch; in numpy/keras layout (in, out) each row, the same weights.
    torch's own sparse_ draws the zero positions from torch's global RNG (torch/nn/init.py, ``randperm``
    without a generator); initlab draws them from the given generator."""
    return laws.sparse(number("sparsity", sparsity, non_negative=True, maximum=1.0), number("std", std, positive=True))


@scheme("identity", aliases=("eye",), formula="gain * I", distribution="constant", source="torch.nn.init.eye_")
def identity(gain: float = 1.0) -> laws.Law:
    return laws.identity(number("gain", gain))


@scheme("torch_default", formula="U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias", distribution="uniform",
        source="torch.nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)); bias from the weight's fan_in",
        fan_axes=True)
def torch_default() -> laws.Law:
    """gain(leaky_relu, sqrt 5)^2 = 1/3, so the bound is sqrt(3 * 1/3 / fan_in) = 1/sqrt(fan_in).
    Used as a bias init, the fans are the weight's, matching nn.Linear's bias."""
    return laws.variance_scaling(gain("leaky_relu", math.sqrt(5.0)) ** 2, "fan_in", "uniform")


@scheme("meanfield", formula="N(0, sigma_w^2/fan_in)", distribution="normal",
        source="the weight variance as mean-field papers write it (Poole et al. 2016; Schoenholz et al. 2017)",
        fan_axes=True)
def meanfield(sigma_w2: float = 1.0) -> laws.Law:
    """sigma_w^2 given directly, as on the axes of the phase diagram (`initlab theory phase`) and in sweeps over
    it: ``meanfield(sigma_w2=2)`` is `he_normal`, ``meanfield(sigma_w2=1)`` `lecun_normal`. Pair it with
    ``--bias-init 'meanfield_bias(sigma_b2=...)'``."""
    return laws.variance_scaling(number("sigma_w2", sigma_w2, positive=True), "fan_in", "normal")


@scheme("meanfield_bias", formula="N(0, sigma_b^2)", distribution="normal",
        source="the bias variance as mean-field papers write it (Poole et al. 2016; Schoenholz et al. 2017)")
def meanfield_bias(sigma_b2: float = 0.05) -> laws.Law:
    """sigma_b^2 given directly (``normal(std=sqrt(sigma_b2))``), for biases; 0 gives zeros."""
    sigma_b2 = number("sigma_b2", sigma_b2, non_negative=True)
    return laws.constant(0.0) if sigma_b2 == 0 else laws.normal(0.0, laws.fixed(math.sqrt(sigma_b2)))


@scheme("critical", formula="N(0, sigma_w^2/fan_in), sigma_w^2 on the order/chaos line for sigma_b2",
        distribution="normal", source="Poole et al. 2016; Schoenholz et al. 2017 (mean-field criticality, chi_1 = 1)",
        fan_axes=True)
def critical(activation: str = "tanh", sigma_b2: float = 0.05, slope: float = 0.01) -> laws.Law:
    """sigma_w^2 solves chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2] = 1 (`initlab theory`); tanh with
    sigma_b2 = 0.05 gives 1.761, relu 2 (He). sigma_b2 describes the biases: set them with
    ``--bias-init 'normal(std=sqrt(sigma_b2))'`` (e.g. ``normal(std=0.2236)`` for 0.05)."""
    from initlab.theory import critical_sigma_w2
    return laws.variance_scaling(critical_sigma_w2(activation, sigma_b2, slope), "fan_in", "normal")
