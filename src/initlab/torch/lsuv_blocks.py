"""What lsuv does to each kind of layer (`initlab.torch.lsuv`'s steps 1 and 2).

`orthogonalise(layer, g)` makes every weight block of one discovered layer (semi-)orthogonal and
zeroes its biases. `blocks(layer, args, kwargs)` gives the blocks step 2 scales, in order, each with a
function measuring what that block produces from the layer's inputs: a Linear/Conv/ConvTranspose/
Conv1D layer's output; an attention layer's q, k and v (``F.linear`` of its query, key and value
inputs), then its attention output; an RNN's input-weight gate blocks' contributions
``x_t @ W_gate.T`` (layer l > 0 reading layer l - 1's output sequence, recomputed once layer l - 1 is
calibrated).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from initlab.torch.discover import first_tensor_of
from initlab.torch.trace import TracedLayer


def orthogonal(view: torch.Tensor, g: torch.Generator) -> None:
    """`view` (a block in torch layout, possibly a strided view of a parameter) <- orthogonal_ of its shape
    (rows orthonormal over everything after the first axis; the same draws as orthogonal_ on the tensor)."""
    fresh = torch.empty(view.shape, dtype=view.dtype)
    nn.init.orthogonal_(fresh, generator=g)
    with torch.no_grad():
        view.copy_(fresh)


class Scaled:
    """One weight block lsuv scales: `view` (a view of the parameter) and how to measure what it produces."""

    def __init__(self, name: str, view: torch.Tensor, measure):
        self.name, self.view, self.measure = name, view, measure


def _linear_views(layer: TracedLayer) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(the weight in torch layout, the biases) of a linear/conv/conv_transpose/hf_conv1d layer."""
    m = layer.module
    w = m.weight.t() if layer.kind == "hf_conv1d" else m.weight
    if layer.kind == "conv_transpose":
        w = w.transpose(0, 1)
    return w, [m.bias] if getattr(m, "bias", None) is not None else []


def _attention_blocks(m: nn.MultiheadAttention) -> list[tuple[str, torch.Tensor, torch.Tensor | None, int]]:
    """(label, weight view, bias view or None, input index 0/1/2 = query/key/value) for q, k, v."""
    e = m.embed_dim
    out = []
    for i, label in enumerate("qkv"):
        if m.in_proj_weight is not None:
            w = m.in_proj_weight[i * e:(i + 1) * e]
        else:
            w = getattr(m, f"{label}_proj_weight")
        b = None if m.in_proj_bias is None else m.in_proj_bias[i * e:(i + 1) * e]
        out.append((label, w, b, i))
    return out


def _mha_input(args: tuple, kwargs: dict, index: int) -> torch.Tensor:
    names = ("query", "key", "value")
    return args[index] if len(args) > index else kwargs[names[index]]


def _rnn_suffixes(m: nn.RNNBase) -> list[tuple[int, str]]:
    return [(l, f"_l{l}{direction}") for l in range(m.num_layers)
            for direction in ([""] + (["_reverse"] if m.bidirectional else []))]


def _rnn_gates(m: nn.RNNBase) -> tuple[str, ...]:
    from initlab.torch.kinds import GATES
    return GATES.get(m.mode, GATES["RNN"])


def _rnn_next_input(m: nn.RNNBase, l: int, x):
    """Layer l's output sequence on input `x` (a tensor or PackedSequence in `m`'s layout), computed by a
    one-layer copy of `m` that reads layer l's parameters (``torch.func.functional_call``)."""
    options = dict(num_layers=1, bias=m.bias, batch_first=m.batch_first, bidirectional=m.bidirectional,
                   device="meta")
    if m.mode.startswith("RNN_"):
        options["nonlinearity"] = m.nonlinearity
    if m.proj_size:
        options["proj_size"] = m.proj_size
    size = (x.data if hasattr(x, "batch_sizes") else x).shape[-1]
    single = type(m)(size, m.hidden_size, **options)
    params = {}
    for name, p in m.named_parameters():
        for direction in ("", "_reverse"):
            if name.endswith(f"_l{l}{direction}"):
                params[name[: -len(f"_l{l}{direction}")] + f"_l0{direction}"] = p
    return torch.func.functional_call(single, params, (x,))[0]


def join(layer: str, part: str) -> str:
    return f"{layer}.{part}" if layer else part


def orthogonalise(layer: TracedLayer, g: torch.Generator) -> None:
    """Step 1 for `layer`: every weight block (semi-)orthogonal, every bias of the layer 0."""
    m, kind = layer.module, layer.kind
    if kind == "attention":
        for _, w, b, _ in _attention_blocks(m):
            orthogonal(w, g)
            if b is not None:
                with torch.no_grad():
                    b.zero_()
        orthogonal(m.out_proj.weight, g)
        if m.out_proj.bias is not None:
            nn.init.zeros_(m.out_proj.bias)
        return
    if kind == "rnn":
        h, gates = m.hidden_size, len(_rnn_gates(m))
        for _, suffix in _rnn_suffixes(m):
            for which in ("ih", "hh"):
                w = getattr(m, f"weight_{which}{suffix}")
                for i in range(gates):
                    orthogonal(w[i * h:(i + 1) * h], g)
            if m.proj_size:
                orthogonal(getattr(m, f"weight_hr{suffix}"), g)
            if m.bias:
                with torch.no_grad():
                    getattr(m, f"bias_ih{suffix}").zero_()
                    getattr(m, f"bias_hh{suffix}").zero_()
        return
    w, biases = _linear_views(layer)
    orthogonal(w, g)
    for b in biases:
        nn.init.zeros_(b)


def blocks(layer: TracedLayer, args: tuple, kwargs: dict) -> list[Scaled]:
    """Step 2's blocks of `layer`, in the order lsuv scales them, each measuring what it produces from the
    layer's inputs `args`, `kwargs` (those of the layer's first call)."""
    m, kind = layer.module, layer.kind
    if kind == "attention":
        found = []
        for label, w, b, index in _attention_blocks(m):
            def measure(w=w, b=b, index=index):
                return F.linear(_mha_input(args, kwargs, index), w, b)
            found.append(Scaled(join(layer.name, label), w, measure))
        found.append(Scaled(join(layer.name, "out_proj"), m.out_proj.weight,
                            lambda: first_tensor_of(m.forward(*args, **kwargs))))
        return found
    if kind == "rnn":
        h, gates = m.hidden_size, _rnn_gates(m)
        inputs = {0: args[0] if args else kwargs["input"]}

        def layer_input(l: int):
            if l not in inputs:  # layer l - 1 is calibrated by then: its output is what layer l reads
                inputs[l] = _rnn_next_input(m, l - 1, layer_input(l - 1))
            return inputs[l]

        found = []
        for l, suffix in _rnn_suffixes(m):
            w = getattr(m, f"weight_ih{suffix}")
            for i, gate in enumerate(gates):
                block = w[i * h:(i + 1) * h]

                def measure(l=l, block=block):
                    x = layer_input(l)
                    x = x.data if hasattr(x, "batch_sizes") else x
                    return x.reshape(-1, x.shape[-1]) @ block.t()
                found.append(Scaled(join(layer.name, f"weight_ih{suffix}.{gate}"), block, measure))
        return found
    w, _ = _linear_views(layer)
    return [Scaled(layer.name, w, lambda: first_tensor_of(m.forward(*args, **kwargs)))]
