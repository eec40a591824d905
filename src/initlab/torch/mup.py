"""muP (maximal update parametrization) on an unmodified PyTorch model: initialisation, per-layer learning
rates and the readout multiplier of Tensor Programs V (Yang et al. 2022; the ``mup`` package), relative
to a base width, and optionally depth-muP's residual branch scale 1/sqrt(L) (Yang et al. 2023, Tensor
Programs VI; Bordelon et al. 2023).

`mup(model, base_width=64)` finds the layers in the order the forward pass calls them (hooks on
`example`, or a torch.fx trace), classes every parameter as input, hidden, readout, vector or fixed
(`initlab.torch.mup_rules`, which holds the table), and in place:

- rescales the weights from the standard parametrization to muP (the readout's weight and the biases
  after a growing fan_in by sqrt(m), m = width / base_width; ``scheme=`` redraws every weight first,
  with initlab's exact draws and fans: a Hugging Face Conv1D's (in, out) weight is read transposed);
- sets the readout and every query projection to 0 (``zero_readout``, ``zero_query``; Tensor Programs V,
  appendix D.2), so the output and the attention logits start at 0;
- multiplies the readout's input by 1/m with a forward pre-hook (``MuReadout``'s multiplier), kept in a
  buffer ``mup_readout_scale`` on the readout (`initlab.torch.gates`), so ``state_dict()`` records it;
- finds attention scaled 1/sqrt(d) instead of 1/d (`initlab.torch.mup_attention`): a `MuPWarning` and
  ``result.attention``; ``attention="fix"`` sets the scale where the module keeps it in an attribute;
- with ``depth_scale="1/sqrt(L)"``: every residual branch (found by value, `initlab.torch.residual`)
  multiplied by sqrt(base_depth / L) (`initlab.torch.depth.depth_mup`), and for Adam its parameters'
  learning rate too (depth-muP's Adam rule; SGD's is unchanged).

It returns a `MuP`: the classes, the learning-rate multipliers (Adam or SGD table), the parameter groups
and ``result.optimizer(lr)``. The width is the readout's fan_in unless given; every width dimension is
assumed to grow with the same factor m (d_ff = 4 width, heads of a fixed number).

For the coordinate check, `width_factory` wraps a model factory so every model comes out in muP, and
`optimizer` is the matching ``optimizer=`` callable (model, lr) -> optimizer:

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(8, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
>>> result = mup(net, base_width=64)
>>> result.width_mult, result.readout, result.lr_multipliers["2.weight"], result.lr_multipliers["4.weight"]
(4.0, '4', 0.25, 1.0)
>>> [group["lr"] for group in result.optimizer(1e-3).param_groups]
[0.001, 0.00025]
"""

from __future__ import annotations

import functools
import math
import warnings
import weakref
from dataclasses import dataclass, field

import torch
from torch import nn

from initlab._checks import choice, integer
from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.torch import gates
from initlab.torch.apply import apply
from initlab.torch.depth import depth_mup
from initlab.torch.kinds import inventory, kind_of
from initlab.torch.mup_attention import AttentionScale, find_attention_scales, fix_attention_scale, query_views
from initlab.torch.mup_rules import RULES, Placed, layer_order, place
from initlab.torch.residual import probe

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
DEPTH_SCALES = ("1/sqrt(L)",)
_APPLIED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its MuP, for `optimizer`


class MuPWarning(UserWarning):
    """Something muP needs that initlab cannot do in place (attention scaled 1/sqrt(d))."""


@dataclass(frozen=True)
class MuP:
    """What `mup` did: the width and its multiplier m, the optimizer table used, the readout and input
    layers, every parameter's class (`parameters`, `initlab.torch.mup_rules.Placed`) and learning-rate
    multiplier (`lr_multipliers`), the readout multiplier 1/m, the attention found scaled 1/sqrt(d)
    (`attention`; `attention_fixed` says what ``attention="fix"`` set), the depth-muP result (or None),
    the tensors set to zero (`zeroed`: readout, queries), `warnings` (also issued as `MuPWarning`) and the forward hooks added."""

    width: int
    base_width: int
    width_mult: float
    optimizer_name: str
    readout: str
    inputs: tuple[str, ...]
    parameters: tuple[Placed, ...]
    lr_multipliers: dict[str, float]
    readout_multiplier: float
    attention: tuple[AttentionScale, ...] = ()
    attention_fixed: tuple[str, ...] = ()
    depth: object = None
    zeroed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    hooks: tuple = field(default=(), repr=False)
    _tensors: dict = field(default_factory=dict, repr=False)

    def param_groups(self, lr: float, weight_decay: float = 0.0) -> list[dict]:
        """Torch parameter groups, one per multiplier: ``{"params", "lr": lr * multiplier, "weight_decay":
        weight_decay / multiplier, "lr_mult", "names"}`` (torch keeps the extra keys; a scheduler that scales
        ``lr`` keeps the ratios). The weight decay is divided by the multiplier as ``MuAdam``/``MuSGD`` do
        for torch's coupled decay (L2 in the gradient), so lr x decay stays the same in every group."""
        lr = _positive("lr", lr)
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or not weight_decay >= 0:
            raise ArgumentError("weight_decay", f"expected a number >= 0, got {weight_decay!r}")
        groups: dict[float, dict] = {}
        for name, mult in self.lr_multipliers.items():
            group = groups.setdefault(mult, {"params": [], "lr": lr * mult, "weight_decay": weight_decay / mult,
                                             "lr_mult": mult, "names": []})
            group["params"].append(self._tensors[name])
            group["names"].append(name)
        return list(groups.values())

    def optimizer(self, lr: float, weight_decay: float = 0.0, **kwargs) -> torch.optim.Optimizer:
        """``torch.optim.Adam`` (or SGD, as the table used) over `param_groups(lr, weight_decay)`; `kwargs`
        (betas, momentum, ...) go to it."""
        return OPTIMIZERS[self.optimizer_name](self.param_groups(lr, weight_decay), lr=lr, **kwargs)

    def __str__(self) -> str:
        lines = [f"muP ({self.optimizer_name}): width {self.width} = {self.width_mult:g} x base {self.base_width}; "
                 f"readout '{self.readout}' input x {self.readout_multiplier:.4g}; inputs {', '.join(self.inputs)}"]
        lines += [f"  {p.name:<32} {p.cls:<8} lr x {self.lr_multipliers[p.name]:.4g}"
                  + (f", weights x m^{p.rescale_power:g}" if p.rescale_power else "") for p in self.parameters]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ArgumentError(name, f"expected a positive number, got {value!r}")
    return float(value)


def _layer_names(argument: str, names, order: list[str]) -> list[str]:
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in order]
    if unknown:
        raise ArgumentError(argument, f"not a weight layer the forward pass calls: {', '.join(map(repr, unknown))} "
                                      f"(layers: {', '.join(order)})")
    return names


def _layers(model: nn.Module, example, readout, inputs) -> tuple[str, list[str]]:
    order = layer_order(model, example)
    kinds = {name: kind_of(model.get_submodule(name)) for name in order}
    readout = order[-1] if readout is None else _layer_names("readout", readout, order)[0]
    if kinds[readout] in ("embedding", "rnn"):
        raise ArgumentError("readout", f"'{readout}' is an {kinds[readout]}; the readout maps the width to the "
                                       f"output (give readout='name of the last Linear')")
    if inputs is None:
        inputs = [n for n in order if kinds[n] == "embedding"] or order[:1]
    return readout, _layer_names("inputs", inputs, order)


def _readout_width(entries, readout: str) -> int:
    """The readout's fan_in from the inventory (a Conv1D read transposed; a readout tied to an embedding
    (num, dim) reads dim)."""
    for e in entries:
        if e.module_name == readout and e.role == "weight":
            return int(e.fan.fan_in)
        if e.role == "embedding" and readout in {name.rpartition(".")[0] for name in e.tied_to}:
            return int(e.shape[1])
    raise ArgumentError("readout", f"'{readout}' holds no weight to read the width from; give width=")


def _zero(entries, placed, readout: str | None, query: bool) -> tuple[str, ...]:
    views = query_views(entries) if query else []
    views += [(e.name, e.parameter) for e, p in zip(entries, placed)
              if readout is not None and e.module_name == readout and p.cls in ("readout", "fixed")]
    with torch.no_grad():
        for _, view in views:
            view.zero_()
    return tuple(name for name, _ in views)


def _check(model, base_width, width, optimizer, attention, depth_scale, example, scheme, generator, seed):
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    base_width = integer("base_width", base_width)
    width = None if width is None else integer("width", width)
    choice("optimizer", optimizer, tuple(OPTIMIZERS))
    choice("attention", attention, ("warn", "fix"))
    if depth_scale is not None:
        choice("depth_scale", depth_scale, DEPTH_SCALES)
        if example is None:
            raise ArgumentError("example", "needed with depth_scale: the residual branches are found on one "
                                           "forward pass of an example batch")
    if scheme is None and (generator is not None or seed is not None):
        raise ArgumentError("scheme", "generator/seed given without a scheme to draw: give scheme='lecun_normal' "
                                      "(or another fan-in scheme), or drop the generator")
    if scheme is not None and (generator is None) == (seed is None):
        raise ArgumentError("generator", f"with scheme={scheme!r} give exactly one of generator and seed")
    if any(hasattr(module, "mup_readout_scale") for module in model.modules()):
        raise ArgumentError("model", "mup was applied to this model already (it has a readout multiplier); "
                                     "build a fresh model")
    return base_width, width


def mup(model: nn.Module, base_width: int, *, width: int | None = None, optimizer: str = "adam", example=None,
        readout: str | None = None, inputs=None, scheme: str | None = None, bias: str = "zeros",
        generator: torch.Generator | None = None, seed: int | None = None, attention: str = "warn",
        zero_readout: bool = True, zero_query: bool = True, depth_scale: str | None = None,
        base_depth: int = 1) -> MuP:
    """Put `model` in muP relative to `base_width` in place (module doc) and return the `MuP`.

    `optimizer` picks the learning-rate table ("adam" for Adam/AdamW-like, "sgd"). `readout` and `inputs`
    name the layers when the forward order is not what decides (a model returning an intermediate layer
    last). `scheme` (with `generator` or `seed`) redraws every weight by an initlab scheme, biases by
    `bias`, before the muP rescale (`initlab.torch.apply`). `zero_readout` and `zero_query` set the
    readout's weight and bias (unless tied to an embedding) and every query projection
    (`initlab.torch.mup_attention.query_views`) to 0, as Tensor Programs V (appendix D.2) advises (the
    ``mup`` package's ``readout_zero_init`` for the readout): the output and the attention logits then
    start at 0 instead of O(1/sqrt(width)) noise, and a 1/sqrt(d) attention shows at once as logits growing
    like sqrt(width). `depth_scale="1/sqrt(L)"` needs `example`.
    Nothing is changed when an argument is refused.
    """
    base_width, width = _check(model, base_width, width, optimizer, attention, depth_scale, example, scheme,
                               generator, seed)
    readout, inputs = _layers(model, example, readout, inputs)
    entries = inventory(model)
    width = width or _readout_width(entries, readout)
    m = width / base_width
    placed = [place(e, set(inputs), readout) for e in entries]
    found = find_attention_scales(model, example)
    branches = probe(model, example).branches if depth_scale else []
    if depth_scale and not branches:
        raise ArgumentError("depth_scale", f"found no residual branch in {type(model).__name__} to scale")
    if scheme is not None:
        apply(model, scheme, bias, generator=generator, seed=seed)
    with torch.no_grad():
        for p, e in zip(placed, entries):
            if p.rescale_power:
                e.parameter.mul_(m ** p.rescale_power)
    zeroed = _zero(entries, placed, readout if zero_readout else None, zero_query)
    hooks = [gates.add(model.get_submodule(readout), "mup_readout_scale", 1.0 / m, "multiply_input", learned=False)]
    fixed = tuple(fix_attention_scale(model, a, m) for a in found if attention == "fix" and a.attribute)
    left = [a for a in found if not (attention == "fix" and a.attribute)]
    depth = None
    depth_factor = {}
    if depth_scale:
        depth = depth_mup(model, example, base_depth=base_depth)
        hooks += list(depth.hooks)
        if optimizer == "adam":  # depth-muP: Adam's lr for the branch parameters scales like the branch
            inside = [layer for b in depth.branches for layer in b.layers]
            depth_factor = {e.name: depth.values["scale"] for e in entries
                            if any(e.module_name == n or e.module_name.startswith(n + ".") for n in inside)}
    rule = {"adam": lambda r: r.adam, "sgd": lambda r: r.sgd}[optimizer]
    multipliers = {p.name: rule(RULES[p.cls])(m) * depth_factor.get(p.name, 1.0) for p in placed}
    messages = tuple(a.message() for a in left)
    for message in messages:
        warnings.warn(message, MuPWarning, stacklevel=2)
    result = MuP(width, base_width, m, optimizer, readout, tuple(inputs), tuple(placed), multipliers, 1.0 / m,
                 tuple(found), fixed, depth, zeroed, messages, tuple(hooks), {e.name: e.parameter for e in entries})
    _APPLIED[model] = result
    return result


def applied(model: nn.Module) -> MuP:
    """The `MuP` that `mup` returned for `model` (ArgumentError if it never went through `mup`)."""
    if model not in _APPLIED:
        raise ArgumentError("model", f"{type(model).__name__} was not put in muP (call initlab.torch.mup.mup "
                                     f"on it, or build it with width_factory)")
    return _APPLIED[model]


def optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """The muP optimizer of a model that went through `mup` (the ``optimizer=`` callable of the coordinate
    check): ``applied(model).optimizer(lr)``."""
    return applied(model).optimizer(lr)


def width_factory(factory, base_width: int, **options):
    """A model factory taking the same arguments as `factory` whose models come out in muP: each is
    ``mup(factory(**kwargs), base_width, **options)``. With ``scheme=`` and no generator or seed, the
    redraw is seeded by ``torch.initial_seed()``, the seed the caller gave torch's RNG for the model's
    own constructor (the coordinate check seeds it per seed), so the seeds differ as the models do."""
    if not callable(factory):
        raise ArgumentTypeError("factory", f"expected a callable returning an nn.Module, got {type(factory).__name__}")
    integer("base_width", base_width)

    @functools.wraps(factory)
    def build(*args, **kwargs):
        model = factory(*args, **kwargs)
        seeded = options.get("scheme") and options.get("generator") is None and options.get("seed") is None
        mup(model, base_width, **options, **({"seed": torch.initial_seed() % 2**63} if seeded else {}))
        return model

    return build
