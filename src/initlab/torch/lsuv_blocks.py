"""What lsuv measures and scales for each kind of layer (`initlab.torch.lsuv`'s step 1 and step 2 plans).

`blocks(model, layer, batch, g)` makes every weight block of one discovered layer (semi-)orthogonal,
zeroes its biases and returns the blocks to scale, each with a function measuring what that block
produces on `batch`: a Linear/Conv/ConvTranspose/Conv1D layer's output; an attention layer's q, k and
v (``F.linear`` of its query, key and value inputs) and its attention output; an RNN's input-weight
gate blocks' contributions ``x_t @ W_gate.T`` (layer l > 0 reading layer l - 1's output sequence).
Measurements run lazily, when lsuv reaches the layer, so earlier layers are calibrated first.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from initlab._errors import ArgumentError
from initlab.torch.discover import first_tensor_of
from initlab.torch.inputs import call
from initlab.torch.trace import TracedLayer


class Stop(Exception):
    """Raised by the hook once the layer's output is read: the rest of the forward pass is skipped."""


def layer_io(model: nn.Module, name: str, module: nn.Module, batch) -> tuple[tuple, dict, torch.Tensor]:
    """The positional and keyword inputs and the (first) output tensor of `module`'s (layer `name`'s) first
    call when `model` runs `batch`; the pass stops there."""
    seen: list[tuple[tuple, dict, torch.Tensor]] = []

    def hook(_module, args, kwargs, output):
        seen.append((args, kwargs, first_tensor_of(output)))
        raise Stop

    handle = module.register_forward_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            call(model, batch)
    except Stop:
        pass
    finally:
        handle.remove()
    if not seen:
        raise ArgumentError("model", f"the forward pass on the batch never called layer '{name}' (it was called when "
                         "the model was traced; lsuv needs a forward that calls the same layers every time)")
    return seen[0]


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


def blocks(model: nn.Module, layer: TracedLayer, batch, g: torch.Generator) -> list[Scaled]:
    """Step 1 (orthogonal weights, zero biases) for `layer`; the blocks step 2 scales, each measuring lazily."""
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

        def scaled():
            io = {}

            def inputs():
                if not io:
                    io["args"], io["kwargs"], _ = layer_io(model, layer.name, m, batch)
                return io["args"], io["kwargs"]
            found = []
            for label, w, b, index in _attention_blocks(m):
                def measure(w=w, b=b, index=index):
                    args, kwargs = inputs()
                    return F.linear(_mha_input(args, kwargs, index), w, b)
                found.append(Scaled(join(layer.name, label), w, measure))

            def attention_output():
                args, kwargs = inputs()
                return first_tensor_of(m.forward(*args, **kwargs))
            found.append(Scaled(join(layer.name, "out_proj"), m.out_proj.weight, attention_output))
            return found
        return scaled()
    if kind == "rnn":
        gates = _rnn_gates(m)
        h = m.hidden_size
        for _, suffix in _rnn_suffixes(m):
            for which in ("ih", "hh"):
                w = getattr(m, f"weight_{which}{suffix}")
                for i in range(len(gates)):
                    orthogonal(w[i * h:(i + 1) * h], g)
            if m.proj_size:
                orthogonal(getattr(m, f"weight_hr{suffix}"), g)
            if m.bias:
                with torch.no_grad():
                    getattr(m, f"bias_ih{suffix}").zero_()
                    getattr(m, f"bias_hh{suffix}").zero_()
        state = {}

        def layer_input(l: int):
            if 0 not in state:
                args, kwargs, _ = layer_io(model, layer.name, m, batch)
                state[0] = args[0] if args else kwargs["input"]
            if l not in state:
                state[l] = _rnn_next_input(m, l - 1, layer_input(l - 1))
            return state[l]

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
    w, biases = _linear_views(layer)
    orthogonal(w, g)
    for b in biases:
        nn.init.zeros_(b)
    io = {}

    def output():
        if not io:
            io["args"], io["kwargs"], out = layer_io(model, layer.name, m, batch)
            return out
        return first_tensor_of(m.forward(*io["args"], **io["kwargs"]))
    return [Scaled(layer.name, w, output)]
