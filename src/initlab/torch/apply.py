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
(``{"*.gamma": "constant(1e-6)"}`` for LayerScale, ``{"*.c_proj.weight": "normal(std=0.0029)"}``
for GPT-2's scaled residual projections). An override is explicit, so it fills a tied tensor
whatever `tied` says; a pattern that matches no parameter is an error.

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
and the generator as they were.

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

import fnmatch
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError, unknown_choice
from initlab.init import Fans, fans, initializer
from initlab.init.initializer import Initializer
from initlab.torch.apply_result import ApplyResult, BlockRow, ParameterRow
from initlab.torch.draw import draw, fill, generator_from, numpy_rng  # noqa: F401 (fill, numpy_rng: used from here)
from initlab.torch.kinds import KINDS, Block, Entry, inventory, role_under

TIED_POLICIES = ("skip", "owner", "error")
KEEP = "keep"


class TiedParameterWarning(UserWarning):
    """A tensor shared by different modules (GPT-2's lm_head and token embedding) was left alone."""


ROLE_ARGUMENT = {"weight": "scheme", "bias": "bias", "recurrent_weight": "recurrent", "recurrent_bias": "bias",
                 "embedding": "embedding", "norm_weight": "norm", "norm_bias": "norm"}
KEPT = {"scheme": "weights", "bias": "biases", "recurrent": "recurrent weights", "embedding": "embedding tables",
        "norm": "norm layers"}
ZEROS = initializer("zeros", layout="torch")


@dataclass(frozen=True)
class _Plan:
    """What fills one parameter: the argument and its initializer (None: left alone), the blocks, a note."""

    entry: Entry
    argument: str | None
    init: Initializer | None
    blocks: tuple[Block, ...] = ()
    note: str = ""
    tied_skipped: bool = False  # left alone under tied="skip" although a rule would have written it: warn
    pattern: str | None = None  # the override that chose `init`


def _specs(scheme, bias, recurrent, embedding, norm) -> dict[str, Initializer | None]:
    """Each argument's initializer; None for "keep"; no "recurrent" key when recurrent weights follow `scheme`."""
    given = {"scheme": scheme, "bias": bias, "recurrent": recurrent, "embedding": embedding, "norm": norm}
    specs = {}
    for argument, spec in given.items():
        if argument == "recurrent" and spec is None:
            continue
        if spec == KEEP:
            specs[argument] = None
            continue
        try:
            specs[argument] = initializer(spec, layout="torch", argument=argument)
        except ArgumentError as error:
            if argument in ("embedding", "norm"):
                raise type(error)(argument, f"{error.detail} (or 'keep' to leave them as they are)") from None
            raise
    return specs


def _other_owners(entry: Entry, modules: dict[str, nn.Module]) -> tuple[str, ...]:
    """Names of `entry`'s tensor held by a module other than its owner (a module used twice is not tied)."""
    return tuple(name for name in entry.tied_to if modules.get(name.rpartition(".")[0]) is not entry.module)


def _argument(role: str, specs: dict) -> str | None:
    """The argument whose spec fills a parameter of `role` (None: no rule)."""
    argument = ROLE_ARGUMENT.get(role)
    return "scheme" if argument == "recurrent" and argument not in specs else argument


def _would_write(entry: Entry, specs: dict, model: nn.Module, modules: dict[str, nn.Module]) -> bool:
    """Whether the rule of any module holding `entry`'s tensor would write it (else a tied skip needs no warning)."""
    roles = [entry.role] + [role_under(name, model, modules) for name in entry.tied_to]
    return any((argument := _argument(role, specs)) and specs[argument] is not None for role in roles)


def _rule(entry: Entry, specs: dict) -> tuple[str, Initializer | None, str]:
    """(argument, initializer or None, note) of a parameter with a layer rule."""
    argument = _argument(entry.role, specs)
    init = specs[argument]
    if init is None:
        return argument, None, f"{argument}='keep': {KEPT[argument]} keep the model's own init"
    if entry.role == "norm_bias":
        return argument, ZEROS, ""
    return argument, init, ""


def _blocks(entry: Entry, init: Initializer) -> tuple[tuple[Block, ...], str]:
    """The blocks to fill: torch_default on a transposed convolution follows torch's own reset (fans of the
    stored layout, module doc); every other case fills the entry's blocks."""
    if entry.kind == "conv_transpose" and init.spec.name == "torch_default":
        return ((Block(entry.blocks[0].label, fan=fans(tuple(entry.module.weight.shape), "torch")),),
                "torch's own reset: fans of the stored (in, out/groups, *kernel) layout")
    return entry.blocks, ""


def _padding_row(entry: Entry) -> int | None:
    """The row of an embedding table torch keeps at 0 (``padding_idx``), or None."""
    return getattr(entry.module, "padding_idx", None) if entry.role == "embedding" else None


def _remarks(entry: Entry, *notes: str) -> str:
    padding = _padding_row(entry)
    return "; ".join(filter(None, (*notes, f"padding row {padding} set to 0 (as torch)" if padding is not None else "")))


def _overrides(overrides) -> dict[str, Initializer]:
    """{pattern: initializer} of the `overrides` argument, validated."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in overrides.items()):
        raise ArgumentTypeError("overrides", f"expected a dict of glob pattern -> spec string, got {overrides!r}")
    out = {}
    for pattern, spec in overrides.items():
        try:
            out[pattern] = initializer(spec, layout="torch", argument="overrides")
        except ArgumentError as error:
            raise type(error)("overrides", f"{pattern!r}: {error.detail}") from None
    return out


def _override(entry: Entry, overrides: dict[str, Initializer], modules: dict[str, nn.Module]) -> _Plan | None:
    """The plan of a parameter an override pattern names, or None."""
    names = (entry.name, *entry.tied_to)
    pattern = next((p for p in overrides if any(fnmatch.fnmatchcase(n, p) for n in names)), None)
    if pattern is None:
        return None
    init = overrides[pattern]
    blocks, remark = _blocks(entry, init) if entry.blocks else ((Block("tensor"),), "")
    others = _other_owners(entry, modules)
    tied = f"tied to {', '.join(others)}: filled once" if others else ""
    return _Plan(entry, "overrides", init, blocks, _remarks(entry, f"pattern {pattern!r}", tied, remark), pattern=pattern)


def _plan(entry: Entry, specs: dict, tied: str, model: nn.Module, modules: dict[str, nn.Module],
          overrides: dict[str, Initializer]) -> _Plan:
    if (plan := _override(entry, overrides, modules)) is not None:
        return plan
    if entry.kind is None:
        return _Plan(entry, None, None, note=entry.reason)
    others = _other_owners(entry, modules)
    owner = f"owner '{entry.module_name}', {entry.kind}"
    if others and tied == "error":
        raise ArgumentError("tied", f"'{entry.name}' is the same tensor as {', '.join(others)} ({owner}); pass "
                            "tied='skip' to leave it or tied='owner' to initialise it once by its owner's rule")
    if others and tied == "skip":
        return _Plan(entry, None, None, note=f"tied to {', '.join(others)} ({owner}): left alone (tied='skip')",
                     tied_skipped=_would_write(entry, specs, model, modules))
    argument, init, note = _rule(entry, specs)
    if others:
        note = "; ".join(filter(None, (note, f"tied to {', '.join(others)}: by its {owner} rule, once")))
    if init is None:
        return _Plan(entry, argument, None, note=note)
    blocks, remark = _blocks(entry, init)
    return _Plan(entry, argument, init, blocks, _remarks(entry, note, remark))


def _cannot(plan: _Plan, block: Block, shape: tuple[int, ...], error: Exception) -> ArgumentError:
    """The error naming the argument, spec, parameter and block that cannot be filled."""
    entry = plan.entry
    word = {"other": "parameter", "recurrent_bias": "bias"}.get(entry.role, entry.role.replace("_", " "))
    short = entry.name.rpartition(".")[2]
    standard = short in ("weight", "bias") and len(plan.blocks) == 1 and shape == entry.shape
    where = "" if standard else f" (parameter '{short}', block '{block.label}' {list(shape)})"
    layer = f"layer '{entry.module_name}'" if entry.module_name else f"the model ({type(entry.module).__name__})"
    return ArgumentError(plan.argument, f"'{plan.init.spec}' cannot fill {word} {list(entry.shape)} of {layer}"
                         f"{where}: {error}")


def _check(plan: _Plan) -> None:
    """Refuse a block the spec cannot fill (wrong number of dimensions) before anything is drawn."""
    for block in plan.blocks:
        shape = tuple(block.view(plan.entry.parameter).shape)
        try:
            plan.init.geometry(shape, block.fan)
        except ValueError as error:
            raise _cannot(plan, block, shape, error) from None


def _draw(plan: _Plan, g: torch.Generator) -> torch.Tensor:
    """The new value of the plan's parameter: its blocks drawn one by one, in order, into a copy."""
    p = plan.entry.parameter
    out = p.detach().clone()
    is_bias = plan.entry.role in ("bias", "recurrent_bias")
    for block in plan.blocks:
        target = block.view(out)
        try:
            target.copy_(draw(plan.init, tuple(target.shape), p, g, block.fan, is_bias=is_bias))
        except ValueError as error:
            raise _cannot(plan, block, tuple(target.shape), error) from None
    if (padding := _padding_row(plan.entry)) is not None:
        out[padding] = 0
    return out


def _moments(init: Initializer, shape: tuple[int, ...], fan: Fans | None) -> tuple[float | None, float | None]:
    try:
        mean, std = init.moments(shape, fan)
    except ValueError:  # a formula that needs fans a 1-D norm weight does not have
        return None, None
    return float(mean), float(std)


def _row(plan: _Plan) -> ParameterRow:
    e = plan.entry
    blocks = ()
    if plan.init is not None:
        shapes = [tuple(b.view(e.parameter).shape) for b in plan.blocks]
        blocks = tuple(BlockRow(b.label, shape, *(b.fan if b.fan is not None else (None, None)),
                                *_moments(plan.init, shape, b.fan)) for b, shape in zip(plan.blocks, shapes))
    return ParameterRow(e.name, e.shape, e.module_name, e.kind, e.role, str(plan.init.spec) if plan.init else None,
                        plan.argument if plan.init else None, blocks, plan.note, e.tied_to)


def initialise(model: nn.Module, scheme: str, bias: str = "zeros", *, recurrent: str | None = None,
               embedding: str = KEEP, norm: str = "ones", tied: str = "skip", overrides: dict[str, str] | None = None,
               generator: torch.Generator | None = None, seed: int | None = None) -> ApplyResult:
    """Initialise every parameter of `model` that has a layer rule, in place; return what was done.

    `scheme` fills weights (Linear, Conv, ConvTranspose, HF Conv1D, attention q/k/v, RNN input weights),
    `bias` their biases, `recurrent` RNN hidden-to-hidden weights (default: `scheme`), `embedding` the
    embedding tables and `norm` the norm weights (norm biases 0); "keep" leaves embeddings or norms as they
    are. `tied`: "skip", "owner" or "error" for a tensor shared by different modules; `overrides`:
    {glob pattern of parameter names: spec}, before every other rule (module doc).
    Randomness comes only from `generator` or `seed` (exactly one). On any error nothing is written.
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    if tied not in TIED_POLICIES:
        raise unknown_choice("tied", "tied policy", str(tied), TIED_POLICIES)
    specs = _specs(scheme, bias, recurrent, embedding, norm)
    patterns = _overrides(overrides)
    g = generator_from(generator, seed)
    lazy = [name for name, p in model.named_parameters() if isinstance(p, nn.parameter.UninitializedParameter)]
    if lazy:
        raise ArgumentError("model", f"has uninitialized (lazy) parameters ({', '.join(lazy[:3])}"
                            f"{', ...' if len(lazy) > 3 else ''}): run one forward pass first so they get their shapes")
    entries = inventory(model)
    if not any(entry.kind for entry in entries) and not patterns:
        raise ArgumentError("model", f"found no nn.Linear or nn.Conv1d/2d/3d layer, nor any other layer initlab has "
                            f"a rule for ({', '.join(KINDS)}), in {type(model).__name__}")
    modules = dict(model.named_modules(remove_duplicate=False))
    plans = [_plan(entry, specs, tied, model, modules, patterns) for entry in entries]
    for pattern in patterns:
        if not any(plan.pattern == pattern for plan in plans):
            raise ArgumentError("overrides", f"pattern {pattern!r} matches no parameter of {type(model).__name__} "
                                "(patterns are globs over names such as 'blocks.0.attn.in_proj_weight')")
    for plan in plans:
        if plan.init is not None:
            _check(plan)
    state = g.get_state()
    try:  # every value drawn before the first write: an error leaves the model (and the generator) as it was
        values = [(plan.entry.parameter, _draw(plan, g)) for plan in plans if plan.init is not None]
    except BaseException:
        g.set_state(state)
        raise
    with torch.no_grad():
        for parameter, value in values:
            parameter.copy_(value)
    skipped = [f"{plan.entry.name} (also {', '.join(plan.entry.tied_to)})" for plan in plans if plan.tied_skipped]
    if skipped:
        warnings.warn(f"tied: left alone {'; '.join(skipped)}: shared by different modules (tied='skip'; "
                      "tied='owner' initialises each once by its owner's rule)", TiedParameterWarning, stacklevel=3)
    settings = {"scheme": scheme, "bias": bias, "recurrent": recurrent, "embedding": embedding, "norm": norm,
                "tied": tied, "overrides": dict(overrides or {})}
    return ApplyResult(tuple(_row(plan) for plan in plans), settings, model)


def apply(model: nn.Module, scheme: str, bias: str = "zeros", *, recurrent: str | None = None,
          embedding: str = KEEP, norm: str = "ones", tied: str = "skip", overrides: dict[str, str] | None = None,
          generator: torch.Generator | None = None, seed: int | None = None) -> nn.Module:
    """`initialise` (same arguments), returning `model` itself rather than the report."""
    return initialise(model, scheme, bias, recurrent=recurrent, embedding=embedding, norm=norm, tied=tied,
                      overrides=overrides, generator=generator, seed=seed).model
