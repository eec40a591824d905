"""One block of a parameter drawn by a spec: torch.nn.init's own function where torch has the scheme (so
the numbers are torch's for the same generator), initlab's NumPy initializer otherwise.

A scheme that ``torch.nn.init`` has is run by that very function with the caller's
``torch.Generator``, on a fresh tensor of the block's shape (which gets the numbers the parameter
itself would): the translation is

    zeros, ones, constant(value)     -> zeros_, ones_, constant_
    normal(std, mean)                -> normal_(mean, std)
    uniform(limit) / (low, high)     -> uniform_(-limit, limit) / uniform_(low, high)
    truncated_normal(...)            -> trunc_normal_(mean, std, a, b) (bounds=sigma: a, b -> mean + std a, b)
    xavier_uniform/normal(gain)      -> xavier_uniform_/xavier_normal_(gain)
    he_uniform/normal(a, mode, nl)   -> kaiming_uniform_/kaiming_normal_(a, mode, nl) ("identity" -> "linear")
    orthogonal(gain)                 -> orthogonal_(gain)
    dirac(groups)                    -> dirac_(groups)
    sparse(sparsity, std)            -> sparse_'s algorithm with the generator: normal_(0, std) (the same
                                        values as sparse_), then randperm(rows) per column for the zeros,
                                        which sparse_ itself draws from torch's global RNG
    identity(gain) on a 2-D block    -> eye_ times gain
    torch_default                    -> weight kaiming_uniform_(a=sqrt(5)); bias uniform_(+-1/sqrt(fan_in)),
                                        exactly nn.Linear/nn.ConvNd.reset_parameters but with the generator

Every other scheme (lecun_*, epsilon_uniform, variance_scaling, critical, ...; fan-based schemes
used as a bias, which torch cannot fill; and fan-based schemes on a block whose fans are not the
ones torch computes from its shape, such as a transposed convolution's) is drawn by initlab's
NumPy initializer in torch layout with the block's fans (a bias uses its weight's) from a NumPy
generator seeded from the torch one, one draw per block:
``np.random.default_rng(int(torch.randint(2**63 - 1, (1,), generator=g)))``. Low-precision
parameters (float16, bfloat16) are drawn in float32 (torch's QR behind ``orthogonal_`` has no
bfloat16 kernel) and rounded; float32 and float64 ones are drawn in their own dtype. The NumPy
initializer draws in float64 and rounds to the parameter's dtype (its ``exact`` path), so a float32
and a float64 model get the same numbers up to rounding there.

A spec with explicit fan axes (``in_axis``, ``out_axis``, ``batch_axis``) uses the fans of those axes
of the block instead of the block's own; torch's function still draws it when those are the fans
torch computes. A zero-element block warns as torch.nn.init's kaiming_* do and is left empty.

>>> import torch
>>> from initlab.init import initializer
>>> g = torch.Generator().manual_seed(0)
>>> block = draw(initializer("he_normal", layout="torch"), (2, 3), torch.empty(0), g, fans((2, 3), "torch"))
>>> torch.equal(block, torch.nn.init.kaiming_normal_(torch.empty(2, 3), generator=torch.Generator().manual_seed(0)))
True
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch.nn import init as tinit

from initlab._checks import seed as check_seed
from initlab._errors import ArgumentTypeError
from initlab.init import Fans, fans, lookup
from initlab.init.initializer import EMPTY_TENSOR

FAN_FREE = ("zeros", "ones", "constant", "normal", "uniform", "truncated_normal")
FAN_BASED = ("xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "torch_default")


def _uniform(t, p, g, fan):
    if p["limit"] is not None:
        return tinit.uniform_(t, -p["limit"], p["limit"], generator=g)
    low, high = (0.0 if p["low"] is None else p["low"]), (1.0 if p["high"] is None else p["high"])
    return tinit.uniform_(t, low, high, generator=g)


def _truncated(t, p, g, fan):
    a, b = p["a"], p["b"]
    if p["bounds"] == "sigma":
        a, b = p["mean"] + p["std"] * a, p["mean"] + p["std"] * b
    return tinit.trunc_normal_(t, p["mean"], p["std"], a, b, generator=g)


def _nonlinearity(p) -> str:
    return "linear" if p["nonlinearity"] == "identity" else p["nonlinearity"]


def _identity(t, p, g, fan):
    with torch.no_grad():
        return tinit.eye_(t).mul_(p["gain"])


def _sparse(t, p, g, fan):
    rows, cols = t.shape
    zeros = math.ceil(p["sparsity"] * rows)
    t.normal_(0, p["std"], generator=g)
    for column in range(cols):
        t[torch.randperm(rows, generator=g)[:zeros], column] = 0
    return t


def _torch_default(t, p, g, fan):
    if t.dim() >= 2:
        return tinit.kaiming_uniform_(t, a=math.sqrt(5), generator=g)
    bound = 1 / math.sqrt(fan.fan_in) if fan.fan_in > 0 else 0
    return tinit.uniform_(t, -bound, bound, generator=g)


TORCH_INIT = {
    "zeros": lambda t, p, g, fan: tinit.zeros_(t),
    "ones": lambda t, p, g, fan: tinit.ones_(t),
    "constant": lambda t, p, g, fan: tinit.constant_(t, p["value"]),
    "normal": lambda t, p, g, fan: tinit.normal_(t, p["mean"], p["std"], generator=g),
    "uniform": _uniform,
    "truncated_normal": _truncated,
    "xavier_uniform": lambda t, p, g, fan: tinit.xavier_uniform_(t, p["gain"], generator=g),
    "xavier_normal": lambda t, p, g, fan: tinit.xavier_normal_(t, p["gain"], generator=g),
    "he_uniform": lambda t, p, g, fan: tinit.kaiming_uniform_(t, p["a"], p["mode"], _nonlinearity(p), generator=g),
    "he_normal": lambda t, p, g, fan: tinit.kaiming_normal_(t, p["a"], p["mode"], _nonlinearity(p), generator=g),
    "orthogonal": lambda t, p, g, fan: tinit.orthogonal_(t, p["gain"], generator=g),
    "dirac": lambda t, p, g, fan: tinit.dirac_(t, int(p["groups"])),
    "sparse": _sparse,
    "identity": _identity,
    "torch_default": _torch_default,
}


def generator_from(generator: torch.Generator | None, seed: int | None) -> torch.Generator:
    """Exactly one of `generator` and `seed`; a seed becomes ``torch.Generator().manual_seed(seed)``."""
    if (generator is None) == (seed is None):
        raise ValueError("generator, seed: give exactly one (a torch.Generator or an int seed); "
                         f"got generator={generator!r}, seed={seed!r} (initlab never uses torch's global RNG)")
    if seed is not None:
        return torch.Generator().manual_seed(check_seed("seed", seed))
    if not isinstance(generator, torch.Generator):
        raise ArgumentTypeError("generator", f"expected a torch.Generator, got {type(generator).__name__}")
    return generator


def numpy_rng(generator: torch.Generator) -> np.random.Generator:
    """A NumPy generator seeded by one draw from the torch one."""
    return np.random.default_rng(int(torch.randint(2**63 - 1, (1,), generator=generator)))


def parameters_of(init) -> dict:
    """Every parameter of a resolved initializer's scheme, defaults filled in."""
    defaults = {p.name: p.default for p in lookup(init.spec.name).parameters}
    return defaults | init.spec.kwargs


def uses_torch(init, shape: tuple[int, ...], fan: Fans | None, is_bias: bool) -> bool:
    """Whether torch.nn.init's own function draws this block (module doc): a fan-based scheme only when
    torch's fans of the block's shape are the block's fans."""
    name = init.spec.name
    if name not in TORCH_INIT or (name == "identity" and len(shape) != 2):
        return False
    if is_bias:
        return name in FAN_FREE or (name == "torch_default" and fan is not None)
    if name in FAN_BASED:
        return len(shape) >= 2 and (fan is None or fans(shape, "torch") == tuple(fan))
    return True


def draw(init, shape: tuple[int, ...], like: torch.Tensor, generator: torch.Generator, fan: Fans | None, *,
         is_bias: bool = False) -> torch.Tensor:
    """A new tensor of `shape` (dtype and device of `like`) drawn by `init` with fans `fan`, as the module
    doc says; torch.nn.init's functions fill a fresh tensor exactly as they would fill the parameter."""
    fan = init.fans(shape, fan)  # the spec's own axes, if any, name the fans
    if math.prod(shape) == 0:
        warnings.warn(f"{EMPTY_TENSOR} (shape {list(shape)})", UserWarning, stacklevel=3)
        return torch.empty(shape, dtype=like.dtype, device=like.device)
    if uses_torch(init, shape, fan, is_bias):
        exact = like.dtype in (torch.float32, torch.float64)  # float16/bfloat16: drawn in float32, then rounded
        out = torch.empty(shape, dtype=like.dtype if exact else torch.float32, device=like.device)
        with torch.no_grad():
            TORCH_INIT[init.spec.name](out, parameters_of(init), generator, fan)
        return out.to(like.dtype)
    values = init(shape, numpy_rng(generator), fan=fan)  # float64, rounded below: see the module doc
    return torch.from_numpy(values).to(dtype=like.dtype, device=like.device)


def fill(tensor: torch.Tensor, init, generator: torch.Generator, fan: Fans, *, is_bias: bool = False) -> None:
    """Fill `tensor` in place with `init` (an `Initializer` in torch layout), as the module doc says."""
    with torch.no_grad():
        tensor.copy_(draw(init, tuple(tensor.shape), tensor, generator, fan, is_bias=is_bias))
