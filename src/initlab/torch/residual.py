"""The residual branches of a model, found from one forward pass by comparing values, not from names.

A residual branch is a run of layers whose output ``o`` is added to the tensor ``x`` the branch
started from: one of the next few tensors of o's shape seen in the forward call of an enclosing module equals
``x + o``, or that call returns ``relu(x + o)`` (the basic block of a ResNet). Forward hooks on every module record the
tensors each module receives and returns (cloned: ``out += identity`` works in place) on one forward
pass of `example`; every layer's output gets a small fixed perturbation while recording, so a zero
output (a layer already zero-initialised) cannot match by accident. That finds the branches of
pre-LN and post-LN transformer blocks on ``nn.MultiheadAttention`` (the attention module: its
``out_proj`` is applied inside it), Hugging Face GPT-2 (``attn.c_proj``, ``mlp.c_proj``) and BERT
(``attention.output.dense``, ``output.dense``: their sum goes into a LayerNorm), and ResNet blocks
(``bn2``, with an identity or a projection shortcut), whatever the modules are called. Why values and
not names: names differ between every code base, and a wrong name match silently rescales the wrong
layer; a value match is either exact or absent. Pass ``targets=`` (layer names) where it finds
nothing, e.g. ConvNeXt, whose branch is multiplied by LayerScale and permuted before the sum.

The layers of a branch (what Fixup scales) are the layers called after the previous residual sum (or
after the tensor ``x`` was produced, if later) up to ``o``. When both summands come from layers (a
projection shortcut), the branch is the summand with more layers; the other is the shortcut.

The probe runs in eval mode (dropout off, BatchNorm on its running statistics) with gradients enabled
(so ``nn.MultiheadAttention`` takes its hookable path), on a forked torch RNG; modes, buffers and
parameters are left as they were.

>>> import torch
>>> from torch import nn
>>> class Block(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 4)
...     def forward(self, x):
...         return x + self.fc2(torch.relu(self.fc1(x)))
>>> net = nn.Sequential(Block(), Block(), nn.Linear(4, 2))
>>> [(b.output, b.layers) for b in residual_branches(net, torch.randn(3, 4))]
[('0.fc2', ('0.fc1', '0.fc2')), ('1.fc2', ('1.fc1', '1.fc2'))]
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.torch.kinds import kind_of
from initlab.torch.kept import kept

WEIGHT_KINDS = ("linear", "conv", "conv_transpose", "hf_conv1d", "attention")
LAYER_KINDS = (*WEIGHT_KINDS, "norm")
HEAD = 16  # values per record kept for the relu(x + o) prefilter
NEAR = 8  # the sum z = x + o is looked for among the first NEAR tensors of o's shape recorded after o


@dataclass(frozen=True)
class Branch:
    """One residual branch: `output` is the layer whose output is added to the stream, `layers` every
    layer of the branch (weight layers and norms, execution order, `output` last), `skip` "identity" or
    the module producing the other summand, `block` the module whose forward adds them, `sum_norm` the
    norm the sum goes into when the stream itself is normalised (post-LN), `activation` "identity" or
    "relu" (applied to the sum)."""

    output: str
    layers: tuple[str, ...]
    skip: str = "identity"
    block: str = ""
    sum_norm: str | None = None
    activation: str = "identity"


@dataclass
class _Record:
    time: int
    tensor: torch.Tensor
    module: str
    role: str  # "input" or "output"
    print_: float = 0.0  # fingerprint: the values' projection on a fixed random vector (linear in the values)
    norm: float = 0.0
    head: np.ndarray | None = None  # the first values, for the relu(x + o) test


@dataclass
class _Call:
    name: str
    kind: str | None
    start: int
    parent: _Call | None
    end: int = -1
    output: _Record | None = None
    inputs: list = field(default_factory=list)


def run(model: nn.Module, example):
    """``model(example)``: a tensor is one argument, a tuple/list the positional arguments, a dict the
    keyword arguments (Hugging Face style)."""
    if isinstance(example, dict):
        return model(**example)
    if isinstance(example, (tuple, list)):
        return model(*example)
    if isinstance(example, torch.Tensor):
        return model(example)
    raise ArgumentTypeError("example", f"expected a tensor, a tuple of tensors or a dict of tensors, "
                                       f"got {type(example).__name__}")


def _first_tensor(value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        return value[0]
    if isinstance(value, dict):
        return next((v for v in value.values() if isinstance(v, torch.Tensor)), None)
    return None


def _with_first(value, tensor):
    if isinstance(value, torch.Tensor):
        return tensor
    if isinstance(value, tuple):
        return (tensor, *value[1:])
    if isinstance(value, list):
        return [tensor, *value[1:]]
    return value


class _Recorder:
    """Forward hooks that record every module call and the floating tensors it takes and returns."""

    def __init__(self, model: nn.Module):
        self.calls: list[_Call] = []
        self.records: list[_Record] = []
        self.stack: list[_Call] = []
        self.time = 0
        self.noise = torch.Generator().manual_seed(20181)
        self.projection: dict[int, torch.Tensor] = {}
        self.handles = []
        self.weighted = {name for name, m in model.named_modules() if any(True for _ in m.parameters())}
        for name, module in model.named_modules():
            self.handles.append(module.register_forward_pre_hook(self._pre(name, kind_of(module)), with_kwargs=True))
            self.handles.append(module.register_forward_hook(self._post(), with_kwargs=True))

    def remove(self):
        for handle in self.handles:
            handle.remove()

    def _record(self, tensor, module: str, role: str) -> _Record | None:
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point() or tensor.numel() == 0:
            return None
        t = tensor.detach().clone()
        flat = t.double().flatten()
        if flat.numel() not in self.projection:
            self.projection[flat.numel()] = torch.randn(flat.numel(), dtype=torch.float64,
                                                        generator=torch.Generator().manual_seed(flat.numel()))
        record = _Record(self.time, t, module, role, float(flat @ self.projection[flat.numel()]),
                         float(flat.norm()), flat[:HEAD].numpy())
        self.records.append(record)
        return record

    def _pre(self, name, kind):
        def hook(module, args, kwargs):
            self.time += 1
            call = _Call(name, kind, self.time, self.stack[-1] if self.stack else None)
            self.calls.append(call)
            self.stack.append(call)
            for value in (*args, *kwargs.values()):
                if (record := self._record(value, name, "input")) is not None:
                    call.inputs.append(record)
        return hook

    def _post(self):
        def hook(module, args, kwargs, output):
            call = self.stack.pop()
            self.time += 1
            tensor = _first_tensor(output)
            if call.kind in LAYER_KINDS and isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
                # A fixed perturbation makes every layer output generic (nonzero, unlike any other tensor).
                scale = 0.25 * float(tensor.detach().pow(2).mean().sqrt()) + 0.05
                tensor = tensor + scale * torch.randn(tensor.shape, generator=self.noise).to(tensor.dtype)
                output = _with_first(output, tensor)
            call.output = self._record(tensor, call.name, "output")
            call.end = self.time
            return output
        return hook


def _alike(a: _Record, b: _Record) -> bool:
    """Equal values: the fingerprints (projections on one fixed random vector) agree, then allclose."""
    return a.tensor.shape == b.tensor.shape and abs(a.print_ - b.print_) <= 1e-5 * (a.norm + b.norm) + 1e-12 \
        and _same(a.tensor, b.tensor)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    scale = float(a.abs().max()) if a.numel() else 0.0
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-5, atol=1e-6 * scale + 1e-12)


class _Finder:
    """Looks for z = x + o (or relu(x + o)) among the records of each enclosing call, on fingerprints first
    (one vectorised comparison for every (z, x) pair), then confirmed on the tensors."""

    def __init__(self, recorder: _Recorder):
        self.records = sorted(recorder.records, key=lambda r: r.time)
        self.times = [r.time for r in self.records]
        self.cache: dict = {}

    def span(self, call: _Call) -> list[_Record]:
        lo, hi = bisect.bisect_left(self.times, call.start), bisect.bisect_right(self.times, call.end)
        return self.records[lo:hi]

    def arrays(self, call: _Call, shape):
        """The records of `call`'s span with `shape`, and their times, fingerprints, norms and first values."""
        key = (id(call), tuple(shape))
        if key not in self.cache:
            span = [r for r in self.span(call) if r.tensor.shape == shape]
            self.cache[key] = (span, np.array([r.time for r in span]), np.array([r.print_ for r in span]),
                               np.array([r.norm for r in span]), np.array([r.head for r in span]))
        return self.cache[key]

    def match(self, call: _Call):
        """(x record, z record, activation, enclosing call) of the residual sum `call`'s output enters, or None."""
        o = call.output
        ancestor = call.parent
        while ancestor is not None:
            span, times, prints, norms, heads = self.arrays(ancestor, o.tensor.shape)
            # Records holding o's own value (o passed through dropout, a container's output) are no summand.
            usable = np.abs(prints - o.print_) > 1e-5 * (norms + o.norm) + 1e-12
            zs, xs = np.nonzero(usable & (times > o.time))[0][:NEAR], np.nonzero(usable)[0]
            if zs.size and xs.size:
                close = np.abs(prints[None, xs] - (prints[zs, None] - o.print_)) <= \
                    1e-4 * (norms[zs, None] + norms[None, xs] + o.norm) + 1e-9
                close &= (times[None, xs] <= times[zs, None]) & (xs[None, :] != zs[:, None])
                for zi, xi in zip(*np.nonzero(close)):  # earliest z first
                    z, x = span[zs[zi]], span[xs[xi]]
                    if _same(z.tensor, x.tensor + o.tensor):
                        return x, z, "identity", ancestor
            out = ancestor.output
            if out is not None and out.tensor.shape == o.tensor.shape and xs.size:
                before = xs[times[xs] < out.time]
                summed = np.maximum(heads[before] + o.head, 0.0)
                near = np.all(np.abs(summed - out.head) <= 1e-4 * (np.abs(summed) + 1e-3), axis=1)
                for xi in before[near]:
                    if _same(out.tensor, torch.relu(span[xi].tensor + o.tensor)):
                        return span[xi], out, "relu", ancestor
            ancestor = ancestor.parent
        return None


def _branches(recorder: _Recorder) -> list[Branch]:
    finder = _Finder(recorder)
    layers = [c for c in recorder.calls if c.kind in LAYER_KINDS and c.output is not None]
    found = sorted(((call, *hit) for call in layers if (hit := finder.match(call)) is not None),
                   key=lambda f: f[0].output.time)  # (layer call, x, z, activation, enclosing call)

    def members(i) -> tuple[int, tuple[str, ...]]:
        """(start time, layer names) of found[i]'s branch: from the previous sum, or x if produced later."""
        call, x = found[i][:2]
        previous = max((f[2].time for f in found[:i] if f[2].time <= call.output.time), default=0)
        after = [r.time for r in finder.records if previous <= r.time < call.output.time and _alike(r, x)]
        start = min(after) if after else previous
        return start, tuple(dict.fromkeys(c.name for c in layers if start <= c.start and c.end <= call.end))

    chosen = {}  # z time -> (branch size, x came first, index): one branch per sum, the longer summand
    for i, (call, x, z, _, _) in enumerate(found):
        candidate = (len(members(i)[1]), x.time < call.output.time, i)
        chosen[z.time] = max(chosen.get(z.time, candidate), candidate)
    kept = sorted(c[2] for c in chosen.values())
    norm_inputs = {id(r): c.name for c in recorder.calls if c.kind == "norm" for r in c.inputs}
    branches = []
    for n, i in enumerate(kept):
        call, x, z, activation, block = found[i]
        start, names = members(i)
        # Post-LN: the sum goes into a norm and the next branch does not start from the sum itself.
        following = found[kept[n + 1]][1] if n + 1 < len(kept) else None
        normalised = id(z) in norm_inputs and not (following is not None and _alike(following, z))
        producer = next((c for c in recorder.calls if c.output is x), None)
        projection = producer is not None and producer.start >= start and producer.name in recorder.weighted
        branches.append(Branch(call.name, names, producer.name if projection else "identity", block.name,
                               norm_inputs[id(z)] if normalised else None, activation))
    return branches


@dataclass(frozen=True)
class Probe:
    """What one forward pass showed: the residual `branches` and every layer's name in `order` of first call."""

    branches: list[Branch]
    order: list[str]


def residual_branches(model: nn.Module, example=None, *, targets=None) -> list[Branch]:
    """The residual branches of `model` in execution order (see the module doc).

    `targets` (layer names) overrides the search: with `example` the branches found are kept only for
    those outputs (every target must be found); without it each target is a one-layer branch.
    """
    return probe(model, example, targets=targets).branches


def probe(model: nn.Module, example=None, *, targets=None) -> Probe:
    """`residual_branches` and the layers' execution order (empty without `example`)."""
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    if targets is not None:
        if isinstance(targets, str) or not all(isinstance(t, str) for t in targets):
            raise ArgumentTypeError("targets", f"expected a list of module names, got {targets!r}")
        unknown = [t for t in targets if t not in modules or kind_of(modules[t]) not in LAYER_KINDS]
        if unknown:
            raise ArgumentError("targets", f"not a Linear/Conv/Conv1D/attention/norm module of the model: "
                                           f"{', '.join(map(repr, unknown))}")
        if example is None:
            return Probe([Branch(t, (t,)) for t in targets], [])
    elif example is None:
        raise ArgumentError("example", "needed: the residual branches are found on one forward pass of an "
                                       "example batch (or give targets=[names of the branch output layers])")
    recorder = _Recorder(model)
    try:
        with kept(model, buffers=False):
            model.eval()
            with torch.random.fork_rng(devices=[]), torch.enable_grad():
                run(model, example)
    except (ArgumentError, ArgumentTypeError):
        raise
    except Exception as error:  # the user's forward: say which argument made it fail
        raise ArgumentError("example", f"the model's forward failed on it: {type(error).__name__}: {error}") from None
    finally:
        recorder.remove()
    branches = _branches(recorder)
    if targets is not None:
        by_output = {b.output: b for b in branches}
        missing = [t for t in targets if t not in by_output]
        if missing:
            raise ArgumentError("targets", f"no residual sum found for {', '.join(map(repr, missing))} on the example")
        branches = [by_output[t] for t in targets]
    order = list(dict.fromkeys(c.name for c in recorder.calls if c.kind in LAYER_KINDS))
    return Probe(branches, order)
