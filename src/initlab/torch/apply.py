"""Initialise every Linear/Conv layer of a model in place with an initlab scheme.

Layers are visited in registration order (``model.modules()``, the order ``print(model)`` shows),
weight then bias; not in execution order (`initlab.torch.layers`, which `auto` and `lsuv` follow
because they need each layer's activation): apply needs no trace, so it also fills layers the
forward never calls and models torch.fx cannot trace. A scheme that ``torch.nn.init`` has is run by
that very function with the caller's ``torch.Generator``, so ``apply(model, "he_normal", generator=g)``
fills the same numbers as the loop ``for m in model.modules(): if isinstance(m, (nn.Linear,
nn.Conv1d, nn.Conv2d, nn.Conv3d)): kaiming_normal_(m.weight, generator=g); zeros_(m.bias)``.
The translation:

    zeros, ones, constant(value)     -> zeros_, ones_, constant_
    normal(std, mean)                -> normal_(mean, std)
    uniform(limit) / (low, high)     -> uniform_(-limit, limit) / uniform_(low, high)
    truncated_normal(...)            -> trunc_normal_(mean, std, a, b) (bounds=sigma: a, b -> mean + std a, b)
    xavier_uniform/normal(gain)      -> xavier_uniform_/xavier_normal_(gain)
    he_uniform/normal(a, mode, nl)   -> kaiming_uniform_/kaiming_normal_(a, mode, nl) ("identity" -> "linear")
    orthogonal(gain)                 -> orthogonal_(gain)
    identity(gain) on a 2-D weight   -> eye_ times gain
    torch_default                    -> weight kaiming_uniform_(a=sqrt(5)); bias uniform_(+-1/sqrt(fan_in)),
                                        exactly nn.Linear/nn.ConvNd.reset_parameters but with the generator

Every other scheme (lecun_*, epsilon_uniform, variance_scaling, critical, ...; and fan-based schemes
used as a bias, which torch cannot fill) is drawn by initlab's NumPy initializer in torch layout
(fans (in * prod(kernel), out * prod(kernel)); a bias uses its weight's fans) with a NumPy
generator seeded from the torch one, one draw per tensor:
``np.random.default_rng(int(torch.randint(2**63 - 1, (1,), generator=g)))``.

>>> import torch
>>> net = apply(torch.nn.Sequential(torch.nn.Linear(3, 2)), "he_normal", bias="constant(0.1)", seed=0)
>>> g = torch.Generator().manual_seed(0)
>>> torch.equal(net[0].weight, torch.nn.init.kaiming_normal_(torch.empty(2, 3), generator=g))
True
>>> net[0].bias.tolist()
[0.10000000149011612, 0.10000000149011612]
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import init as tinit

from initlab._checks import seed as check_seed
from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.init import Fans, fans, initializer, lookup
from initlab.torch.trace import LAYER_TYPES

FAN_FREE = ("zeros", "ones", "constant", "normal", "uniform", "truncated_normal")


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


def fill(tensor: torch.Tensor, init, generator: torch.Generator, fan: Fans, *, is_bias: bool = False) -> None:
    """Fill `tensor` in place with `init` (an `Initializer` in torch layout), as the module doc says."""
    name = init.spec.name
    if name in TORCH_INIT and (not is_bias or name in FAN_FREE or name == "torch_default") \
            and not (name == "identity" and tensor.dim() != 2):
        TORCH_INIT[name](tensor, parameters_of(init), generator, fan)
        return
    values = init(tuple(tensor.shape), numpy_rng(generator), fan=fan)
    with torch.no_grad():
        tensor.copy_(torch.from_numpy(values))


def initialise(module: nn.Module, weight, bias, generator: torch.Generator, name: str) -> None:
    """Weight then bias of one layer; an error names the layer and the tensor."""
    fan = fans(tuple(module.weight.shape), "torch")
    for argument, init, tensor in (("scheme", weight, module.weight), ("bias", bias, module.bias)):
        if tensor is None:
            continue
        try:
            fill(tensor, init, generator, fan, is_bias=argument == "bias")
        except ValueError as error:
            raise ArgumentError(argument, f"'{init.spec}' cannot fill {'bias' if argument == 'bias' else 'weight'} "
                             f"{list(tensor.shape)} of layer '{name}': {error}") from None


def apply(model: nn.Module, scheme: str, bias: str = "zeros", *, generator: torch.Generator | None = None,
          seed: int | None = None) -> nn.Module:
    """Initialise every nn.Linear and nn.Conv1d/2d/3d of `model` in place; returns `model`.

    `scheme` fills the weights, `bias` the biases (spec strings, e.g. ``"he_normal(mode=fan_out)"``).
    Randomness comes only from `generator` or `seed` (exactly one).
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    weight_init = initializer(scheme, layout="torch", argument="scheme")
    bias_init = initializer(bias, layout="torch", argument="bias")
    g = generator_from(generator, seed)
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, LAYER_TYPES)]
    if not found:
        raise ArgumentError("model", f"found no nn.Linear or nn.Conv1d/2d/3d layer in {type(model).__name__}")
    for name, module in found:
        initialise(module, weight_init, bias_init, g, name)
    return model
