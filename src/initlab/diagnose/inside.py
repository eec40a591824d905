"""What happens inside the modules the chain theory does not model, measured in the diagnosis's own pass.

`recording(model)` is a context manager that puts forward hooks on a model's normalization, attention
and recurrent modules for the duration of one forward pass (`initlab.diagnose.doctor` wraps the
probe's pass in it; nothing is run twice), removes them afterwards and yields the `Inside`
(`initlab.diagnose.findings`) they fill. It records, at each module's first call:

- normalization layers (`initlab.torch.kinds.is_norm`): the root mean square of their input, per
  entry. In a pre-LN transformer the inputs of the blocks' norms *are* the residual stream, in a
  post-LN one the sum x + f(x) before it is normalized. A norm whose input is its parent module's own
  input (a pre-norm block reading what it was given) is marked ``stream``: its rms is the residual
  stream's at that block;
- attention (``nn.MultiheadAttention``; a Hugging Face self-attention module with ``query``/``key``
  or ``q_proj``/``k_proj`` Linear children, or GPT-2's ``c_attn``): the attention logits
  q.k * scaling (``1/sqrt(head_dim)`` unless the module says otherwise), their std over every
  (sample, head, query, key), and the share of query rows whose softmax puts more than
  `ONE_HOT` = 0.99 on one key: a saturated softmax, through which almost no gradient flows (masks are
  not applied: a statement about the scale of the logits; on the first `SAMPLES` = 64 samples);
- recurrent layers (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``; forward direction, PackedSequence inputs and
  ``proj_size`` skipped): every gate of every step of every layer recomputed from the weights and the
  recorded input, and the share of gate entries within `initlab.diagnose.stats.SATURATION_MARGIN` of a
  flat side (sigmoid gates near 0 or 1, tanh near -1 or 1; the elementwise activations' rule), on
  the first `SAMPLES` samples.

`small_scales(model)` lists the intentionally small branches a model's parameters show: a parameter
of no layer kind with at most one dimension whose entries are all below `SMALL` in size (a LayerScale
gamma, 1e-6 in ConvNeXt; ReZero/SkipInit alpha = 0) and a normalization weight that is all zeros (a
block's last norm zero-initialised, ``zero_init_residual``). The layers in the same block (the
parameter's module, or the norm's parent) are behind it: their gradient is scaled down by design.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch import nn

from initlab.diagnose.findings import ONE_HOT, SMALL, AttentionLogits, Gates, Inside, NormInput, SmallScale
from initlab.diagnose.stats import SATURATION_MARGIN
from initlab.torch.attention import hf_projections, hf_query_key, hf_scaling, mha_query_key, mha_scaling
from initlab.torch.kinds import inventory, is_norm

SAMPLES = 64  # samples of the batch the attention logits and the recurrent gates are measured on


@contextmanager
def recording(model: nn.Module):
    """Yields an `Inside` that the forward pass run inside the ``with`` block fills (module doc)."""
    found = Inside(small=small_scales(model))
    modules = dict(model.named_modules())
    handles, seen, entry = [], set(), {}
    try:
        for name, module in modules.items():
            handles += _hooks(name, module, found, seen, entry)
        parents = {name.rpartition(".")[0] for name, module in modules.items() if is_norm(module)}
        for parent in parents:  # what each norm's parent receives: is the norm reading the stream?
            handles.append(modules[parent].register_forward_pre_hook(_entry_hook(parent, entry)))
        yield found
    finally:
        for handle in handles:
            handle.remove()


def _once(name: str, seen: set[str]) -> bool:
    if name in seen:
        return False
    seen.add(name)
    return True


def _first_tensor(values) -> torch.Tensor | None:
    for value in values:
        if isinstance(value, torch.Tensor):
            return value
    return None


def _entry_hook(parent: str, entry: dict):
    def hook(module, args):  # returns None: a pre-hook's return value would replace the arguments
        entry.setdefault(parent, _identity(_first_tensor(args)))
    return hook


def _identity(x: torch.Tensor | None) -> tuple | None:
    return None if x is None else (x.data_ptr(), tuple(x.shape), tuple(x.stride()))


def _quietly(measure) -> None:
    """Run one measurement under no_grad; a module laid out otherwise than expected (grouped-query
    attention, rotary embeddings, ...) gives no measurement rather than breaking the user's pass."""
    try:
        with torch.no_grad():
            measure()
    except Exception:  # noqa: BLE001 - best effort: the pass itself must go on
        pass


def _keep(outputs: dict, role: str):
    def hook(module, args, output):  # returns None: a forward hook's return value would replace the output
        outputs.setdefault(role, output)
    return hook


def _hooks(name: str, module: nn.Module, found: Inside, seen: set[str], entry: dict) -> list:
    if is_norm(module):
        def norm_hook(m, args, output):
            x = _first_tensor(args)
            if x is not None and x.is_floating_point() and _once(name, seen):
                parent = entry.get(name.rpartition(".")[0])
                _quietly(lambda: found.norms.append(NormInput(name, type(m).__name__, _rms(x), parent == _identity(x))))
        return [module.register_forward_hook(norm_hook)]
    if isinstance(module, nn.MultiheadAttention):
        def mha_hook(m, args, kwargs):
            query = args[0] if args else kwargs.get("query")
            key = args[1] if len(args) > 1 else kwargs.get("key", query)
            if isinstance(query, torch.Tensor) and _once(name, seen):
                _quietly(lambda: found.attention.append(_mha_logits(name, m, query, key)))
        return [module.register_forward_pre_hook(mha_hook, with_kwargs=True)]
    if isinstance(module, nn.RNNBase):
        def rnn_hook(m, args, kwargs):
            x = args[0] if args else kwargs.get("input")
            hx = args[1] if len(args) > 1 else kwargs.get("hx")
            if isinstance(x, torch.Tensor) and m.proj_size == 0 and _once(name, seen):
                _quietly(lambda: found.gates.append(_gates(name, m, x, hx)))
        return [module.register_forward_pre_hook(rnn_hook, with_kwargs=True)]
    projections = hf_projections(module)
    if projections is not None:
        outputs: dict[str, torch.Tensor] = {}
        handles = [child.register_forward_hook(_keep(outputs, role)) for role, child in projections.items()]

        def hf_hook(m, args, output):
            if ("c_attn" in outputs or {"q", "k"} <= outputs.keys()) and _once(name, seen):
                _quietly(lambda: found.attention.append(_hf_logits(name, m, outputs)))
        return handles + [module.register_forward_hook(hf_hook)]
    return []


def _rms(x: torch.Tensor) -> float:
    return float(x.detach().double().square().mean().sqrt())


def _logits_stats(name: str, q: torch.Tensor, k: torch.Tensor, scaling: float) -> AttentionLogits:
    """q, k: (batch, heads, length, head_dim); the first `SAMPLES` samples of the batch (the logits are
    samples x heads x length^2 numbers: a long sequence needs no more to measure their scale)."""
    q, k = q[:SAMPLES], k[:SAMPLES]
    logits = (q.double() @ k.double().transpose(-1, -2)) * scaling
    top = torch.softmax(logits, dim=-1).amax(dim=-1)
    return AttentionLogits(name, float(logits.std()) if logits.numel() > 1 else 0.0,
                           float((top > ONE_HOT).double().mean()), int(q.shape[1]), int(k.shape[2]))


def _mha_logits(name: str, m: nn.MultiheadAttention, query: torch.Tensor, key: torch.Tensor) -> AttentionLogits:
    q, k = mha_query_key(m, query, key)
    return _logits_stats(name, q, k, mha_scaling(m))


def _hf_logits(name: str, module: nn.Module, outputs: dict[str, torch.Tensor]) -> AttentionLogits:
    q, k = hf_query_key(module, outputs)
    return _logits_stats(name, q, k, hf_scaling(module))


GATE_NAMES = {"LSTM": ("input", "forget", "cell", "output"), "GRU": ("reset", "update", "new")}


def _flat(x: torch.Tensor, sigmoid: bool) -> torch.Tensor:
    """Entries within SATURATION_MARGIN of a flat side: sigmoid 0 or 1, tanh -1 or 1."""
    low = 0.0 if sigmoid else -1.0
    return (x < low + SATURATION_MARGIN) | (x > 1.0 - SATURATION_MARGIN)


def _gates(name: str, m: nn.RNNBase, x: torch.Tensor, hx) -> Gates:
    """The share of gate entries at a flat side, over every gate, step and layer (module doc)."""
    if not isinstance(x, torch.Tensor) or x.dim() not in (2, 3):
        return Gates(name, type(m).__name__, math.nan, {})
    flat, _ = recurrent_pass(m, x, hx, SAMPLES)
    shares = {label: float(torch.cat([v.flatten() for v in values]).double().mean())
              for label, values in flat.items() if values}
    everything = [v.flatten() for values in flat.values() for v in values]
    share = float(torch.cat(everything).double().mean()) if everything else math.nan
    return Gates(name, type(m).__name__, share, shares)


def recurrent_pass(m: nn.RNNBase, x: torch.Tensor, hx=None,
                   samples: int | None = None) -> tuple[dict[str, list[torch.Tensor]], torch.Tensor]:
    """The forward direction of RNN `m` on `x` (its first `samples` samples; None: all) recomputed step by
    step in float64: (per gate, its flat entries at every step of every layer; the last layer's outputs
    (length, batch, hidden)), the outputs equal to torch's own (a test checks). A bidirectional RNN stops
    after its first layer."""
    seq = x.double()
    if seq.dim() == 2:  # unbatched (length, in): one sample
        seq = seq[:, None]
    elif m.batch_first:
        seq = seq.transpose(0, 1)  # (length, batch, in)
    seq = seq[:, :samples]
    if hx is not None and samples is not None:  # the states of the same samples
        hx = tuple(h[..., :samples, :] if h.dim() == 3 else h for h in hx) if isinstance(hx, tuple) else \
            (hx[..., :samples, :] if hx.dim() == 3 else hx)
    mode = type(m).__name__ if type(m).__name__ in GATE_NAMES else "RNN"
    labels = GATE_NAMES.get(mode, ("hidden",))
    flat: dict[str, list[torch.Tensor]] = {label: [] for label in labels}
    directions = 2 if m.bidirectional else 1
    for layer in range(m.num_layers):
        w_ih, w_hh = getattr(m, f"weight_ih_l{layer}").double(), getattr(m, f"weight_hh_l{layer}").double()
        b_ih, b_hh = (getattr(m, f"{b}_l{layer}", None) for b in ("bias_ih", "bias_hh"))
        b_ih = 0.0 if b_ih is None else b_ih.double()
        b_hh = 0.0 if b_hh is None else b_hh.double()
        h = _initial(hx, layer * directions, seq.shape[1], m.hidden_size, mode, 0)
        c = _initial(hx, layer * directions, seq.shape[1], m.hidden_size, mode, 1)
        outputs = []
        for x_t in seq:
            gi, gh = x_t @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            if mode == "LSTM":
                i, f, g, o = (gi + gh).chunk(4, dim=-1)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                gates = zip(labels, (i, f, g, o), (True, True, False, True))
            elif mode == "GRU":
                ir, iz, in_ = gi.chunk(3, dim=-1)
                hr, hz, hn = gh.chunk(3, dim=-1)
                r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
                n = torch.tanh(in_ + r * hn)
                h = (1 - z) * n + z * h
                gates = zip(labels, (r, z, n), (True, True, False))
            else:
                tanh = m.nonlinearity == "tanh"
                h = torch.tanh(gi + gh) if tanh else torch.relu(gi + gh)
                gates = [("hidden", h, False)] if tanh else []  # relu has no flat side to saturate on
            for label, value, sigmoid in gates:
                flat[label].append(_flat(value, sigmoid))
            outputs.append(h)
        seq = torch.stack(outputs)
        if m.bidirectional:  # the next layer reads both directions: not recomputed here
            break
    return flat, seq


def _initial(hx, index: int, batch: int, hidden: int, mode: str, part: int) -> torch.Tensor:
    """Layer `index`'s initial hidden (`part` 0) or cell (`part` 1, LSTM) state; zeros when not given."""
    if hx is None or (part == 1 and mode != "LSTM"):
        return torch.zeros(batch, hidden, dtype=torch.float64)
    state = hx[part] if mode == "LSTM" else hx
    state = state.double()
    return state[index] if state.dim() == 3 else state[index][None]


def small_scales(model: nn.Module) -> list[SmallScale]:
    """The intentionally small branches of `model`'s parameters (module doc)."""
    found = []
    for entry in inventory(model):
        p = entry.parameter.detach()
        if p.numel() == 0 or not p.is_floating_point():
            continue
        largest = float(p.abs().max())
        if entry.kind is None and p.dim() <= 1 and largest <= SMALL:
            what = "a zero branch scale (ReZero/SkipInit alpha = 0)" if largest == 0 else \
                f"a small branch scale (LayerScale gamma, {largest:.2g})"
            found.append(SmallScale(entry.name, largest, entry.module_name, what))
        elif entry.kind == "norm" and entry.role in ("weight", "norm_weight") and largest == 0:
            block = entry.module_name.rpartition(".")[0]
            found.append(SmallScale(entry.name, 0.0, block, "a zero-initialised norm weight (the block's last norm)"))
    return found
