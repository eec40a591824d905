"""Initialise every parameter of a model that has a layer rule, in place, and say what was done to each.

`initialise(model, scheme, bias)` returns an `ApplyResult` (`initlab.torch.apply_result`): one row
per parameter tensor, initialised (argument, spec, blocks with their fans and the formula's std) or
left alone with the reason. `apply(...)` does the same and returns the model itself. Which tensor
gets which argument's spec (kinds, roles, blocks and fans: `initlab.torch.kinds`):

    Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d, HF Conv1D weights   scheme     bias: bias
    nn.MultiheadAttention in_proj_weight (q, k, v) or q/k/v_proj     scheme     in_proj_bias: bias
    RNN/LSTM/GRU weight_ih_l* (and LSTM weight_hr_l*)                 scheme     bias_ih/bias_hh: bias
    RNN/LSTM/GRU weight_hh_l*                                         recurrent (default: scheme)
    Embedding, EmbeddingBag                                           embedding (default "keep")
    BatchNorm/LayerNorm/GroupNorm/RMSNorm/... weight                  norm (default "ones"); bias 0
    anything else (cls_token, pos_embed, LayerScale gamma, MHA bias_k/bias_v, unknown modules): left alone

Blocks. A parameter is filled one block at a time, each block with its own fans: q, k, v of a fused
attention projection; the gates of an RNN (LSTM i, f, g, o; GRU r, z, n); GPT-2's fused ``c_attn``
as q, k, v; the whole weight otherwise. nn.MultiheadAttention's q, k and v are three E x E maps
with fan_in = fan_out = E each, exactly as when kdim/vdim differ and torch stores them as three
parameters; torch's own reset instead runs ``xavier_uniform_`` over the fused (3E, E) matrix
(fan_out 3E, a bound sqrt(2) times smaller than over each block), so the same model gets two
laws depending on its storage. Fan-in schemes (he, lecun) give the same law either way; per
block, xavier's fan_avg and orthogonal rows follow the map, not the storage. RNN gates likewise:
``orthogonal`` on ``recurrent`` makes each gate's H x H block orthogonal (W W^T = I per gate).

Embeddings keep their own init by default: a lookup table has no fan-in to scale by (each output
is one row, not a sum), and its scale is part of the model's design (GPT-2 and BERT 0.02, torch
N(0, 1)), often shared with a tied output layer; ``embedding="normal(std=0.02)"`` (any spec) draws
it, with fans (dim, num) as torch computes them, and the ``padding_idx`` row set back to 0 as
torch does. Norm weights become 1 and norm biases 0 (``norm="keep"`` leaves both). Every argument
takes "keep": ``apply(model, "keep", bias="keep", norm="keep", overrides={...})`` changes only what
the overrides name.

Tied tensors. A tensor held by different modules (GPT-2's ``lm_head.weight`` is
``transformer.wte.weight``) is one parameter, owned by its first module in ``named_modules()``
order. ``tied="skip"`` (default) leaves it alone, says so in its row and, when the rule of any of
its modules would have written it, warns (`TiedParameterWarning`), so a scheme for the head never
rewrites the embedding; ``tied="owner"``
fills it once by its owner's rule (the embedding's for GPT-2); ``tied="error"`` refuses. A module
registered under two names is not tied: its tensors are filled once by its own rule.

Overrides. ``overrides={pattern: spec}`` gives the parameters whose name (or a name it is tied to)
matches a glob pattern (`fnmatch`, case-sensitive; the first matching pattern wins) that spec
before any rule above, block by block as usual; a parameter of no layer gets it as one block
(``{"*.gamma": "constant(1e-6)"}`` for LayerScale, ``{"*.c_proj.weight": "normal(std=0.00289)"}``
for GPT-2's scaled residual projections at 24 layers, 0.02 / sqrt(2 * 24); ``{"*.w_qkv":
"variance_scaling(in_axis=0, out_axis=(1, 2))"}`` for an einsum kernel (d_model, heads, head_dim)
whose fans are not a Linear's: a spec's own ``in_axis``/``out_axis``/``batch_axis`` name the fans).
``NAME:BLOCK`` names blocks (globs over their labels: q, k, v; i, f, g, o; r, z, n), the other blocks
keeping their rule: ``{"rnn.bias_*:f": "ones"}`` sets an LSTM's forget-gate biases to 1 (Jozefowicz
et al. 2015), ``{"*.c_attn.weight:q": "zeros"}`` zeroes GPT-2's queries (muP). An override is explicit, so it fills a tied tensor whatever `tied`
says; a pattern that matches no parameter (or block) is an error. Rules and overrides are planned
in `initlab.torch.apply_rules`.

Order and exactness. Parameters are filled in ``model.named_parameters()`` order (registration
order, the order ``print(model)`` shows; for a Linear, weight then bias), blocks in the order
above, not in execution order (`initlab.torch.layers`, which `auto` and `lsuv` follow), so layers
the forward never calls are filled too and no trace is needed. Each block is drawn by
`initlab.torch.draw`: a scheme that ``torch.nn.init`` has is run by that very function with the
caller's ``torch.Generator``, so ``apply(model, "he_normal", generator=g)`` fills a model of
Linear/Conv layers with the same numbers as the loop ``for m in model.modules(): if isinstance(m,
(nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)): kaiming_normal_(m.weight, generator=g);
zeros_(m.bias)``; other schemes are drawn by initlab's NumPy initializer with the block's fans,
seeded by one draw of the torch generator per block. A transposed convolution's fans are its own
(`initlab.torch.kinds`), not the ones torch's fan calculation reads off its (in, out/groups,
*kernel) storage; only ``torch_default`` there follows torch's reset, storage fans included,
since that is what the name promises. Elsewhere ``torch_default`` is nn.Linear's rule applied to
each block (bound 1/sqrt(fan_in)), not each module's own reset (MHA: xavier_uniform_ over the
fused matrix and zero biases; RNNs: U(+-1/sqrt(H)) everywhere; Embedding: N(0, 1)).

Errors. Every spec is checked on every block before anything is drawn, and every value is drawn
before the first write: an error (naming the argument, spec, parameter and block) leaves the model
and the generator as they were. The price is memory: while drawing, the new values of every
parameter to fill are held at once (one extra copy of those parameters).

>>> import torch
>>> net = apply(torch.nn.Sequential(torch.nn.Linear(3, 2)), "he_normal", bias="constant(0.1)", seed=0)
>>> g = torch.Generator().manual_seed(0)
>>> torch.equal(net[0].weight, torch.nn.init.kaiming_normal_(torch.empty(2, 3), generator=g))
True
>>> net[0].bias.tolist()
[0.10000000149011612, 0.10000000149011612]
>>> result = initialise(torch.nn.MultiheadAttention(8, 2), "xavier_uniform", seed=0)
>>> [(b.label, b.fan_in, b.fan_out, round(b.std, 4)) for b in result.row("in_proj_weight").blocks]
[('q', 8, 8, 0.3536), ('k', 8, 8, 0.3536), ('v', 8, 8, 0.3536)]
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.init import Fans
from initlab.init.initializer import Initializer
from initlab.torch.apply_result import ApplyResult, BlockRow, ParameterRow
from initlab.torch.apply_rules import KEEP, Fill, Plan, padding_row, plan, resolve
from initlab.torch.draw import draw, fill, generator_from, numpy_rng  # noqa: F401 (fill, numpy_rng: used from here)
from initlab.torch.kinds import KINDS, Entry, inventory


class TiedParameterWarning(UserWarning):
    """A tensor shared by different modules (GPT-2's lm_head and token embedding) was left alone."""


def _cannot(entry: Entry, fill: Fill, shape: tuple[int, ...], error: Exception) -> ArgumentError:
    """The error naming the argument, spec, parameter and block that cannot be filled."""
    word = {"other": "parameter", "recurrent_bias": "bias"}.get(entry.role, entry.role.replace("_", " "))
    short = entry.name.rpartition(".")[2]
    standard = short in ("weight", "bias") and len(entry.blocks) == 1 and shape == entry.shape
    where = "" if standard else f" (parameter '{short}', block '{fill.block.label}' {list(shape)})"
    layer = f"layer '{entry.module_name}'" if entry.module_name else f"the model ({type(entry.module).__name__})"
    return ArgumentError(fill.argument, f"'{fill.init.spec}' cannot fill {word} {list(entry.shape)} of {layer}"
                         f"{where}: {error}")


def _check(plan: Plan) -> None:
    """Refuse a block the spec cannot fill (wrong number of dimensions) before anything is drawn."""
    for fill in plan.fills:
        shape = tuple(fill.block.view(plan.entry.parameter).shape)
        try:
            fill.init.geometry(shape, fill.block.fan)
            fill.init.fans(shape, fill.block.fan)  # explicit axes out of range or named twice
        except ValueError as error:
            raise _cannot(plan.entry, fill, shape, error) from None


def _draw(plan: Plan, g: torch.Generator) -> torch.Tensor:
    """The new value of the plan's parameter: its blocks drawn one by one, in order, into a copy."""
    p = plan.entry.parameter
    is_bias = plan.entry.role in ("bias", "recurrent_bias")
    whole = len(plan.fills) == 1 and tuple(plan.fills[0].block.view(p).shape) == tuple(p.shape) \
        and plan.fills[0].block.index == (slice(None),) and not plan.fills[0].block.transposed
    out = None if whole else p.detach().clone()  # a whole tensor is drawn as is: no copy to fill
    for fill in plan.fills:
        shape = tuple(fill.block.view(p).shape)
        try:
            value = draw(fill.init, shape, p, g, fill.block.fan, is_bias=is_bias)
        except ValueError as error:
            raise _cannot(plan.entry, fill, shape, error) from None
        if whole:
            out = value
        else:
            fill.block.view(out).copy_(value)
    if (padding := padding_row(plan.entry)) is not None:
        out[padding] = 0
    return out


def _moments(init: Initializer, shape: tuple[int, ...], fan: Fans | None) -> tuple[float | None, float | None]:
    try:
        mean, std = init.moments(shape, fan)
    except ValueError:  # a formula that needs fans a 1-D norm weight does not have
        return None, None
    return float(mean), float(std)


def _grouped(fills: tuple[Fill, ...], text) -> str | None:
    """``"he_normal"`` when every block shares it, else ``"i, g, o: zeros; f: ones"``."""
    groups: dict[str, list[str]] = {}
    for fill in fills:
        groups.setdefault(text(fill), []).append(fill.block.label)
    if len(groups) <= 1:
        return next(iter(groups), None)
    return "; ".join(f"{', '.join(labels)}: {value}" for value, labels in groups.items())


def _row(plan: Plan) -> ParameterRow:
    e = plan.entry
    blocks = []
    for fill in plan.fills:
        shape = tuple(fill.block.view(e.parameter).shape)
        fan = fill.init.fans(shape, fill.block.fan) or (None, None)  # a spec's axes name the fans
        blocks.append(BlockRow(fill.block.label, shape, *fan, *_moments(fill.init, shape, fill.block.fan),
                               str(fill.init.spec), fill.argument))
    return ParameterRow(e.name, e.shape, e.module_name, e.kind, e.role, _grouped(plan.fills, lambda f: str(f.init.spec)),
                        _grouped(plan.fills, lambda f: f.argument), tuple(blocks), plan.note, e.tied_to)


def initialise(model: nn.Module, scheme: str, bias: str = "zeros", *, recurrent: str | None = None,
               embedding: str = KEEP, norm: str = "ones", tied: str = "skip", overrides: dict[str, str] | None = None,
               generator: torch.Generator | None = None, seed: int | None = None) -> ApplyResult:
    """Initialise every parameter of `model` that has a layer rule, in place; return what was done.

    `scheme` fills weights (Linear, Conv, ConvTranspose, HF Conv1D, attention q/k/v, RNN input weights),
    `bias` their biases, `recurrent` RNN hidden-to-hidden weights (default: `scheme`), `embedding` the
    embedding tables and `norm` the norm weights (norm biases 0); "keep" (any of them) leaves those tensors
    as they are. `tied`: "skip", "owner" or "error" for a tensor shared by different modules; `overrides`:
    {glob over parameter names, optionally ":BLOCK": spec}, before every other rule (module doc).
    Randomness comes only from `generator` or `seed` (exactly one). On any error nothing is written.
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    rules = resolve(model, scheme, bias, recurrent, embedding, norm, tied, overrides)
    g = generator_from(generator, seed)
    lazy = [name for name, p in model.named_parameters() if isinstance(p, nn.parameter.UninitializedParameter)]
    if lazy:
        raise ArgumentError("model", f"has uninitialized (lazy) parameters ({', '.join(lazy[:3])}"
                            f"{', ...' if len(lazy) > 3 else ''}): run one forward pass first so they get their shapes")
    entries = inventory(model)
    if not any(entry.kind for entry in entries) and not rules.overrides:
        raise ArgumentError("model", f"found no nn.Linear or nn.Conv1d/2d/3d layer, nor any other layer initlab has "
                            f"a rule for ({', '.join(KINDS)}), in {type(model).__name__}")
    plans = [plan(entry, rules) for entry in entries]
    used = {fill.pattern for p in plans for fill in p.fills}
    for override in rules.overrides:
        if override.pattern not in used:
            raise ArgumentError("overrides", f"pattern {override.pattern!r} matches no parameter (or block) of "
                                f"{type(model).__name__} (patterns are globs over names such as "
                                "'blocks.0.attn.in_proj_weight', optionally ':BLOCK' such as ':q' or ':f')")
    for p in plans:
        _check(p)
    state = g.get_state()
    try:  # every value drawn before the first write: an error leaves the model (and the generator) as it was
        values = [(p.entry.parameter, _draw(p, g)) for p in plans if p.fills]
    except BaseException:
        g.set_state(state)
        raise
    with torch.no_grad():
        for parameter, value in values:
            parameter.copy_(value)
    skipped = [f"{p.entry.name} (also {', '.join(p.entry.tied_to)})" for p in plans if p.tied_skipped]
    if skipped:
        warnings.warn(f"tied: left alone {'; '.join(skipped)}: shared by different modules (tied='skip'; "
                      "tied='owner' initialises each once by its owner's rule)", TiedParameterWarning, stacklevel=3)
    settings = {"scheme": scheme, "bias": bias, "recurrent": recurrent, "embedding": embedding, "norm": norm,
                "tied": tied, "overrides": dict(overrides or {})}
    return ApplyResult(tuple(_row(p) for p in plans), settings, model)


def apply(model: nn.Module, scheme: str, bias: str = "zeros", *, recurrent: str | None = None,
          embedding: str = KEEP, norm: str = "ones", tied: str = "skip", overrides: dict[str, str] | None = None,
          generator: torch.Generator | None = None, seed: int | None = None) -> nn.Module:
    """`initialise` (same arguments), returning `model` itself rather than the report."""
    return initialise(model, scheme, bias, recurrent=recurrent, embedding=embedding, norm=norm, tied=tied,
                      overrides=overrides, generator=generator, seed=seed).model
