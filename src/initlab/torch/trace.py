"""A model's weight-bearing layers in execution order, each with the activation applied to its output.

`structure(model, example)` runs `example` (a tensor, or a dict of tensors called as ``model(**example)``)
through the model once and reads its layers from forward hooks, with torch.fx as an extra source when it
traces (`initlab.torch.discover`: every Linear, Conv, ConvTranspose, Hugging Face Conv1D,
MultiheadAttention, RNN/LSTM/GRU and Embedding, whatever the forward's control flow).

Without an example, `structure(model)` falls back to one symbolic `torch.fx` trace (no data is run;
source ``"fx"``) and gives its layers (`layers(model)`) and merges (`merges(model)`: residual sums,
concatenations); the rest of this docstring describes that trace, which `discover` also reads. For every
call of a layer it looks at what consumes the layer's output:

- the output has exactly one consumer, and that consumer is an *elementwise activation* applied
  to it -> that is the layer's activation;
- anything else (another layer, a norm, an add, several consumers, the model's output) -> no
  activation (``None``, name ``"identity"``).

``nn.Identity`` and dropout (``nn.Dropout*``, ``F.dropout``; the identity at evaluation) are looked
through. An *elementwise activation* is

1. a known torch one: ``nn.ReLU, LeakyReLU, Tanh, Sigmoid, GELU, SiLU, ELU, SELU, CELU, Softplus,
   Mish, ...`` modules, their ``torch.nn.functional`` functions, ``torch.relu/tanh/sigmoid`` and the
   tensor methods ``x.relu()/x.tanh()/x.sigmoid()``;
2. or, probed: a parameter-free user module (a leaf of the trace, so its own control flow is never
   traced), a wrapped function or a tensor method whose other arguments are constants, that on a
   probe tensor shaped like the layer's output ``(2, out, 5, ...)`` keeps the shape, commutes with
   reversing the entries (one scalar function everywhere) and, when one input entry changes,
   changes no other output entry (no mixing). ``x * torch.sigmoid(1.702 * x)`` as an
   ``nn.Module`` passes; softmax, layer norm and pooling do not. Written inline in ``forward``
   (not as a module) it is traced as several ops and is not recognised.

If `torch.fx` cannot trace the model and no example is given, an ``nn.Sequential`` (nested ones
flattened) is read in module order instead (source ``"sequential"``), with the module after each
layer as its candidate activation; any other model needs an example. A module called twice is listed
once, at its first call; layers the forward never calls are not listed.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
>>> [(t.name, t.activation_name) for t in layers(net)]
[('0', 'relu'), ('2', 'identity')]
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import fx, nn
from initlab._errors import ArgumentError, ArgumentTypeError

from initlab import activations as table
from initlab.torch.discover import WEIGHT_KINDS, Call, Structure, discover
from initlab.torch.kinds import kind_of

LAYER_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _torch_names() -> tuple[dict, tuple, dict, dict]:
    """The ``torch`` column of `initlab.activations`, resolved: (module class -> initlab's name, for rows
    with a NumPy phi), every module class, function -> name, tensor method name -> name."""
    canonical, modules, functions, methods = {}, [], {}, {}
    places = {"nn": nn, "F": F, "torch": torch}
    for row in table.ACTIVATIONS:
        for spelling in row.torch:
            place, attribute = spelling.split(".", 1)
            if place == "Tensor":
                methods[attribute] = row.name
                continue
            found = getattr(places[place], attribute)
            if place != "nn":
                functions[found] = row.name
                continue
            modules.append(found)
            if row.forward is not None:
                canonical[found] = row.name
    return canonical, tuple(modules), functions, methods


CANONICAL, KNOWN_MODULES, KNOWN_FUNCTIONS, KNOWN_METHODS = _torch_names()
TRANSPARENT = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


@dataclass(frozen=True)
class TracedLayer:
    """One layer's first call and the elementwise activation applied to its output (None if none); its
    `initlab.torch.kinds` kind, and the shapes of its (first) input and output tensors when a forward
    pass was seen (None after a symbolic trace alone)."""

    name: str
    module: nn.Module
    activation: Callable[[torch.Tensor], torch.Tensor] | None
    activation_name: str
    kind: str = "linear"
    input_shape: tuple[int, ...] | None = None
    output_shape: tuple[int, ...] | None = None
    input_mean_square: float | None = None  # of a floating input on the example batch


class _Bound:
    """``fn(x, *args, **kwargs)`` (or ``x.fn(...)`` for a method name) as a one-tensor callable."""

    def __init__(self, fn, args=(), kwargs=None):
        self.fn, self.args, self.kwargs = fn, tuple(args), dict(kwargs or {})

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.fn, str):
            return getattr(x, self.fn)(*self.args, **self.kwargs)
        return self.fn(x, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        return f"{getattr(self.fn, '__name__', self.fn)}(x, {self.args}, {self.kwargs})"


def is_layer(module: nn.Module) -> bool:
    """A weight-bearing module: kind linear, conv, conv_transpose, hf_conv1d, attention, rnn or embedding."""
    return kind_of(module) in WEIGHT_KINDS


def probe_shape(module: nn.Module) -> tuple[int, ...]:
    """A small tensor shape shaped like `module`'s output: (2, features) or (2, channels, 5, ...)."""
    kind = kind_of(module)
    if kind in ("conv", "conv_transpose"):
        return (2, module.out_channels, *([5] * (module.weight.dim() - 2)))
    features = {"linear": lambda m: m.out_features, "hf_conv1d": lambda m: m.nf,
                "attention": lambda m: m.embed_dim, "embedding": lambda m: m.embedding_dim,
                "rnn": lambda m: (m.proj_size or m.hidden_size) * (2 if m.bidirectional else 1)}
    return (2, int(features[kind](module)))


def acts_elementwise(fn: Callable, shape: tuple[int, ...]) -> bool:
    """True when `fn` keeps `shape`, commutes with reversing the entries and never mixes entries."""
    x = torch.linspace(-3.0, 3.0, max(1, int(torch.tensor(shape).prod()))).reshape(shape)
    try:
        with torch.no_grad():
            y = fn(x.clone())
            if not isinstance(y, torch.Tensor) or y.shape != x.shape or not y.is_floating_point():
                return False
            flipped = fn(x.flatten().flip(0).reshape(shape).clone()).flatten().flip(0).reshape(shape)
            nudged = x.clone()
            k = nudged.numel() // 2
            nudged.view(-1)[k] += 1.0
            changed = (fn(nudged) - y).flatten().abs() > 0
    except Exception:  # anything that cannot run on the probe is not an activation
        return False
    changed[k] = False
    return bool(torch.allclose(flipped, y, rtol=1e-5, atol=1e-6, equal_nan=True)) and not bool(changed.any())


def _user_module(module: nn.Module) -> bool:
    return (not module.__module__.startswith(("torch.nn", "torch.ao.nn"))
            and next(module.parameters(), None) is None and not isinstance(module, (nn.Sequential, nn.ModuleList)))


def module_activation(module: nn.Module, shape) -> tuple[Callable, str] | None:
    if isinstance(module, KNOWN_MODULES):
        return module, CANONICAL.get(type(module), type(module).__name__)
    if _user_module(module) and acts_elementwise(module, shape):
        return module, type(module).__name__
    return None


class _Tracer(fx.Tracer):
    """torch.nn modules, Linear/Conv subclasses and parameter-free user modules stay leaves."""

    def is_leaf_module(self, m: nn.Module, qualified_name: str) -> bool:
        return super().is_leaf_module(m, qualified_name) or is_layer(m) or _user_module(m)


def _node_activation(model: nn.Module, node: fx.Node, source: fx.Node, shape) -> tuple[Callable, str] | None:
    if node.op == "call_module":
        return module_activation(model.get_submodule(node.target), shape)
    if node.op not in ("call_function", "call_method") or not node.args or node.args[0] is not source:
        return None
    rest, kwargs = node.args[1:], dict(node.kwargs)
    if any(isinstance(a, fx.Node) for a in (*rest, *kwargs.values())):
        return None
    kwargs.pop("inplace", None)
    bound = _Bound(node.target, rest, kwargs)
    known = KNOWN_FUNCTIONS if node.op == "call_function" else KNOWN_METHODS
    if node.target in known:
        return bound, known[node.target]
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", repr(node.target))
    return (bound, name.rstrip("_")) if acts_elementwise(bound, shape) else None


def _transparent(model: nn.Module, node: fx.Node) -> bool:
    if node.op == "call_module":
        return isinstance(model.get_submodule(node.target), TRANSPARENT)
    return node.op == "call_function" and node.target is F.dropout


def _traced(model: nn.Module, graph: fx.Graph) -> list[TracedLayer]:
    found: dict[str, TracedLayer] = {}
    for node in graph.nodes:
        if node.op != "call_module" or node.target in found or not is_layer(model.get_submodule(node.target)):
            continue
        module = model.get_submodule(node.target)
        source, act = node, None
        while len(source.users) == 1:
            (user,) = source.users
            if _transparent(model, user):
                source = user
                continue
            act = _node_activation(model, user, source, probe_shape(module))
            break
        found[node.target] = TracedLayer(node.target, module, *(act or (None, "identity")), kind_of(module))
    return list(found.values())


def _flatten(module: nn.Sequential, prefix: str, reason: str) -> list[tuple[str, nn.Module]]:
    out = []
    for name, child in module.named_children():
        qualified = f"{prefix}{name}"
        if isinstance(child, nn.Sequential):
            out += _flatten(child, qualified + ".", reason)
        elif not is_layer(child) and any(is_layer(m) for m in child.modules()):
            raise _cannot_trace(reason + f"; and module '{qualified}' holds layers but is not an nn.Sequential")
        else:
            out.append((qualified, child))
    return out


def _sequential(model: nn.Sequential, reason: str) -> list[TracedLayer]:
    items = [(n, m) for n, m in _flatten(model, "", reason) if not isinstance(m, TRANSPARENT)]
    out = []
    for i, (name, module) in enumerate(items):
        if is_layer(module):
            act = module_activation(items[i + 1][1], probe_shape(module)) if i + 1 < len(items) else None
            out.append(TracedLayer(name, module, *(act or (None, "identity")), kind_of(module)))
    return out


def _cannot_trace(reason: str) -> ValueError:
    return ArgumentError("model", f"cannot trace the model without an example batch ({reason}); give an example "
                         "batch (discovery from forward hooks), or use nn.Sequential or a torch.fx-traceable model")


def no_layers(model: nn.Module) -> ArgumentError:
    return ArgumentError("model", f"found no weight-bearing layer in {type(model).__name__} (nn.Linear, "
                         "nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d, Hugging Face Conv1D, nn.MultiheadAttention, "
                         "nn.RNN/LSTM/GRU, nn.Embedding)")


def fx_structure(model: nn.Module):
    """The layers and merges of one torch.fx trace (an `initlab.torch.discover.Structure`, source "fx",
    calls from the graph's module calls), or None when fx cannot trace the model."""
    try:
        graph = _Tracer().trace(model)
        found = _traced(model, graph)
    except Exception:  # noqa: BLE001 - fx raises many kinds (TraceError, TypeError, RuntimeError, ...)
        return None
    return Structure(found, _merges(graph), "fx", _graph_calls(model, graph))


def _graph_calls(model: nn.Module, graph: fx.Graph) -> list:
    calls = {}
    for node in graph.nodes:
        if node.op == "call_module" and node.target not in calls:
            module = model.get_submodule(node.target)
            calls[node.target] = Call(node.target, type(module).__name__, kind_of(module))
    return list(calls.values())


def structure(model: nn.Module, example=None):
    """The layers of `model`, its merges, the source they came from and the modules called (an
    `initlab.torch.discover.Structure`).

    With `example` (one input batch: a tensor or a dict of tensors) the layers come from forward hooks
    on one pass over it (`initlab.torch.discover.discover`); a model that rejects it is a ``ValueError``
    naming ``example``. Without one, from one torch.fx trace (module doc).

    >>> s = structure(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)))
    >>> [t.activation_name for t in s.layers], s.merges, s.source
    (['relu', 'identity'], 0, 'fx')
    >>> structure(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), torch.zeros(2, 4)).source
    'hooks+fx'
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    if example is not None:
        return discover(model, example)
    try:
        graph = _Tracer().trace(model)
        found, count, source = _traced(model, graph), _merges(graph), "fx"
        calls = _graph_calls(model, graph)
    except Exception as error:  # fx raises many kinds (TraceError, TypeError, RuntimeError, ...)
        reason = f"torch.fx: {type(error).__name__}: {first_line(error)}"
        if not isinstance(model, nn.Sequential):
            raise _cannot_trace(reason) from None
        found, count, source, calls = _sequential(model, reason), None, "sequential", []
    if not found:
        raise no_layers(model)
    return Structure(found, count, source, calls)


def layers(model: nn.Module, example=None) -> list[TracedLayer]:
    """The layers of `model` in execution order, each with its activation (see the module doc);
    `example` as in `structure`."""
    return structure(model, example).layers


MERGES = {operator.add, operator.iadd, operator.sub, torch.add, torch.sub, torch.cat, torch.concat, torch.stack,
          "add", "add_", "sub", "sub_"}


def merges(model: nn.Module) -> int:
    """How many times the forward adds, subtracts or concatenates two computed tensors (residual
    connections, parallel branches): places where a model stops being the chain of layers and
    elementwise activations that the variance maps describe. 0 when torch.fx cannot trace the model.
    `structure` gives this and the layers from one trace.

    >>> class Block(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)
    ...     def forward(self, x):
    ...         return x + self.b(self.a(x).relu())
    >>> merges(Block()), merges(nn.Sequential(nn.Linear(4, 4), nn.ReLU()))
    (1, 0)
    """
    try:
        graph = _Tracer().trace(model)
    except Exception:  # noqa: BLE001 - untraceable models are read in module order: no merges to see
        return 0
    return _merges(graph)


def _merges(graph: fx.Graph) -> int:
    count = 0
    for node in graph.nodes:
        if node.op in ("call_function", "call_method") and node.target in MERGES:
            tensors = [a for a in node.args if isinstance(a, fx.Node) and a.op != "get_attr"]
            tensors += [a for arg in node.args if isinstance(arg, (list, tuple)) for a in arg
                        if isinstance(a, fx.Node) and a.op != "get_attr"]
            count += len(tensors) >= 2
    return count


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (its type name when the message is empty)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def rejected(argument: str, what: str, shape, error: BaseException) -> ArgumentError:
    """``ArgumentError("<argument>: the model rejected <what> of shape [...]: <first line of error>")``."""
    return ArgumentError(argument, f"the model rejected {what} of shape {list(shape)}: {first_line(error)}")


def run(model: nn.Module, batch, argument: str, what: str = "a batch") -> torch.Tensor:
    """``model(batch)`` under ``torch.no_grad()``; a model that raises becomes `rejected` (argument, what,
    the batch's shape and torch's first line), e.g. ``batch: the model rejected a batch of shape [4, 7]: ...``."""
    if not isinstance(batch, torch.Tensor):
        raise ArgumentTypeError(argument, f"expected a torch.Tensor, got {type(batch).__name__}")
    try:
        with torch.no_grad():
            return model(batch)
    except Exception as error:
        raise rejected(argument, what, batch.shape, error) from None
