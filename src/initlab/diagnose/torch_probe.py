"""Captures of a PyTorch model: one forward and one backward pass through hooks, model left as it was.

The layers are those `initlab.torch.discover` finds (every weight-bearing layer the forward calls, with
the activation applied to its output), discovered by its hooks during the very forward pass that is
captured (`capture_and_discover`; no extra pass), or given by the caller. The batch is a tensor
or a dict of tensors (``model(**batch)``); the output the loss reads is chosen by `output`
(`initlab.torch.inputs.select_output`: ``logits``, else ``last_hidden_state``, else the first floating
tensor). A forward hook on each layer records its output z (first call only; an attention layer's
attention output, an RNN's output sequence) and puts a tensor hook on it that records dL/dz (an RNN
whose output sequence gets no gradient, as when the head reads the final hidden state ``h_n[-1]``, is
captured from its last layer's h_n instead: z (n, directions * units) and its dL/dz); the
activation of a layer is the discovered one applied to a copy of z. Layers the loss does not reach
(BERT's pooler when the target is ``last_hidden_state``) get no Capture (`unreached` names them). Tensor
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

Memory: z, a and dz are stored as float32 copies in the capture layout (units on axis 1), made in
the hooks, and ``a`` is the very array ``z`` for a layer without activation; weights, biases and
weight gradients are read-only float32 NumPy views of the parameters and of the gradients the pass
made (no copies, except for the layouts that need one: RNN gate rows, ConvTranspose). A capture
thus holds about as much as the pass's own saved activations.

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


import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from initlab._errors import ArgumentError
from initlab.diagnose.capture import Capture
from initlab.torch.activations import theory_activation
from initlab.torch.discover import WEIGHT_KINDS, DiscoveryHooks, first_tensor_of, rejected_batch
from initlab.torch.inputs import batch_size, call, check_batch, select_output
from initlab.torch.kinds import kind_of, weight_fans
from initlab.torch.trace import TracedLayer, first_line
from initlab.torch.kept import kept

SEED = 0
CAPTURE_KIND = {"linear": "dense", "hf_conv1d": "dense", "conv": "conv", "conv_transpose": "conv",
                "attention": "attention", "rnn": "rnn", "embedding": "embedding"}


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


def _units_second(t: torch.Tensor, layer: TracedLayer) -> torch.Tensor:
    """A layer's output with the batch on axis 0 and the units on axis 1 (module doc)."""
    module = layer.module
    if layer.kind in ("conv", "conv_transpose") or t.dim() < 2:
        return t
    if layer.kind in ("attention", "rnn") and not getattr(module, "batch_first", False) and t.dim() == 3:
        t = t.transpose(0, 1)  # (length, n, units) -> (n, length, units)
    return t.movedim(-1, 1) if t.dim() > 2 else t


def storage_dtype(t: torch.Tensor) -> torch.dtype:
    """float64 stays float64; every other floating dtype is stored as float32."""
    return torch.float64 if t.dtype == torch.float64 else torch.float32


def _stored(t: torch.Tensor, layer: TracedLayer) -> torch.Tensor:
    """A contiguous copy of `t` in the capture layout, float32 (float64 for a float64 model); a copy:
    an in-place activation or autograd may change the original."""
    return _units_second(t.detach(), layer).to(storage_dtype(t), memory_format=torch.contiguous_format, copy=True)


def _final_hidden(output) -> torch.Tensor | None:
    """An RNN's final hidden state h_n: ``(out, h_n)`` (RNN, GRU) or ``(out, (h_n, c_n))`` (LSTM)."""
    if not isinstance(output, tuple) or len(output) < 2:
        return None
    h = output[1]
    if isinstance(h, (tuple, list)) and h:
        h = h[0]
    return h if isinstance(h, torch.Tensor) and h.is_floating_point() else None


def _last_layer_state(h: torch.Tensor, module: nn.RNNBase) -> torch.Tensor:
    """The last layer's rows of h_n (layers * directions, [n,] units) as ([n,] directions * units), the
    directions side by side as the output sequence orders them."""
    dirs = 2 if module.bidirectional else 1
    last = h[-dirs:]
    return last.movedim(0, -2).reshape(*last.shape[1:-1], -1)


class _Recorder:
    """Forward hooks that keep each layer's first output (and input shape) and, through a tensor hook,
    its gradient, as float32 copies in the capture layout. For an RNN they also keep its last layer's
    final hidden state h_n and its gradient (`z_final`, `dz_final`): `use_final_states` takes those
    when the output sequence got no gradient (the head reads ``h_n[-1]``, not ``out``)."""

    def __init__(self, traced: list[TracedLayer]):
        self.z: dict[str, torch.Tensor] = {}
        self.dz: dict[str, torch.Tensor] = {}
        self.z_final: dict[str, torch.Tensor] = {}
        self.dz_final: dict[str, torch.Tensor] = {}
        self.input_shape: dict[str, tuple[int, ...]] = {}
        self.handles = [t.module.register_forward_hook(self._hook(t)) for t in traced]

    def _final_hook(self, layer: TracedLayer, output) -> None:
        h = _final_hidden(output)
        if h is None:
            return
        module, name = layer.module, layer.name
        self.z_final[name] = _stored(_last_layer_state(h, module), layer)
        if h.requires_grad:
            h.register_hook(lambda grad: self.dz_final.__setitem__(
                name, _stored(_last_layer_state(grad, module), layer)))

    def use_final_states(self) -> None:
        """An RNN whose output sequence got no gradient but whose h_n did is captured from h_n."""
        for name, dz in self.dz_final.items():
            if name not in self.dz:
                self.z[name], self.dz[name] = self.z_final[name], dz

    def _hook(self, layer: TracedLayer):
        name = layer.name

        def record(module, inputs, output):
            out = first_tensor_of(output)
            if name in self.z or out is None or not out.is_floating_point():
                return
            self.z[name] = _stored(out, layer)
            x = first_tensor_of(tuple(inputs))
            if x is not None:
                self.input_shape[name] = tuple(x.shape)
            if out.requires_grad:
                out.register_hook(lambda grad: self.dz.__setitem__(name, _stored(grad, layer)))
            if layer.kind == "rnn":
                self._final_hook(layer, output)
        return record

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _run(model: nn.Module, batch, target, traced: list[TracedLayer], output) -> _Recorder:
    target = check_target(target, batch_size(batch))
    recorder = _Recorder(traced)
    fast = torch.backends.mha.get_fastpath_enabled()
    try:
        torch.backends.mha.set_fastpath_enabled(False)
        with torch.enable_grad(), torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(SEED)  # CPU only: torch.manual_seed would reseed CUDA unrestored
            try:
                out = call(model, batch)
            except Exception as error:  # noqa: BLE001 - whatever the model raises is the user's batch or model
                raise rejected_batch("batch", batch, error) from None
            out = select_output(out, output)
            if not out.requires_grad:
                raise ArgumentError("model", "the selected output does not depend on any parameter "
                                    "(no gradient can reach the layers)")
            loss = loss_of(out, target)
            del out
            try:
                loss.backward()
            except Exception as error:  # noqa: BLE001
                raise ArgumentError("model", f"the backward pass failed: {first_line(error)}") from None
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
        recorder.remove()
    recorder.use_final_states()
    return recorder


def capture_torch(model: nn.Module, batch, target=None, traced: list[TracedLayer] | None = None,
                  output: str | int | None = None) -> list[Capture]:
    """One Capture per layer of `model` on `batch` (a tensor or a dict of tensors) that the loss reaches
    (see the module docstring); `traced` is ``layers(model, batch)`` when the caller has discovered the
    model already (else the layers are discovered during the pass); `output` selects the model's output
    (`initlab.torch.inputs.select_output`)."""
    return _capture(model, batch, target, traced, output)[0]


def capture_and_discover(model: nn.Module, batch, target=None, output: str | int | None = None):
    """(captures, `initlab.torch.discover.Structure`) from one forward+backward pass: the layers are
    discovered by hooks during the very pass that captures them (no extra forward pass; the pass runs in
    training mode, see the module doc)."""
    return _capture(model, batch, target, None, output)


def _every_layer(model: nn.Module) -> list[TracedLayer]:
    """Every weight-bearing module (first name; the root only when it is one), to record before the pass
    says which are called and in what order."""
    return [TracedLayer(name, m, None, "identity", kind_of(m)) for name, m in model.named_modules()
            if kind_of(m) in WEIGHT_KINDS]


def _capture(model: nn.Module, batch, target, traced, output):
    batch = check_batch(batch)
    check_target(target, batch_size(batch))  # before any forward pass
    params = list(model.parameters())
    saved = [(p, p.grad, p.requires_grad) for p in params]
    recorded = _every_layer(model) if traced is None else traced
    with kept(model):
        try:
            for p in params:
                p.grad = None
            for t in recorded:
                for p in t.module.parameters():
                    p.requires_grad_(True)
            model.train()
            discovery = DiscoveryHooks(model) if traced is None else None
            try:
                recorder = _run(model, batch, target, recorded, output)
            finally:
                if discovery is not None:
                    discovery.remove()
            structure = discovery.structure(model) if discovery is not None else None
            found = traced if structure is None else structure.layers
            captures = [_capture_one(t, recorder) for t in found if t.name in recorder.z and t.name in recorder.dz]
            return captures, structure
        finally:
            for p, grad, requires in saved:
                p.grad = grad
                p.requires_grad_(requires)


def unreached(traced: list[TracedLayer], captures: list[Capture]) -> list[str]:
    """Names of the discovered layers the loss did not reach (no Capture: e.g. BERT's pooler when the
    target is last_hidden_state)."""
    seen = {c.name for c in captures}
    return [t.name for t in traced if t.name not in seen]


def _view(t: torch.Tensor | None) -> np.ndarray | None:
    """A read-only NumPy array of `t` (`storage_dtype`): a view when `t` is already that on the CPU."""
    if t is None:
        return None
    t = t.detach()
    if t.layout != torch.strided:
        t = t.to_dense()
    array = t.to("cpu", storage_dtype(t)).numpy()
    array.flags.writeable = False
    return array


def _rows(layer: TracedLayer, w: torch.Tensor) -> torch.Tensor:
    """The layer's weight (or its gradient) as (units, fan_in) rows (`initlab.diagnose.capture` layouts)."""
    m, kind = layer.module, layer.kind
    if kind == "hf_conv1d":
        return w.t()
    if kind == "conv_transpose":  # (in, out/groups, *k) -> (out, in/groups * k)
        g = m.groups
        w = w.reshape(g, w.shape[0] // g, w.shape[1], -1).permute(0, 2, 1, 3)
        return w.reshape(m.out_channels, -1)
    if kind == "embedding":
        return w.t()
    return w.reshape(w.shape[0], -1)


def _rnn_rows(m: nn.RNNBase) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The last layer's recurrent weights (and gradients) as (units, gates * hidden): each output unit's
    gate rows side by side, both directions stacked as the output orders them; with proj_size the
    projection weight_hr (units = proj_size)."""
    last = m.num_layers - 1
    suffixes = [f"_l{last}"] + ([f"_l{last}_reverse"] if m.bidirectional else [])
    rows, grads = [], []
    for suffix in suffixes:
        if m.proj_size:
            w = getattr(m, f"weight_hr{suffix}")
            rows.append(w), grads.append(w.grad)
            continue
        w = getattr(m, f"weight_hh{suffix}")
        h = m.hidden_size
        arrange = lambda t: None if t is None else t.reshape(-1, h, t.shape[1]).permute(1, 0, 2).reshape(h, -1)
        rows.append(arrange(w)), grads.append(arrange(w.grad))
    grad = None if any(g is None for g in grads) else torch.cat(grads)
    return torch.cat(rows), grad


def _weights(layer: TracedLayer):
    """(weight rows, bias, weight-gradient rows, fan_in, fan_out, outputs_per_input or None)."""
    m, kind = layer.module, layer.kind
    if kind == "attention":
        w, b = m.out_proj.weight, m.out_proj.bias
        return w, b, w.grad, m.embed_dim, m.embed_dim, None
    if kind == "rnn":
        w, grad = _rnn_rows(m)
        return w, None, grad, m.hidden_size, w.shape[0], None  # weight_hh (or weight_hr) rows read H values
    w = m.weight
    rows = _rows(layer, w)
    grad = None if w.grad is None else _rows(layer, w.grad.to_dense() if w.grad.is_sparse else w.grad)
    if kind == "embedding":
        return rows, None, grad, 1, rows.shape[0], None
    fan = weight_fans(m, kind)
    return rows, getattr(m, "bias", None), grad, max(1, round(fan.fan_in)), int(fan.fan_out), None


def _capture_one(t: TracedLayer, recorder: _Recorder) -> Capture:
    z = recorder.z[t.name]
    with torch.no_grad():
        a = z if t.activation is None else t.activation(z.clone()).to(z.dtype)
    w, bias, grad, fan_in, fan_out, feeds = _weights(t)
    if grad is None:
        grad = torch.zeros_like(w)
    if t.kind == "conv" and t.name in recorder.input_shape:
        dims = len(t.module.kernel_size)  # the last `dims` axes are spatial, batched or not
        feeds = conv_outputs_per_input(t.module, recorder.input_shape[t.name][-dims:], tuple(z.shape[-dims:]))
    z_array = _view(z)
    return Capture(
        name=t.name, kind=CAPTURE_KIND[t.kind], z=z_array, a=z_array if a is z else _view(a),
        dz=_view(recorder.dz[t.name]),
        weight=_view(w), bias=_view(bias), weight_grad=_view(grad), activation=theory_activation(t),
        fan_in=int(fan_in), fan_out=int(fan_out), outputs_per_input=feeds, module_type=type(t.module).__name__)


def describe_torch(model: nn.Module, captures: list[Capture]) -> str:
    """'Sequential, 31 layers (31 Linear), relu': class, layers by module type, hidden activations."""
    counts: dict[str, int] = {}
    for c in captures:
        counts[c.module_type] = counts.get(c.module_type, 0) + 1
    parts = [f"{count} {name}" for name, count in counts.items()]
    acts = list(dict.fromkeys(c.activation_name for c in captures[:-1])) or ["identity"]
    return f"{type(model).__name__}, {len(captures)} layers ({', '.join(parts)}), {'/'.join(acts)}"


def untreated_modules(model: nn.Module) -> dict[str, int]:
    """Modules with parameters of their own that are not weight-bearing layers (BatchNorm, LayerNorm, a
    user's module holding a LayerScale gamma, ...), counted by class: the theory's chain of layers and
    elementwise activations does not describe them, so the expected values around them are approximate.

    >>> untreated_modules(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1)))
    {'BatchNorm1d': 1}
    """
    counts: dict[str, int] = {}
    for module in model.modules():
        own = any(True for _ in module.parameters(recurse=False))
        if own and kind_of(module) not in WEIGHT_KINDS:
            counts[type(module).__name__] = counts.get(type(module).__name__, 0) + 1
    return counts
