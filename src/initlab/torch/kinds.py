"""Every parameter of a model, with the kind of layer that owns it, its weight blocks and their fans.

`inventory(model)` lists each parameter tensor once (in ``model.named_parameters()`` order) as an
`Entry`: the module that owns it (its first name, when the tensor is tied to several modules), the
module's `kind`, the parameter's `role`, and the `blocks` an initializer fills one at a time, each a
view in torch layout ``(out, in, *kernel)`` with its own fans:

    kind             module                                       weight blocks (fan_in, fan_out)
    linear           nn.Linear (and subclasses: MHA's out_proj)   the weight (in, out)
    conv             nn.Conv1d/2d/3d                              the weight (in/groups * k, out * k)
    conv_transpose   nn.ConvTranspose1d/2d/3d                     weight (in, out/groups, *k) read as
                                                                  (out/groups, in, *k): (in/groups * k / s, out/groups * k)
    hf_conv1d        Hugging Face Conv1D (GPT-2), weight (in, out) its transpose: (in, out); GPT-2's fused
                                                                  ``c_attn`` (in, 3E) as q, k, v column blocks (in, E)
    attention        nn.MultiheadAttention                        in_proj_weight as q, k, v blocks (E, E) each
                                                                  (or q/k/v_proj_weight), fans (kdim or E, E)
    rnn              nn.RNN/LSTM/GRU                              weight_ih_l*/weight_hh_l* per gate block
                                                                  (LSTM i, f, g, o; GRU r, z, n), fans (in or H, H)
    embedding        nn.Embedding, nn.EmbeddingBag                the table (num, dim): fans as torch computes
                                                                  them, (dim, num), which a tied output layer shares
    norm             BatchNorm/LayerNorm/GroupNorm/InstanceNorm/RMSNorm and any module whose class
                     name ends in "Norm" holding only 1-D parameters: weight and bias, no fans

Anything else (``cls_token``, ``pos_embed``, a LayerScale gamma, a parameter of an unknown module) is
an entry of kind None with a `reason` saying what it looks like and why no rule applies to it
(`unruled_reason`).

Convolution fans follow torch (``fan_in = in/groups * prod(kernel)``); a transposed convolution's
weight is stored ``(in, out/groups, *kernel)``, which torch's fan calculation reads as if it were a
convolution's (fan_in = out/groups * prod(kernel), the wrong axis): here its fan_in is the mean
number of inputs an output entry sums, ``in/groups * prod(kernel) / prod(stride)``.

Tied tensors (GPT-2's ``lm_head.weight`` is ``transformer.wte.weight``) are one entry; `tied_to` names
the other modules' names for it, and `role_under(name, model)` the role the tensor has under one of
them (an "embedding" in wte, a "weight" in lm_head). `describe(module, kind, short, p)` gives the
(role, blocks, reason) of one parameter of one module.

>>> import torch
>>> mha = torch.nn.MultiheadAttention(8, 2)
>>> [(e.name, [b.label for b in e.blocks]) for e in inventory(mha)][:2]
[('in_proj_weight', ['q', 'k', 'v']), ('in_proj_bias', ['q', 'k', 'v'])]
>>> inventory(mha)[0].blocks[0].fan
Fans(fan_in=8, fan_out=8)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from initlab.init import Fans

KINDS = ("linear", "conv", "conv_transpose", "hf_conv1d", "attention", "rnn", "embedding", "norm")
GATES = {"LSTM": ("i", "f", "g", "o"), "GRU": ("r", "z", "n"), "RNN": ("h",)}
NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)


def is_hf_conv1d(module: nn.Module) -> bool:
    """Hugging Face's ``Conv1D`` (GPT-2's projections): a Linear whose weight is stored (in, out)."""
    return type(module).__name__ == "Conv1D" and hasattr(module, "nf") and getattr(module, "weight", None) is not None


def is_norm(module: nn.Module) -> bool:
    if isinstance(module, NORMS):
        return True
    own = list(module.parameters(recurse=False))
    return type(module).__name__.endswith("Norm") and bool(own) and all(p.dim() == 1 for p in own)


def kind_of(module: nn.Module) -> str | None:
    """The module's kind (one of `KINDS`), or None for a module initlab has no rule for."""
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return "conv"
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return "conv_transpose"
    if is_hf_conv1d(module):
        return "hf_conv1d"
    if isinstance(module, nn.MultiheadAttention):
        return "attention"
    if isinstance(module, nn.RNNBase):
        return "rnn"
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return "embedding"
    if is_norm(module):
        return "norm"
    return None


@dataclass(frozen=True)
class Block:
    """One weight matrix inside a parameter: `index` selects it (rows of the stored tensor), `layout`
    says how to read it in torch layout (out, in, *kernel), `fan` gives its fans."""

    label: str
    index: tuple = (slice(None),)
    fan: Fans | None = None
    transposed: bool = False     # stored (in, out, ...): read through .transpose(0, 1)
    recurrent: bool = False      # an RNN's hidden-to-hidden block

    def view(self, tensor: torch.Tensor) -> torch.Tensor:
        """The block of `tensor` as a view in torch layout (writing to it writes the parameter)."""
        part = tensor[self.index]
        return part.transpose(0, 1) if self.transposed else part


@dataclass(frozen=True)
class Entry:
    """One parameter tensor: `name` (its first name), the owning module and its kind, the role of the
    tensor in it ("weight", "bias", "recurrent_weight", "recurrent_bias", "embedding", "norm_weight",
    "norm_bias", or "other"), its blocks, the other names it is tied to, and why no rule applies (kind None)."""

    name: str
    parameter: nn.Parameter = field(repr=False)
    module_name: str
    module: nn.Module = field(repr=False)
    kind: str | None
    role: str
    blocks: tuple[Block, ...] = ()
    tied_to: tuple[str, ...] = ()
    reason: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.parameter.shape)

    @property
    def fan(self) -> Fans | None:
        """The fans of the first block (every block of one parameter has the same fans but RNN ih/hh)."""
        return self.blocks[0].fan if self.blocks else None


def _whole(fan: Fans, transposed: bool = False) -> tuple[Block, ...]:
    return (Block("weight", fan=fan, transposed=transposed),)


def _split(labels, size: int, fan: Fans, recurrent: bool = False) -> tuple[Block, ...]:
    return tuple(Block(label, (slice(i * size, (i + 1) * size),), fan, recurrent=recurrent)
                 for i, label in enumerate(labels))


def _conv_fans(m: nn.Module) -> Fans:
    k = math.prod(m.kernel_size)
    return Fans(m.in_channels // m.groups * k, m.out_channels * k)


def _conv_transpose_fans(m: nn.Module) -> Fans:
    k = math.prod(m.kernel_size)
    return Fans(m.in_channels // m.groups * k / math.prod(m.stride), m.out_channels // m.groups * k)


def _attention(m: nn.MultiheadAttention, short: str) -> tuple[str, tuple[Block, ...]]:
    e = m.embed_dim
    if short == "in_proj_weight":
        return "weight", _split("qkv", e, Fans(e, e))
    if short == "in_proj_bias":
        return "bias", _split("qkv", e, Fans(e, e))
    sources = {"q_proj_weight": e, "k_proj_weight": m.kdim, "v_proj_weight": m.vdim}
    if short in sources:
        return "weight", (Block(short[0], fan=Fans(sources[short], e)),)
    return "other", ()  # bias_k, bias_v: learned extra key/value rows


def _rnn(m: nn.RNNBase, short: str) -> tuple[str, tuple[Block, ...]]:
    gates = GATES.get(m.mode, GATES["RNN"])  # mode: LSTM, GRU, RNN_TANH or RNN_RELU
    hidden = m.hidden_size
    layer = int(short.split("_l")[1].split("_")[0])
    width_in = m.input_size if layer == 0 else hidden * (2 if m.bidirectional else 1)
    if short.startswith("weight_hr"):  # LSTM projection (proj_size): hidden -> proj
        return "weight", (Block("projection", fan=Fans(hidden, m.proj_size)),)
    recurrent = short.startswith(("weight_hh", "bias_hh"))
    if layer > 0 and m.proj_size:
        width_in = m.proj_size * (2 if m.bidirectional else 1)
    source = (m.proj_size or hidden) if recurrent else width_in
    role = ("recurrent_" if recurrent else "") + ("weight" if short.startswith("weight") else "bias")
    return role, _split(gates, hidden, Fans(source, hidden), recurrent=recurrent)


def fused_qkv_width(module: nn.Module, parent: nn.Module | None) -> int | None:
    """E when `module` is a Hugging Face Conv1D holding q, k and v side by side (GPT-2's ``c_attn``: its
    attention module has ``embed_dim`` E and the Conv1D has 3E outputs), else None."""
    width = getattr(parent, "embed_dim", None)
    if isinstance(width, int) and width > 0 and getattr(module, "nf", None) == 3 * width:
        return width
    return None


def _hf_qkv(module: nn.Module, short: str, width: int) -> tuple[str, tuple[Block, ...]]:
    """q, k, v column blocks of a fused (in, 3E) Conv1D weight (each read transposed: (E, in)) and its bias."""
    n_in = module.weight.shape[0]
    columns = [slice(i * width, (i + 1) * width) for i in range(3)]
    if short == "weight":
        return "weight", tuple(Block(label, (slice(None), cols), Fans(n_in, width), transposed=True)
                               for label, cols in zip("qkv", columns))
    return "bias", tuple(Block(label, (cols,), Fans(n_in, width)) for label, cols in zip("qkv", columns))


# What a parameter of no known layer usually is, by its name: (test on the lower-case short name and the
# tensor, description). Only the description changes; every such parameter is left to the model's own init.
LOOKS_LIKE = (
    (lambda n, p: "cls" in n or "class_token" in n, "a class token"),
    (lambda n, p: "pos" in n and ("emb" in n or "enc" in n), "a position embedding"),
    (lambda n, p: p.dim() == 1 and (n in ("gamma", "ls", "scale") or "layer_scale" in n or "layerscale" in n),
     "a per-channel branch scale (LayerScale-style gamma)"),
    (lambda n, p: p.numel() == 1 and n in ("alpha", "gate", "resweight", "rezero"),
     "a scalar residual gate (ReZero/SkipInit-style alpha)"),
    (lambda n, p: "token" in n, "a learned token"),
)


def unruled_reason(module: nn.Module, short: str, p: nn.Parameter) -> str:
    """Why no rule applies to parameter `short` of `module`, naming what it looks like when its name says."""
    owner = type(module).__name__
    where = f"{owner}.{short}, shape {list(p.shape)}"
    if owner == "ParametrizationList":  # torch.nn.utils.parametrize: the layer's tensor is computed from these
        return (f"a stored original of a parametrized tensor ({where}, e.g. weight_norm's g or v): the layer's "
                "weight is computed from it, no layer rule; initialise the layer before parametrizing it")
    looks = next((text for test, text in LOOKS_LIKE if test(short.lower(), p)), None)
    if looks:
        return f"{looks} ({where}): the model's own parameter, no layer rule"
    return f"not a weight or bias of a known layer type ({where})"


def describe(module: nn.Module, kind: str | None, short: str, p: nn.Parameter,
             parent: nn.Module | None = None) -> tuple[str, tuple[Block, ...], str]:
    """(role, blocks, reason) of parameter `short` of `module` (`parent`: the module holding it, if any)."""
    if kind == "hf_conv1d" and short in ("weight", "bias") and (width := fused_qkv_width(module, parent)):
        role, blocks = _hf_qkv(module, short, width)
        return role, blocks, ""
    if kind in ("linear", "conv", "conv_transpose", "hf_conv1d"):
        if short == "bias":
            return "bias", (Block("bias", fan=weight_fans(module, kind)),), ""
        if short == "weight":
            return "weight", _whole(weight_fans(module, kind), transposed=kind in ("conv_transpose", "hf_conv1d")), ""
    if kind == "attention":
        role, blocks = _attention(module, short)
        return role, blocks, "" if blocks else (f"'{short}' of nn.MultiheadAttention (a learned extra key/value row, "
                                          "which torch draws xavier_normal_): no layer rule applies")
    if kind == "rnn":
        role, blocks = _rnn(module, short)
        return role, blocks, ""
    if kind == "embedding" and short == "weight":
        return "embedding", (Block("embedding", fan=Fans(p.shape[1], p.shape[0])),), ""
    if kind == "norm" and short in ("weight", "bias"):
        return f"norm_{short}", (Block(short),), ""
    return "other", (), unruled_reason(module, short, p)


def weight_fans(module: nn.Module, kind: str) -> Fans:
    """Weight fans of a linear/conv/conv_transpose/hf_conv1d module (see the module doc)."""
    if kind == "linear":
        return Fans(module.in_features, module.out_features)
    if kind == "conv":
        return _conv_fans(module)
    if kind == "conv_transpose":
        return _conv_transpose_fans(module)
    n_in, n_out = module.weight.shape
    return Fans(n_in, n_out)


def role_under(name: str, model: nn.Module, modules: dict[str, nn.Module] | None = None) -> str:
    """The role parameter `name` of `model` has in the module that holds it under that name (a tied tensor
    has one role per owner: GPT-2's shared matrix is an "embedding" in wte and a "weight" in lm_head)."""
    modules = dict(model.named_modules(remove_duplicate=False)) if modules is None else modules
    module_name, _, short = name.rpartition(".")
    module = modules[module_name]
    p = getattr(module, short)
    return describe(module, kind_of(module), short, p, modules.get(module_name.rpartition(".")[0]))[0]


def inventory(model: nn.Module) -> list[Entry]:
    """Every parameter tensor of `model` once, in ``named_parameters()`` order (see the module doc)."""
    names: dict[int, list[tuple[str, str, nn.Module]]] = {}
    for module_name, module in model.named_modules(remove_duplicate=False):
        for short, p in module.named_parameters(recurse=False, prefix="", remove_duplicate=False):
            full = f"{module_name}.{short}" if module_name else short
            if all(full != seen[0] for seen in names.get(id(p), [])):
                names.setdefault(id(p), []).append((full, short, module_name))
    modules = dict(model.named_modules(remove_duplicate=False))
    out = []
    for name, p in model.named_parameters():
        owners = names[id(p)]
        full, short, module_name = owners[0]
        module = modules[module_name]
        kind = kind_of(module)
        parent = modules.get(module_name.rpartition(".")[0]) if module_name else None
        role, blocks, reason = describe(module, kind, short, p, parent)
        out.append(Entry(name, p, module_name, module, kind if role != "other" else None, role, blocks,
                         tuple(o[0] for o in owners[1:]), reason))
    return out


def layer_kinds(model: nn.Module) -> dict[str, str]:
    """{module name: kind} for every module of `model` with a kind, in ``named_modules()`` order."""
    return {name: kind for name, module in model.named_modules() if (kind := kind_of(module)) is not None}

