"""Depth schemes: model-level initialisations for deep residual networks, each with its source and formula.

Each function finds the residual branches of the model on one forward pass of `example`
(`initlab.torch.residual`, by value, not by name; ``targets=`` names the branch output layers instead),
changes the model in place, and returns a `DepthResult` listing what it changed and what it left alone.
Randomness comes only from `generator` or `seed`. Bad input raises `ArgumentError` before anything is
written. L below is the number of residual branches found (two per transformer layer).

    scaled_residual   W_out ~ N(0, (std / sqrt(2 * n_layers))^2) on every branch's output projection
                      (GPT-2, Radford et al. 2019; Megatron-LM, Shoeybi et al. 2019); 2 * n_layers = L
                      by default.
    fixup             last layer of every branch 0, its other layers drawn by `scheme` (He) and scaled
                      by L^(-1/(2m-2)) (m weight layers in the branch), the classifier 0, scalar biases
                      (0) around each branch layer and a multiplier (1) on its output (Zhang, Dauphin &
                      Ma 2019). For networks without normalisation.
    skipinit          x + alpha * f(x) with alpha = 0 (SkipInit, De & Smith 2020; ReZero, Bachlechner et
                      al. 2020): a new learned scalar on the branch output, or the branch's own last
                      norm weight set to 0 when the branch ends in one (zero-init last BN, Goyal et al.
                      2017; torchvision's zero_init_residual).
    deepnorm          LN(alpha x + f(x)) with the branch's value/output/FFN weights xavier_normal(gain=beta)
                      and q/k xavier_normal(gain=1) (Wang et al. 2022, DeepNet); see `deepnorm_coefficients`.
    depth_mup         x + sqrt(base_depth / depth) * f(x), a fixed branch multiplier 1/sqrt(L) (Yang et
                      al. 2023, Tensor Programs VI; Bordelon et al. 2023).
    delta_orthogonal_convs   every Conv with out >= in channels: the `delta_orthogonal` scheme (Xiao et al. 2018).

Multipliers the model does not have (SkipInit's alpha, Fixup's scalars, DeepNorm's alpha, depth-muP's
scale) are added as scalars with forward hooks on the branch output layer (`initlab.torch.gates`).

>>> import torch
>>> from torch import nn
>>> class Block(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.fc1, self.fc2 = nn.Linear(8, 8), nn.Linear(8, 8)
...     def forward(self, x):
...         return x + self.fc2(torch.relu(self.fc1(x)))
>>> net = nn.Sequential(*[Block() for _ in range(4)])
>>> result = scaled_residual(net, torch.randn(2, 8), n_layers=2, seed=0)
>>> result.values["std_out"], [name for name, _ in result.changed]
(0.01, ['0.fc2.weight', '1.fc2.weight', '2.fc2.weight', '3.fc2.weight'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from initlab._checks import integer, number
from initlab._errors import ArgumentError
from initlab.torch import gates
from initlab.torch.apply import apply, generator_from
from initlab.torch.deepnorm import deepnorm, deepnorm_coefficients
from initlab.torch.depth_result import DepthResult, found, model_modules, no_norm_output, output_weight
from initlab.torch.fixup import fixup
from initlab.torch.kinds import kind_of
from initlab.torch.residual import probe

__all__ = ["DepthResult", "Recommendation", "deepnorm", "deepnorm_coefficients", "delta_orthogonal_convs",
           "depth_mup", "fixup", "recommend_depth_scheme", "recommend_for_branches", "scaled_residual", "skipinit"]


def _layer_count(branches, n_layers) -> int:
    return len(branches) if n_layers is None else 2 * integer("n_layers", n_layers)


def scaled_residual(model: nn.Module, example=None, *, n_layers: int | None = None, std: float = 0.02,
                    targets=None, generator: torch.Generator | None = None, seed: int | None = None) -> DepthResult:
    """GPT-2 / Megatron-LM scaled residual projections: every residual branch's output projection (the
    layer that writes into the residual stream: ``attn.c_proj`` and ``mlp.c_proj`` in GPT-2, ``out_proj``
    of ``nn.MultiheadAttention`` and an MLP's last Linear) is redrawn N(0, (std / sqrt(2 * n_layers))^2),
    so the stream's variance grows by about std^2 over the whole depth instead of per layer.

    Radford et al. 2019 (GPT-2: "scale the weights of residual layers at initialization by 1/sqrt(N)", N
    the number of residual layers); Shoeybi et al. 2019 (Megatron-LM: output layers N(0, sigma^2 / (2L))).
    `n_layers` is the number of transformer layers (two residual branches each); by default 2 * n_layers
    is the number of branches found. Biases and every other weight are left as they are (GPT-2 draws
    them N(0, std^2) with zero biases: ``apply(model, "normal(std=0.02)")`` first).
    """
    modules = model_modules(model)
    std = number("std", std, positive=True)
    branches = found(probe(model, example, targets=targets).branches, model, "scaled_residual")
    no_norm_output(modules, branches, "scaled_residual", "skipinit (zero-init the last norm, Goyal et al. 2017)")
    count = _layer_count(branches, n_layers)
    g = generator_from(generator, seed)
    scaled = std / math.sqrt(count)
    changed = []
    for branch in branches:
        name, weight = output_weight(modules, branch)
        with torch.no_grad():
            weight.normal_(0.0, scaled, generator=g)
        changed.append((name, f"normal(std={scaled:.4g}) = {std:g} / sqrt({count})"))
    return DepthResult("scaled_residual", "W_out ~ N(0, (std / sqrt(2 * n_layers))^2)",
                       "Radford et al. 2019 (GPT-2); Shoeybi et al. 2019 (Megatron-LM)",
                       {"std": std, "2 * n_layers": count, "std_out": scaled}, tuple(branches), tuple(changed))


def skipinit(model: nn.Module, example=None, *, gate: str = "auto", targets=None) -> DepthResult:
    """SkipInit (De & Smith 2020) / ReZero (Bachlechner et al. 2020): x + alpha * f(x), alpha = 0, so every
    residual block starts as the identity and the network as a shallow one.

    `gate` = "auto": a branch that ends in a norm layer with a weight (ResNet's ``bn2``) gets that weight
    set to 0 (its existing gate: "zero-init the last BN", Goyal et al. 2017, torchvision's
    ``zero_init_residual``); any other branch gets a new learned scalar ``skipinit_alpha`` = 0 on its
    output layer. "new": always the new scalar; "existing": only norm gates (refused if a branch has none).
    ReZero also removes the norm layers; this keeps them. A LayerScale gamma (ConvNeXt) is such a gate
    already, applied before a permute: its branch is not found by value; pass ``targets=`` for it.
    """
    modules = model_modules(model)
    if gate not in ("auto", "new", "existing"):
        raise ArgumentError("gate", f"expected auto, new or existing, got {gate!r}")
    branches = found(probe(model, example, targets=targets).branches, model, "skipinit")

    def has_gate(b):
        module = modules[b.output]
        return kind_of(module) == "norm" and getattr(module, "weight", None) is not None

    if gate == "existing" and not all(map(has_gate, branches)):
        bad = next(b for b in branches if not has_gate(b))
        raise ArgumentError("gate", f"'existing': branch '{bad.output}' ({type(modules[bad.output]).__name__}) "
                                    f"ends in no norm layer with a weight; use gate='new'")
    new = [b for b in branches if gate == "new" or not has_gate(b)]
    gates.check_free(modules, [b.output for b in new], "skipinit_alpha", "skipinit")
    changed, hooks = [], []
    for b in branches:
        module = modules[b.output]
        if b in new:
            hooks.append(gates.add(module, "skipinit_alpha", 0.0, "multiply_output", learned=True))
            changed.append((f"{b.output}.skipinit_alpha", "new scalar 0 multiplying the branch output (forward hook)"))
        else:
            with torch.no_grad():
                module.weight.zero_()
            changed.append((f"{b.output}.weight", "zeros (the branch's last norm: its gate)"))
    return DepthResult("skipinit", "x + alpha * f(x), alpha = 0",
                       "De & Smith 2020 (SkipInit); Bachlechner et al. 2020 (ReZero); Goyal et al. 2017 (zero last BN)",
                       {"gate": gate}, tuple(branches), tuple(changed), (), tuple(hooks))


def depth_mup(model: nn.Module, example=None, *, depth: int | None = None, base_depth: int = 1, targets=None) -> DepthResult:
    """Depth-muP branch scaling: x + sqrt(base_depth / depth) * f(x) (Yang, Yu, Zhu & Hayou 2023, "Tensor
    Programs VI: Feature Learning in Infinite-Depth Neural Networks"; Bordelon, Noci, Li, Hanin & Pehlevan
    2023, "Depthwise Hyperparameter Transfer in Residual Networks"): a fixed multiplier 1/sqrt(L) on every
    residual branch keeps the stream's scale and each block's contribution independent of the depth L (by
    default the number of branches found), so hyperparameters tuned at `base_depth` transfer. Added as a
    buffer ``depth_mup_scale`` with a forward hook on each branch output; weights are not touched. The
    papers' learning-rate rules are optimizer settings and are left to the caller.
    """
    modules = model_modules(model)
    branches = found(probe(model, example, targets=targets).branches, model, "depth_mup")
    depth = len(branches) if depth is None else integer("depth", depth)
    base = integer("base_depth", base_depth)
    scale = math.sqrt(base / depth)
    gates.check_free(modules, [b.output for b in branches], "depth_mup_scale", "depth_mup")
    hooks = [gates.add(modules[b.output], "depth_mup_scale", scale, "multiply_output", learned=False) for b in branches]
    changed = [(f"{b.output}.depth_mup_scale", f"sqrt({base} / {depth}) = {scale:.4g} on the branch output (forward hook)")
               for b in branches]
    return DepthResult("depth_mup", "x + sqrt(base_depth / depth) * f(x)",
                       "Yang et al. 2023 (Tensor Programs VI); Bordelon et al. 2023",
                       {"depth": depth, "base_depth": base, "scale": scale}, tuple(branches), tuple(changed), (), tuple(hooks))


def delta_orthogonal_convs(model: nn.Module, gain: float = 1.0, *, generator: torch.Generator | None = None,
                           seed: int | None = None) -> DepthResult:
    """Every ungrouped Conv with out >= in channels drawn by the `delta_orthogonal` scheme (Xiao et al. 2018:
    a zero kernel but an orthogonal centre tap, so each such layer is an isometry at init), biases 0; the
    other layers (Linear, grouped or narrowing convolutions) are left alone and listed. ``gain`` 1 suits
    tanh with small biases (near Xiao et al.'s critical point), sqrt(2) relu."""
    modules = model_modules(model)
    gain = number("gain", gain, positive=True)
    g = generator_from(generator, seed)
    changed, left = [], []
    for name, module in modules.items():
        kind = kind_of(module)
        if kind == "conv" and module.groups == 1 and module.out_channels >= module.in_channels:
            apply(module, f"delta_orthogonal(gain={gain!r})", "zeros", generator=g)
            changed.append((f"{name}.weight", f"delta_orthogonal(gain={gain:.6g})"))
        elif kind == "conv":
            why = "grouped" if module.groups != 1 else f"out {module.out_channels} < in {module.in_channels} channels"
            left.append((f"{name}.weight", f"{why}: no delta-orthogonal kernel"))
        elif kind in ("linear", "hf_conv1d", "conv_transpose"):
            left.append((f"{name}.weight", "not a convolution"))
    if not changed:
        raise ArgumentError("model", f"found no ungrouped Conv with out >= in channels in {type(model).__name__}")
    return DepthResult("delta_orthogonal_convs", "W[:, :, centre] = gain * Q, Q^T Q = I; other taps 0",
                       "Xiao et al. 2018", {"gain": gain}, (), tuple(changed), tuple(left))


DEEP_CONV_CHAIN = 8  # convolutions without residual sums from which delta-orthogonal kernels are recommended


@dataclass(frozen=True)
class Recommendation:
    """The depth scheme a model's structure calls for: `scheme` (a function of this module, or "none"),
    `why` in one line, and the `call` to make (Python)."""

    scheme: str
    why: str
    call: str


def recommend_depth_scheme(model: nn.Module, example=None) -> Recommendation:
    """The depth scheme for `model`'s structure, from its residual branches on one forward pass of `example`:

    - residual sums that go into a norm (post-LN transformer, BERT): ``deepnorm``;
    - branches that end in a norm layer (BatchNorm ResNet, MobileNet): ``skipinit`` (zero that norm's weight);
    - other branches with norm layers or attention (pre-LN transformer, GPT-2, ViT): ``scaled_residual``;
    - branches of Linear/Conv layers only (no normalisation): ``fixup``;
    - no residual sum and at least 8 ungrouped convolutions with out >= in channels: ``delta_orthogonal_convs``;
    - else "none": the per-layer schemes (``auto``, ``lsuv``) are enough.

    >>> import torch
    >>> from torch import nn
    >>> convs = [m for _ in range(10) for m in (nn.Conv2d(8, 8, 3, padding=1), nn.Tanh())]
    >>> recommend_depth_scheme(nn.Sequential(*convs), torch.randn(1, 8, 6, 6)).scheme
    'delta_orthogonal_convs'
    """
    model_modules(model)  # a model that is not an nn.Module is refused before the probe
    return recommend_for_branches(model, probe(model, example).branches if example is not None else [],
                                  looked=example is not None)


def recommend_for_branches(model: nn.Module, branches, looked: bool = True) -> Recommendation:
    """`recommend_depth_scheme` for residual `branches` already found (`initlab.torch.residual.probe`; [] when
    the model has none); `looked`: whether they were looked for on an example (else the why says not)."""
    modules = dict(model.named_modules())
    n = len(branches)
    if branches:
        post = [b for b in branches if b.sum_norm]
        gated = [b for b in branches if kind_of(modules[b.output]) == "norm"]
        normed = any(kind_of(modules[name]) == "norm" for b in branches for name in b.layers)
        attention = any(kind_of(modules[name]) == "attention" for b in branches for name in b.layers)
        if 2 * len(post) > n:
            return Recommendation("deepnorm", f"{n} residual branches whose sums go into a norm (post-LN, e.g. "
                                  f"'{post[0].sum_norm}'): DeepNorm's alpha and beta keep deep post-LN stacks stable "
                                  f"(Wang et al. 2022)", f"deepnorm(model, example, encoder_layers={max(1, round(n / 2))}, seed=0)")
        if gated:
            return Recommendation("skipinit", f"{len(gated)} residual branches end in a norm layer (e.g. "
                                  f"'{gated[0].output}'): zero its weight so every block starts as the identity "
                                  f"(Goyal et al. 2017)", "skipinit(model, example)")
        if normed or attention:
            return Recommendation("scaled_residual", f"{n} pre-norm residual branches add their variance to the "
                                  f"stream one by one: draw their output projections N(0, (0.02 / sqrt({n}))^2) "
                                  f"(GPT-2, Megatron-LM)", "scaled_residual(model, example, seed=0)")
        return Recommendation("fixup", f"{n} residual branches without normalisation: Fixup's zero last layers and "
                              f"L^(-1/(2m-2)) scaling (Zhang et al. 2019)", "fixup(model, example, seed=0)")
    convs = [m for m in modules.values() if kind_of(m) == "conv"]
    fits = [m for m in convs if m.groups == 1 and m.out_channels >= m.in_channels]
    if len(fits) >= DEEP_CONV_CHAIN:
        return Recommendation("delta_orthogonal_convs", f"{len(convs)} convolutions and no residual sum: delta-"
                              f"orthogonal kernels make the {len(fits)} with out >= in channels isometries at init "
                              f"(Xiao et al. 2018; gain sqrt(2) for relu)", "delta_orthogonal_convs(model, seed=0)")
    unseen = "" if looked else " (no example given, so residual sums were not looked for)"
    return Recommendation("none", f"no residual branch{unseen} and fewer than {DEEP_CONV_CHAIN} convolutions with "
                          f"out >= in channels: the per-layer schemes (auto, lsuv) are enough", "")
