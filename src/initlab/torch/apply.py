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
torch does. Norm weights become 1 and norm biases 0 (``norm="keep"`` leaves both).

Tied tensors. A tensor held by different modules (GPT-2's ``lm_head.weight`` is
``transformer.wte.weight``) is one parameter, owned by its first module in ``named_modules()``
order. ``tied="skip"`` (default) leaves it alone, says so in its row and warns
(`TiedParameterWarning`), so a scheme for the head never rewrites the embedding; ``tied="owner"``
fills it once by its owner's rule (the embedding's for GPT-2); ``tied="error"`` refuses. A module
registered under two names is not tied: its tensors are filled once by its own rule.

Order and exactness. Parameters are filled in ``model.named_parameters()`` order (registration
order, the order ``print(model)`` shows; for a Linear, weight then bias), blocks in the order
above, not in execution order (`initlab.torch.layers`, which `auto` and `lsuv` follow), so layers
the forward never calls are filled too and no trace is needed. A scheme that ``torch.nn.init``
has is run by that very function with the caller's ``torch.Generator`` on each block, so
``apply(model, "he_normal", generator=g)`` fills a model of Linear/Conv layers with the same
numbers as the loop ``for m in model.modules(): if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d,
nn.Conv3d)): kaiming_normal_(m.weight, generator=g); zeros_(m.bias)``. The translation:

    zeros, ones, constant(value)     -> zeros_, ones_, constant_
    normal(std, mean)                -> normal_(mean, std)
    uniform(limit) / (low, high)     -> uniform_(-limit, limit) / uniform_(low, high)
    truncated_normal(...)            -> trunc_normal_(mean, std, a, b) (bounds=sigma: a, b -> mean + std a, b)
    xavier_uniform/normal(gain)      -> xavier_uniform_/xavier_normal_(gain)
    he_uniform/normal(a, mode, nl)   -> kaiming_uniform_/kaiming_normal_(a, mode, nl) ("identity" -> "linear")
    orthogonal(gain)                 -> orthogonal_(gain)
    identity(gain) on a 2-D block    -> eye_ times gain
    torch_default                    -> weight kaiming_uniform_(a=sqrt(5)); bias uniform_(+-1/sqrt(fan_in)),
                                        exactly nn.Linear/nn.ConvNd.reset_parameters but with the generator

Every other scheme (lecun_*, epsilon_uniform, variance_scaling, critical, ...; fan-based schemes
used as a bias, which torch cannot fill; and fan-based schemes on a block whose fans are not the
ones torch computes from its shape: a transposed convolution) is drawn by initlab's NumPy
initializer in torch layout with the block's fans (a bias uses its weight's) from a NumPy
generator seeded from the torch one, one draw per block:
``np.random.default_rng(int(torch.randint(2**63 - 1, (1,), generator=g)))``. A transposed
convolution's fans are its own (`initlab.torch.kinds`), not the ones torch's fan calculation reads
off its (in, out/groups, *kernel) storage; only ``torch_default`` there follows torch's reset,
storage fans included, since that is what the name promises.

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

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import init as tinit

from initlab._checks import seed as check_seed
from initlab._errors import ArgumentError, ArgumentTypeError, unknown_choice
from initlab.init import Fans, fans, initializer, lookup
from initlab.init.initializer import Initializer
from initlab.torch.apply_result import ApplyResult, BlockRow, ParameterRow
from initlab.torch.kinds import KINDS, Block, Entry, inventory

FAN_FREE = ("zeros", "ones", "constant", "normal", "uniform", "truncated_normal")
FAN_BASED = ("xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "torch_default")
TIED_POLICIES = ("skip", "owner", "error")
KEEP = "keep"


class TiedParameterWarning(UserWarning):
    """A tensor shared by different modules (GPT-2's lm_head and token embedding) was left alone."""


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


def _uses_torch(init, shape: tuple[int, ...], fan: Fans | None, is_bias: bool) -> bool:
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
    if _uses_torch(init, shape, fan, is_bias):
        out = torch.empty(shape, dtype=like.dtype, device=like.device)
        with torch.no_grad():
            TORCH_INIT[init.spec.name](out, parameters_of(init), generator, fan)
        return out
    values = init(shape, numpy_rng(generator), fan=fan)
    return torch.from_numpy(values).to(dtype=like.dtype, device=like.device)


def fill(tensor: torch.Tensor, init, generator: torch.Generator, fan: Fans, *, is_bias: bool = False) -> None:
    """Fill `tensor` in place with `init` (an `Initializer` in torch layout), as the module doc says."""
    with torch.no_grad():
        tensor.copy_(draw(init, tuple(tensor.shape), tensor, generator, fan, is_bias=is_bias))


ROLE_ARGUMENT = {"weight": "scheme", "bias": "bias", "recurrent_weight": "recurrent", "recurrent_bias": "bias",
                 "embedding": "embedding", "norm_weight": "norm", "norm_bias": "norm"}
ZEROS = initializer("zeros", layout="torch")


@dataclass(frozen=True)
class _Plan:
    """What fills one parameter: the argument and its initializer (None: left alone), the blocks, a note."""

    entry: Entry
    argument: str | None
    init: Initializer | None
    blocks: tuple[Block, ...] = ()
    note: str = ""
    tied_skipped: bool = False


def _specs(scheme, bias, recurrent, embedding, norm) -> dict[str, Initializer | None]:
    """Each argument's initializer; None for "keep"; no "recurrent" key when recurrent weights follow `scheme`."""
    given = {"scheme": scheme, "bias": bias, "recurrent": recurrent, "embedding": embedding, "norm": norm}
    specs = {}
    for argument, spec in given.items():
        if spec is None or (spec == KEEP and argument in ("embedding", "norm")):
            specs[argument] = None
            continue
        try:
            specs[argument] = initializer(spec, layout="torch", argument=argument)
        except ArgumentError as error:
            if argument in ("embedding", "norm"):
                raise type(error)(argument, f"{error.detail} (or 'keep' to leave them as they are)") from None
            raise
    if specs["recurrent"] is None:
        del specs["recurrent"]
    return specs


def _other_owners(entry: Entry, modules: dict[str, nn.Module]) -> tuple[str, ...]:
    """Names of `entry`'s tensor held by a module other than its owner (a module used twice is not tied)."""
    return tuple(name for name in entry.tied_to if modules.get(name.rpartition(".")[0]) is not entry.module)


def _rule(entry: Entry, specs: dict) -> tuple[str, Initializer | None, str]:
    """(argument, initializer or None, note) of a parameter with a layer rule."""
    argument = ROLE_ARGUMENT[entry.role]
    if argument == "recurrent" and argument not in specs:
        argument = "scheme"
    init = specs[argument]
    if init is None:
        what = "an embedding table" if argument == "embedding" else "a norm layer"
        return argument, None, (f"{argument}='keep': {what} keeps the model's own init "
                                f"(pass {argument}='SPEC' to draw it)")
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


def _plan(entry: Entry, specs: dict, tied: str, modules: dict[str, nn.Module]) -> _Plan:
    if entry.kind is None:
        return _Plan(entry, None, None, note=entry.reason)
    others = _other_owners(entry, modules)
    owner = f"owner '{entry.module_name}', {entry.kind}"
    if others and tied == "error":
        raise ArgumentError("tied", f"'{entry.name}' is the same tensor as {', '.join(others)} ({owner}); pass "
                            "tied='skip' to leave it or tied='owner' to initialise it once by its owner's rule")
    if others and tied == "skip":
        return _Plan(entry, None, None, note=f"tied to {', '.join(others)} ({owner}): left alone (tied='skip')",
                     tied_skipped=True)
    argument, init, note = _rule(entry, specs)
    if others:
        note = "; ".join(filter(None, (note, f"tied to {', '.join(others)}: by its {owner} rule, once")))
    if init is None:
        return _Plan(entry, argument, None, note=note)
    blocks, remark = _blocks(entry, init)
    padding = getattr(entry.module, "padding_idx", None) if entry.role == "embedding" else None
    if padding is not None:
        remark = f"padding row {padding} set to 0 (as torch)"
    return _Plan(entry, argument, init, blocks, "; ".join(filter(None, (note, remark))))


def _cannot(plan: _Plan, block: Block, shape: tuple[int, ...], error: Exception) -> ArgumentError:
    """The error naming the argument, spec, parameter and block that cannot be filled."""
    entry = plan.entry
    word = entry.role.replace("_", " ").replace("recurrent bias", "bias")
    short = entry.name.rpartition(".")[2]
    standard = short in ("weight", "bias") and len(plan.blocks) == 1 and shape == entry.shape
    where = "" if standard else f" (parameter '{short}', block '{block.label}' {list(shape)})"
    return ArgumentError(plan.argument, f"'{plan.init.spec}' cannot fill {word} {list(entry.shape)} of layer "
                         f"'{entry.module_name}'{where}: {error}")


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
    padding = getattr(plan.entry.module, "padding_idx", None) if plan.entry.role == "embedding" else None
    if padding is not None:
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
               embedding: str = KEEP, norm: str = "ones", tied: str = "skip",
               generator: torch.Generator | None = None, seed: int | None = None) -> ApplyResult:
    """Initialise every parameter of `model` that has a layer rule, in place; return what was done.

    `scheme` fills weights (Linear, Conv, ConvTranspose, HF Conv1D, attention q/k/v, RNN input weights),
    `bias` their biases, `recurrent` RNN hidden-to-hidden weights (default: `scheme`), `embedding` the
    embedding tables and `norm` the norm weights (norm biases 0); "keep" leaves embeddings or norms as they
    are. `tied`: "skip", "owner" or "error" for a tensor shared by different modules (module doc).
    Randomness comes only from `generator` or `seed` (exactly one). On any error nothing is written.
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    if tied not in TIED_POLICIES:
        raise unknown_choice("tied", "tied policy", str(tied), TIED_POLICIES)
    specs = _specs(scheme, bias, recurrent, embedding, norm)
    g = generator_from(generator, seed)
    entries = inventory(model)
    if not any(entry.kind for entry in entries):
        raise ArgumentError("model", f"found no nn.Linear or nn.Conv1d/2d/3d layer, nor any other layer initlab has "
                            f"a rule for ({', '.join(KINDS)}), in {type(model).__name__}")
    modules = dict(model.named_modules(remove_duplicate=False))
    plans = [_plan(entry, specs, tied, modules) for entry in entries]
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
                "tied": tied}
    return ApplyResult(tuple(_row(plan) for plan in plans), settings, model)


def apply(model: nn.Module, scheme: str, bias: str = "zeros", *, recurrent: str | None = None,
          embedding: str = KEEP, norm: str = "ones", tied: str = "skip", generator: torch.Generator | None = None,
          seed: int | None = None) -> nn.Module:
    """`initialise` (same arguments), returning `model` itself rather than the report."""
    return initialise(model, scheme, bias, recurrent=recurrent, embedding=embedding, norm=norm, tied=tied,
                      generator=generator, seed=seed).model
