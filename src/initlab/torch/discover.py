"""Find a model's weight-bearing layers from forward hooks on one real forward pass (torch.fx only helps).

`discover(model, example)` runs `example` through `model` once (``torch.no_grad()``, torch's CPU RNG
forked and seeded 0, the fast path of ``nn.MultiheadAttention``/``nn.TransformerEncoderLayer``
switched off so that their inner modules run; afterwards every hook is removed, every buffer and the
fast-path flag restored, so the model is left as it was). Hooks on every module record:

- every module called, once, in the order of its first call (`Structure.calls`: name, class name,
  `initlab.torch.kinds.kind_of` or None), so a caller can tell normalization layers are there;
- the *layers*: the modules of kind linear, conv, conv_transpose, hf_conv1d, attention, rnn and
  embedding, in first-call order, each with its input and output shape (the first tensor a module
  takes, and the first tensor it returns: an ``nn.MultiheadAttention``'s attention output, an RNN's
  output sequence) and the mean square of a floating input (`initlab.torch.auto` starts a token
  model's theory from the one after the embeddings). ``nn.MultiheadAttention`` is one layer: its
  ``out_proj`` is never called as a module, and lsuv and diagnose compute its q, k, v and output
  projections from the layer's inputs.
- each layer's *activation*: the first module called after the layer whose input is that very output
  tensor (``nn.Dropout*`` and ``nn.Identity`` looked through), when it is a known torch activation
  or a parameter-free elementwise user module (`initlab.torch.trace.module_activation`); anything
  else (a norm, another layer, nothing) -> ``None``, named ``"identity"``.

Hooks cannot see functions (``torch.relu(x)``, ``x + f(x)``). One is known without them: torch's own
``nn.TransformerEncoderLayer``/``nn.TransformerDecoderLayer`` apply their ``activation`` attribute
(``F.relu`` by default, a function) to ``linear1``'s output, so that is ``linear1``'s activation.
When ``torch.fx`` traces the model too, its graph is the extra source (`Structure.source` ``"hooks+fx"``): for every layer fx sees, fx's
activation wins (it sees functional activations and a second consumer of an output), and
`Structure.merges` counts the graph's residual additions and concatenations. When fx fails the
source is ``"hooks"`` and `merges` is None (not counted). Control flow in ``forward``, RNNs and
Hugging Face models are discovered either way, as they ran on `example`.

>>> import torch
>>> class Net(torch.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.embed, self.fc = torch.nn.Embedding(10, 4), torch.nn.Linear(4, 3)
...         self.rnn = torch.nn.GRU(4, 4, batch_first=True)
...     def forward(self, ids):
...         h, _ = self.rnn(self.embed(ids))
...         return self.fc(torch.relu(h[:, -1]) if ids.sum() > 0 else h[:, 0])  # fx cannot trace this
>>> s = discover(Net(), torch.tensor([[1, 2, 3]]))
>>> s.source, s.merges, [(t.name, t.kind, t.output_shape) for t in s.layers]
('hooks', None, [('embed', 'embedding', (1, 3, 4)), ('rnn', 'rnn', (1, 3, 4)), ('fc', 'linear', (1, 3))])
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.torch.inputs import call, check_batch, shape_text
from initlab.torch.kinds import kind_of
from initlab.torch.kept import kept

WEIGHT_KINDS = ("linear", "conv", "conv_transpose", "hf_conv1d", "attention", "rnn", "embedding")
SEED = 0
# initlab.torch.trace imports this module at its top; the names this module takes from trace are
# imported inside the functions that use them, so either module can be imported first.


class Call(NamedTuple):
    """One module called by the forward pass (its first call): name, class name, kind (None: no rule)."""

    name: str
    module_type: str
    kind: str | None


@dataclass(frozen=True)
class Structure:
    """What one discovery of a model shows: its `layers` (`initlab.torch.trace.TracedLayer`, in first-call
    order), `merges` (residual additions and concatenations torch.fx counted; None when fx did not trace),
    `source` (``"hooks"``, ``"hooks+fx"``; without an example batch ``"fx"`` or ``"sequential"``, see
    `initlab.torch.trace.structure`) and `calls` (every module called, `Call`)."""

    layers: list
    merges: int | None
    source: str = "hooks"
    calls: list[Call] = field(default_factory=list)


def weight_bearing(module: nn.Module) -> bool:
    return kind_of(module) in WEIGHT_KINDS


def first_tensor_of(value) -> torch.Tensor | None:
    """A module's (first) tensor: itself, or the first tensor of a tuple/list (MHA, RNN) or dict."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        for item in value:
            if isinstance(item, torch.Tensor):
                return item
            if isinstance(item, (tuple, list)) and hasattr(item, "data"):  # a PackedSequence
                return item.data
    return None


def _input_tensor(args, kwargs) -> torch.Tensor | None:
    found = first_tensor_of(tuple(args))
    if found is None and kwargs:
        found = first_tensor_of(list(kwargs.values()))
    return found


class _Recorder:
    """The hooks of the module doc."""

    def __init__(self, model: nn.Module):
        from initlab.torch.trace import TRANSPARENT, module_activation, probe_shape
        self.transparent, self.module_activation, self.probe_shape = TRANSPARENT, module_activation, probe_shape
        self.calls: dict[str, Call] = {}
        self.layers: dict[str, dict] = {}
        self.pending: list[tuple[str, weakref.ref]] = []  # layers whose output awaits its first consumer
        self.activation: dict[str, tuple] = {}
        self.forwarding: dict[int, str] = {}  # transparent module -> the layer whose output it passes on
        self.handles = []
        for name, module in model.named_modules():
            if name or weight_bearing(module):  # the root only when it is a layer itself (a bare nn.LSTM)
                self.handles.append(module.register_forward_pre_hook(self._before(name), with_kwargs=True))
                self.handles.append(module.register_forward_hook(self._after(name)))

    def _before(self, name: str):
        def hook(module, args, kwargs):
            kind = kind_of(module)
            self.calls.setdefault(name, Call(name, type(module).__name__, kind))
            x = _input_tensor(args, kwargs)
            container = kind is None and next(module.children(), None) is not None \
                and not isinstance(module, self.transparent)  # its first child decides, not the container
            if x is not None and not container:
                self.pending = [(layer, ref) for layer, ref in self.pending if ref() is not None]
                for i, (layer, ref) in enumerate(self.pending):
                    if ref() is x:
                        del self.pending[i]
                        self._consumed(layer, module)
                        break
            if kind in WEIGHT_KINDS and name not in self.layers:
                floating = x is not None and x.is_floating_point() and x.numel() > 0
                with torch.no_grad():  # also when the caller's pass records gradients
                    mean_square = float(x.float().square().mean()) if floating else None
                self.layers[name] = {"module": module, "kind": kind, "input_mean_square": mean_square,
                                     "input_shape": None if x is None else tuple(x.shape)}
        return hook

    def _consumed(self, layer: str, module: nn.Module) -> None:
        if isinstance(module, self.transparent):
            self.forwarding[id(module)] = layer
            return
        found = self.module_activation(module, self.probe_shape(self.layers[layer]["module"]))
        if found is not None:
            self.activation[layer] = found

    def _after(self, name: str):
        def hook(module, args, output):
            out = first_tensor_of(output)
            layer = self.forwarding.pop(id(module), None)
            if layer is not None and out is not None:
                self.pending.append((layer, weakref.ref(out)))
            entry = self.layers.get(name)
            if entry is not None and "output_shape" not in entry:
                entry["output_shape"] = None if out is None else tuple(out.shape)
                if out is not None:
                    self.pending.append((name, weakref.ref(out)))
        return hook

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _torch_transformer_activations(model: nn.Module) -> dict[str, tuple]:
    """{'<layer>.linear1': (function, name)} for torch's transformer layers whose activation is a function."""
    from initlab.torch.trace import KNOWN_FUNCTIONS
    found = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)):
            act = module.activation
            if not isinstance(act, nn.Module) and act in KNOWN_FUNCTIONS:
                found[f"{name}.linear1" if name else "linear1"] = (act, KNOWN_FUNCTIONS[act])
    return found


def rejected_batch(argument: str, batch, error: BaseException, what: str = "a batch") -> ArgumentError:
    """``<argument>: the model rejected <what> of shape [...]: <torch's first line>``."""
    from initlab.torch.trace import first_line
    return ArgumentError(argument, f"the model rejected {what} of shape {shape_text(batch)}: {first_line(error)}")


def forward_once(model: nn.Module, batch, argument: str = "example", what: str = "a batch"):
    """`model` on `batch` under ``no_grad``, torch's RNG forked and seeded `SEED`, MHA's fast path off;
    buffers restored afterwards. A model that raises becomes `rejected_batch`."""
    fast = torch.backends.mha.get_fastpath_enabled()
    try:
        torch.backends.mha.set_fastpath_enabled(False)
        with kept(model, modes=False), torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(SEED)
            try:
                return call(model, batch)
            except Exception as error:  # noqa: BLE001 - whatever the model raises is about the batch or model
                raise rejected_batch(argument, batch, error, what) from None
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)


def discover(model: nn.Module, example, argument: str = "example", what: str = "a batch") -> Structure:
    """The structure of `model` seen on `example` (a tensor or a dict of tensors; see the module doc); a
    model that rejects it is ``<argument>: the model rejected <what> of shape [...]: ...``."""
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    example = check_batch(example, argument)
    hooks = DiscoveryHooks(model)
    try:
        forward_once(model, example, argument, what)
    finally:
        hooks.remove()
    return hooks.structure(model)


class DiscoveryHooks(_Recorder):
    """The hooks of `discover`, for a caller that runs the forward pass itself (diagnose discovers the
    layers during its own forward+backward pass instead of running one more): register with
    ``DiscoveryHooks(model)``, run the pass, ``remove()``, then ``structure(model)``."""

    def structure(self, model: nn.Module) -> Structure:
        """The `Structure` of what the pass showed, torch.fx's trace added when it traces."""
        from initlab.torch.trace import TracedLayer, fx_structure, no_layers
        fx = fx_structure(model)
        fx_layers = {} if fx is None else {t.name: t for t in fx.layers}
        found = []
        functional = _torch_transformer_activations(model)
        for name, entry in self.layers.items():
            if "output_shape" not in entry:  # called but raised inside: cannot happen after a clean pass
                continue
            act, act_name = self.activation.get(name, functional.get(name, (None, "identity")))
            if name in fx_layers:
                act, act_name = fx_layers[name].activation, fx_layers[name].activation_name
            found.append(TracedLayer(name, entry["module"], act, act_name, entry["kind"], entry["input_shape"],
                                     entry["output_shape"], entry["input_mean_square"]))
        if not found:
            raise no_layers(model)
        return Structure(found, None if fx is None else fx.merges, "hooks" if fx is None else "hooks+fx",
                         list(self.calls.values()))
