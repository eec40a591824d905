"""Captures of a PyTorch model: one forward and one backward pass through hooks, model left as it was.

The layers are `initlab.torch.layers(model)` (every Linear/Conv call, with the activation applied to
its output). A forward hook on each records its output z (first call only) and puts a tensor hook on
it that records dL/dz; the activation of a layer is the traced one applied to a copy of z. Tensor
hooks, not ``register_full_backward_hook``: full backward hooks refuse a following in-place
activation (``nn.ReLU(inplace=True)``) and warn on a first layer whose input needs no gradient;
a tensor hook registered before an in-place change still receives dL/dz of the original values.

Loss, averaged over the n samples of the batch:

- integer `target` and an output (n, C > 1): cross-entropy (labels 0..C-1); an output of one unit
  per sample: binary cross-entropy with logits (labels 0 and 1); a float `target` shaped like the
  output: MSE. Labels are checked against the output before the loss (one ValueError naming
  `target`), the shape of `target` against the batch before the forward pass;
- no `target`: L = sum(out * r) / n with r ~ N(0, 1) drawn from ``torch.Generator().manual_seed(0)``,
  a fixed random output gradient (dL/dout = r / n), so only the network shapes the backward pass.

The pass runs in training mode (batch-norm uses the batch's statistics, dropout drops, as in the
first training step) with torch's CPU RNG forked and ``torch.default_generator`` seeded 0 (same
result each call; the caller's CPU and CUDA RNG untouched). Afterwards every hook is removed and the
modules' training flags, the parameters' ``requires_grad`` and ``.grad`` and every buffer
(batch-norm running statistics) are restored. A batch the model rejects is a ValueError starting
``batch: the model rejected a batch of shape [...]``; a failing backward pass one starting
``model: the backward pass failed``.

Backward fan of a convolution (`conv_outputs_per_input`): each input entry feeds out/groups
channels at every (output position, kernel tap) pair that reads it. Those pairs are counted exactly
per spatial dimension from the stride, dilation, zero padding and the input and output sizes, and
averaged over the input positions: ~prod(kernel) / prod(stride) away from the borders, less at
them. Approximated: padding modes other than zeros (reflect, replicate, circular read border inputs
more often; counted as zeros) and, as everywhere in the backward map, dz taken uncorrelated across
the positions an input feeds.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(inplace=True), torch.nn.Linear(4, 2))
>>> caps = capture_torch(net, torch.randn(5, 3, generator=torch.Generator().manual_seed(0)))
>>> [(c.name, c.kind, c.z.shape, c.activation_name) for c in caps]
[('0', 'dense', (5, 4), 'relu'), ('2', 'dense', (5, 2), 'identity')]
>>> bool((caps[0].a == caps[0].z.clip(0)).all()), any(m._forward_hooks for m in net.modules())
(True, False)
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab.diagnose.capture import Capture
from initlab.torch.activations import theory_activation
from initlab.torch.trace import LAYER_TYPES, TracedLayer, first_line, layers, rejected

SEED = 0


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def _units_second(t: torch.Tensor, layer: TracedLayer) -> torch.Tensor:
    """A Linear's output (n, ..., units) as (n, units, ...): units on axis 1 like a conv's channels."""
    return t.movedim(-1, 1) if isinstance(layer.module, nn.Linear) and t.dim() > 2 else t


def _labels(target: torch.Tensor) -> bool:
    """Integer labels, or floats that are all whole numbers."""
    return not target.dtype.is_floating_point or bool((target == target.round()).all())


def check_target(target, n: int) -> torch.Tensor | None:
    """`target` as a tensor, checked against a batch of `n` samples before the forward pass: one
    label per sample, or floats (for MSE; their shape is checked against the output later)."""
    if target is None:
        return None
    target = torch.as_tensor(target)
    if target.dtype == torch.bool or target.dtype.is_complex:
        raise ArgumentError("target", f"expected integer class labels or real numbers, got {target.dtype}")
    if not target.dtype.is_floating_point and target.shape != (n,):
        raise ArgumentError("target", f"expected {n} integer class labels (one per sample), got shape {list(target.shape)}")
    if target.dim() == 0 or target.shape[0] != n:
        raise ArgumentError("target", f"expected one row per sample ({n}), got shape {list(target.shape)}")
    return target


def check_labels(out: torch.Tensor, target: torch.Tensor) -> None:
    """Class labels against the output: 0..C-1 for (n, C > 1) logits, 0/1 for one logit per sample."""
    n = out.shape[0]
    if target.shape != (n,) or not _labels(target):
        raise ArgumentError("target", f"expected {n} integer class labels (one per sample) or floats shaped like the "
                         f"output {list(out.shape)}, got shape {list(target.shape)}")
    if not target.numel():
        return
    low, high = int(target.min()), int(target.max())
    if out.dim() == 2 and out.shape[1] > 1:
        classes = out.shape[1]
        if low < 0 or high >= classes:
            got = f"labels from {low} to {high}" if low < 0 else f"labels up to {high}"
            raise ArgumentError("target", f"expected class labels 0..{classes - 1} for a model with {classes} outputs, "
                             f"got {got}")
    elif out.numel() == n:
        if low < 0 or high > 1:
            raise ArgumentError("target", "expected labels 0 and 1 for a model with 1 output (binary cross-entropy), "
                             f"got labels from {low} to {high}")
    else:
        raise ArgumentError("target", f"class labels need an output (n, classes) or (n, 1), got {list(out.shape)}")


def loss_of(out: torch.Tensor, target) -> torch.Tensor:
    """The mean loss of the module docstring."""
    n = out.shape[0]
    if target is None:
        r = torch.randn(out.shape, generator=torch.Generator().manual_seed(SEED), dtype=out.dtype)
        return (out * r.to(out.device)).sum() / n
    target = check_target(target, n).to(out.device)
    if target.dtype.is_floating_point and target.shape == out.shape:
        return F.mse_loss(out, target.to(out.dtype))
    check_labels(out, target)
    if out.dim() == 2 and out.shape[1] > 1:
        return F.cross_entropy(out, target.long())
    return F.binary_cross_entropy_with_logits(out.reshape(n), target.to(out.dtype))


def conv_outputs_per_input(module: nn.Module, in_size: tuple[int, ...], out_size: tuple[int, ...]) -> float:
    """Mean number of output entries each input entry of convolution `module` feeds (module doc):
    out_channels / groups times the mean over input positions of the (output position, kernel tap)
    pairs that read it.

    >>> conv = nn.Conv2d(4, 6, 3, stride=2, padding=1)
    >>> conv_outputs_per_input(conv, (32, 32), (16, 16))  # 6 * (47 / 32)^2; interior 6 * (3 / 2)^2 = 13.5
    12.943359375
    >>> conv_outputs_per_input(nn.Conv1d(4, 6, 3, padding=1), (8,), (8,))  # 6 * 22 / 8: borders read 2 taps
    16.5
    """
    kernel, stride, dilation = module.kernel_size, module.stride, module.dilation
    if isinstance(module.padding, str):  # 'valid' or 'same' (stride 1): torch's own split of the total
        pads = [0] * len(kernel) if module.padding == "valid" else \
            [d * (k - 1) // 2 for k, d in zip(kernel, dilation)]
    else:
        pads = list(module.padding)
    taps = 1.0
    for n_in, n_out, k, s, d, p in zip(in_size, out_size, kernel, stride, dilation, pads):
        read = np.arange(n_out)[:, None] * s - p + np.arange(k)[None, :] * d
        taps *= float(np.count_nonzero((read >= 0) & (read < n_in))) / n_in
    return module.out_channels / module.groups * taps


class _Recorder:
    """Forward hooks that keep each layer's first output (and input shape) and, through a tensor hook,
    its gradient."""

    def __init__(self, traced: list[TracedLayer]):
        self.z: dict[str, torch.Tensor] = {}
        self.dz: dict[str, torch.Tensor] = {}
        self.input_shape: dict[str, tuple[int, ...]] = {}
        self.handles = [t.module.register_forward_hook(self._hook(t.name)) for t in traced]

    def _hook(self, name: str):
        def record(module, inputs, output):
            if name in self.z or not isinstance(output, torch.Tensor):
                return
            self.z[name] = output.detach().clone()
            if inputs and isinstance(inputs[0], torch.Tensor):
                self.input_shape[name] = tuple(inputs[0].shape)
            if output.requires_grad:
                output.register_hook(lambda grad: self.dz.__setitem__(name, grad.detach().clone()))
        return record

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _run(model: nn.Module, batch: torch.Tensor, target, traced: list[TracedLayer]) -> _Recorder:
    target = check_target(target, batch.shape[0] if batch.dim() else 0)
    recorder = _Recorder(traced)
    try:
        with torch.enable_grad(), torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(SEED)  # CPU only: torch.manual_seed would reseed CUDA unrestored
            try:
                out = model(batch)
            except Exception as error:  # noqa: BLE001 - whatever the model raises is the user's batch or model
                raise rejected("batch", "a batch", batch.shape, error) from None
            if not isinstance(out, torch.Tensor):
                raise ArgumentError("model", f"expected the forward pass to return one tensor, got {type(out).__name__}")
            loss = loss_of(out, target)
            try:
                loss.backward()
            except Exception as error:  # noqa: BLE001
                raise ArgumentError("model", f"the backward pass failed: {first_line(error)}") from None
    finally:
        recorder.remove()
    return recorder


def capture_torch(model: nn.Module, batch: torch.Tensor, target=None,
                  traced: list[TracedLayer] | None = None) -> list[Capture]:
    """One Capture per traced Linear/Conv layer of `model` on `batch` (see the module docstring);
    `traced` is `layers(model)` when the caller has traced the model already."""
    if not isinstance(batch, torch.Tensor):
        raise ArgumentTypeError("batch", f"expected a torch.Tensor, got {type(batch).__name__}")
    if traced is None:
        traced = layers(model)
    params = list(model.parameters())
    saved = [(p, p.grad, p.requires_grad) for p in params]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    modes = [(m, m.training) for m in model.modules()]
    try:
        for p in params:
            p.grad = None
        for t in traced:
            for p in t.module.parameters(recurse=False):
                p.requires_grad_(True)
        model.train()
        recorder = _run(model, batch, target, traced)
        return [_capture(t, recorder) for t in traced]
    finally:
        for p, grad, requires in saved:
            p.grad = grad
            p.requires_grad_(requires)
        with torch.no_grad():
            for b, copy in buffers:
                b.copy_(copy)
        for m, training in modes:
            m.training = training


def _capture(t: TracedLayer, recorder: _Recorder) -> Capture:
    if t.name not in recorder.z or t.name not in recorder.dz:
        raise ArgumentError("model", f"layer '{t.name}' was traced but its output got no gradient in the pass "
                         "(is it used by the loss?)")
    z = recorder.z[t.name]
    with torch.no_grad():
        a = z if t.activation is None else t.activation(z.clone())
    w = t.module.weight
    bias = getattr(t.module, "bias", None)
    feeds = None
    if not isinstance(t.module, nn.Linear) and t.name in recorder.input_shape:
        dims = len(t.module.kernel_size)  # the last `dims` axes are spatial, batched or not
        feeds = conv_outputs_per_input(t.module, recorder.input_shape[t.name][-dims:], tuple(z.shape[-dims:]))
    return Capture(
        name=t.name, kind="dense" if isinstance(t.module, nn.Linear) else "conv",
        z=_numpy(_units_second(z, t)), a=_numpy(_units_second(a, t)), dz=_numpy(_units_second(recorder.dz[t.name], t)),
        weight=_numpy(w.reshape(w.shape[0], -1)), bias=None if bias is None else _numpy(bias),
        weight_grad=_numpy(w.grad.reshape(w.shape[0], -1)), activation=theory_activation(t),
        fan_in=int(w[0].numel()), fan_out=int(w.shape[0] * math.prod(w.shape[2:])), outputs_per_input=feeds)


def describe_torch(model: nn.Module, captures: list[Capture]) -> str:
    """'Sequential, 31 layers (31 Linear), relu': class, layers by kind, hidden activations."""
    dense = sum(c.kind == "dense" for c in captures)
    parts = [f"{dense} Linear"] * bool(dense) + [f"{len(captures) - dense} Conv"] * bool(len(captures) - dense)
    acts = list(dict.fromkeys(c.activation_name for c in captures[:-1])) or ["identity"]
    return f"{type(model).__name__}, {len(captures)} layers ({', '.join(parts)}), {'/'.join(acts)}"


def untreated_modules(model: nn.Module) -> dict[str, int]:
    """Modules with parameters of their own that are not Linear/Conv (BatchNorm, LayerNorm, LSTM,
    Embedding, ...), counted by class: the theory's chain of layers and elementwise activations does
    not describe them, so the expected values around them are approximate.

    >>> untreated_modules(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1)))
    {'BatchNorm1d': 1}
    """
    counts: dict[str, int] = {}
    for module in model.modules():
        own = any(True for _ in module.parameters(recurse=False))
        if own and not isinstance(module, LAYER_TYPES):
            counts[type(module).__name__] = counts.get(type(module).__name__, 0) + 1
    return counts
